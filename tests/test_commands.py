"""The command table (imgtui/ui/commands.py) is the one place keys are written: every handler it names
exists, the bindings come from it, and the README's key table is the table's own."""

from __future__ import annotations

from pathlib import Path

from imgtui.ui import commands
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.commands import COMMANDS, Where
from imgtui.ui.screens.compare import CompareScreen
from imgtui.ui.screens.containers import ContainersScreen
from imgtui.ui.screens.contents import ContentsScreen
from imgtui.ui.screens.file import FileScreen
from imgtui.ui.screens.fleet import FleetScreen
from imgtui.ui.screens.images import FEATURE_IDS, ImagesScreen
from imgtui.ui.screens.images import FEATURES as IMAGES_FEATURES
from imgtui.ui.screens.inspect import InspectScreen
from imgtui.ui.screens.logs import LogsScreen
from imgtui.ui.screens.registry import RegistryScreen
from imgtui.ui.screens.search import SearchScreen
from imgtui.ui.screens.usage import UsageScreen

SCREENS: dict[Where, type] = {s.WHERE: s for s in (ImagesScreen, ContainersScreen, RegistryScreen,
                                                    InspectScreen, SearchScreen, ContentsScreen,
                                                    FileScreen, CompareScreen, LogsScreen,
                                                    UsageScreen, FleetScreen)}  # fmt: skip
SCREENS[Where.EVERYWHERE] = ImgtuiApp
FEATURES = {FEATURE_IDS[f]: f for f in IMAGES_FEATURES}


def test_every_handler_exists() -> None:
    for command in COMMANDS:
        if not command.handler:
            continue
        owner = {"app": ImgtuiApp, "screen": SCREENS.get(command.where)}.get(command.handler)
        owner = owner or FEATURES.get(command.handler)
        assert owner is not None, f"{command.name}: no {command.handler}"
        assert callable(getattr(owner, f"command_{command.name}", None)), (
            f"{owner.__name__}.command_{command.name}"
        )


def test_bindings_come_from_the_table() -> None:
    for where, screen in SCREENS.items():
        bound = {b.id for b in screen.BINDINGS}  # type: ignore[attr-defined,union-attr]
        wanted = {c.name for c in COMMANDS if c.where is where and c.keys and c.handler and c.bind}
        assert bound == wanted, where


def test_keys_are_not_bound_twice_in_one_view() -> None:
    for where in Where:
        keys = [k for c in COMMANDS if c.where is where and c.bind for k in c.keys.split(",") if k]
        assert len(keys) == len(set(keys)), where


def test_the_readme_key_table_is_the_command_table() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Keys\n", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|")) + "\n"
    assert table == commands.readme_table(), "regenerate it: python -m imgtui.ui.commands"
