"""Every screen as it is drawn, at 80x24 and 120x36 (pytest-textual-snapshot: the SVGs under
tests/__snapshots__; `pytest tests/test_snapshots.py --snapshot-update` writes them anew after a change that
is meant, and the diff of the SVGs shows what changed). The data is fixed (tests/fixed.py) so that IDs and
times are the same in every run; what the engine does is tested against the real one elsewhere."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.screens.containers import ContainersScreen
from imgtui.ui.screens.inspect import InspectScreen
from imgtui.ui.screens.registry import RegistryScreen
from imgtui.ui.screens.search import SearchScreen
from tests.conftest import wait_for
from tests.fixed import FixedEngine, FixedRegistry

SIZES = [(80, 24), (120, 36)]


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk figure is read at once rather than after a burst of changes: the same picture, sooner."""
    from imgtui.ui.screens import images

    monkeypatch.setattr(images, "DISK_USAGE_DELAY", 0.01)


Steps = Callable[[Pilot[None], ImgtuiApp], Awaitable[None]]


async def ready(pilot: Pilot[None], app: ImgtuiApp) -> None:
    images = app.images
    await wait_for(pilot, lambda: images.loaded and images.disk_used is not None)
    await wait_for(pilot, lambda: images.layer_table.row_count > 0 and not images.layer_table.pending)


async def on_second(pilot: Pilot[None], app: ImgtuiApp) -> None:
    """The seeds' commit_test:second with its two commit layers."""
    await ready(pilot, app)
    await pilot.press("j", "j", "enter")
    images = app.images
    await wait_for(pilot, lambda: images.layer_table.row_count == 3 and not images.layer_table.pending)
    await pilot.pause(0.1)


async def removal_refused(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await ready(pilot, app)
    await pilot.press("j", "j", "enter", "d")
    await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))


async def prune(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await ready(pilot, app)
    await pilot.press("D")
    await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))


async def help_screen(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await ready(pilot, app)
    await pilot.press("question_mark")
    await pilot.pause(0.1)


async def containers(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await ready(pilot, app)
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.loaded)


async def inspect(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await on_second(pilot, app)
    await pilot.press("i")
    await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen))
    await pilot.pause(0.1)


async def search(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await ready(pilot, app)
    await pilot.press("f", *"busybox", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
    await pilot.pause(0.1)


async def registry(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await ready(pilot, app)
    screen = RegistryScreen(FixedRegistry())
    app.push_screen(screen)
    await wait_for(pilot, lambda: screen.repos.row_count == 3)
    await pilot.press("j", "j", "enter")
    await wait_for(pilot, lambda: screen.tags.row_count == 2 and all(r.loaded for r in screen.tags.items))
    await wait_for(pilot, lambda: screen.layer_table.row_count == 2)
    await pilot.pause(0.1)


async def contents(pilot: Pilot[None], app: ImgtuiApp) -> None:
    """commit_test:second's top layer: what it changed, /etc opened."""
    from imgtui.ui.screens.contents import ContentsScreen

    await on_second(pilot, app)
    await pilot.press("tab", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ContentsScreen) and app.screen.files is not None)
    await pilot.press("tab")
    screen = app.screen
    await wait_for(pilot, lambda: screen.files is not None and screen.files.count() > 5)  # type: ignore[attr-defined]
    await pilot.press("down", "down", "enter")
    await pilot.pause(0.1)


VIEWS: dict[str, Steps] = {
    "images": on_second,
    "remove-refused": removal_refused,
    "prune": prune,
    "help": help_screen,
    "containers": containers,
    "inspect": inspect,
    "search": search,
    "registry": registry,
    "contents": contents,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", list(VIEWS))
def test_screen(snap_compare, view: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = ImgtuiApp(FixedEngine(), live=False)

    async def steps(pilot: Pilot[None]) -> None:
        await VIEWS[view](pilot, app)

    assert snap_compare(app, terminal_size=size, run_before=steps)
