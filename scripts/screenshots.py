"""Write screenshots/*.svg from the real app against the sandbox engine (started and seeded if needed).

python3 scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import docker
from textual.pilot import Pilot
from textual.widgets import Input

from imgtui.engine import Engine
from imgtui.fleet import Fleet
from imgtui.fleet.specs import parse
from imgtui.registry import Registry
from imgtui.sandbox import Sandbox, default_state
from imgtui.sandbox.seed import run_and_commit, seed
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.dialogs.policy import PolicyDialog
from imgtui.ui.screens.compare import CompareScreen
from imgtui.ui.screens.contents import ContentsScreen
from imgtui.ui.screens.registry import RegistryScreen

OUT = Path(__file__).resolve().parent.parent / "screenshots"


async def until(pilot: Pilot[None], predicate: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            where = f"{predicate.__code__.co_filename}:{predicate.__code__.co_firstlineno}"
            log = getattr(pilot.app, "outcome", None)
            lines = log.lines_text if log is not None else []
            raise SystemExit(f"screenshots: timed out at {where} on screen {pilot.app.screen}; log: {lines}")
        await pilot.pause(0.05)


async def to_row(pilot: Pilot[None], table, wanted: Callable[[object], bool]) -> None:  # type: ignore[no-untyped-def]
    table.focus()
    await pilot.press("home")
    for _ in range(table.row_count + 1):
        if table.current is not None and wanted(table.current):
            return
        await pilot.press("j")


Steps = Callable[[Pilot[None], ImgtuiApp], Awaitable[None]]


async def to_tag(pilot: Pilot[None], app: ImgtuiApp, repo: str, tag: str) -> None:
    await to_row(pilot, app.images.repos, lambda r: r.name == repo)  # type: ignore[attr-defined]
    await pilot.press("enter")
    await to_row(pilot, app.images.tags, lambda t: t.tag == tag)  # type: ignore[attr-defined]
    await until(pilot, lambda: app.images.layer_table.row_count > 0 and not app.images.layer_table.pending)


async def shoot(
    host: str, name: str, size: tuple[int, int], steps: Steps, fleet: Fleet | None = None
) -> None:
    engine = Engine.connect(host)
    app = ImgtuiApp(engine, fleet=fleet)
    async with app.run_test(size=size) as pilot:
        if fleet is None:
            await until(pilot, lambda: app.images.loaded and app.images.disk_used is not None)
        await steps(pilot, app)
        await pilot.pause(0.3)
        app.save_screenshot(str(OUT / name))
    engine.close()
    print(f"screenshots: wrote {OUT / name}")


async def layers(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await to_tag(pilot, app, "commit_test", "second")
    await pilot.press("enter")


async def help_screen(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await layers(pilot, app)
    await pilot.press("question_mark")


async def filtering(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await pilot.press("slash", *"my")


async def refused(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await to_tag(pilot, app, "commit_test", "first")
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))


async def outcome(pilot: Pilot[None], app: ImgtuiApp) -> None:
    """Tag busybox with a scratch name, then remove that name: the log shows the engine's answer."""
    await to_tag(pilot, app, "busybox", "latest")
    await pilot.press("t")
    await until(pilot, lambda: isinstance(app.focused, Input))
    await pilot.press("ctrl+u", *"scratch/copy:1", "enter")
    await until(pilot, lambda: "scratch/copy" in {r.name for r in app.images.repos.items})
    await to_tag(pilot, app, "scratch/copy", "1")
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
    await pilot.press("y")
    await until(pilot, lambda: any(line.startswith("Reclaimed") for line in app.images.outcome.lines_text))
    await to_tag(pilot, app, "commit_test", "second")


async def prune(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await pilot.press("D")
    await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))


async def cleanup_plan(pilot: Pilot[None], app: ImgtuiApp) -> None:
    """C: keep the newest image of each repository, protect busybox; the plan."""
    await pilot.press("C")
    await until(pilot, lambda: isinstance(app.screen, PolicyDialog))
    await pilot.press("1", "tab", "tab", *"busybox", "enter")
    await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))


def in_registry(address: str, repo: str, key: str, then: str = "") -> Steps:
    """R, the sandbox registry, a repository, a tag row (and a key, e.g. d)."""

    async def steps(pilot: Pilot[None], app: ImgtuiApp) -> None:
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.focused, Input))
        await pilot.press("ctrl+u", *address, "enter")
        await until(pilot, lambda: isinstance(app.screen, RegistryScreen))
        screen = app.screen
        assert isinstance(screen, RegistryScreen)
        await until(pilot, lambda: screen.catalog_done)
        await to_row(pilot, screen.repos, lambda r: r == repo)
        await pilot.press("enter")
        await until(pilot, lambda: screen.tags.row_count > 0 and all(r.loaded for r in screen.tags.items))
        await to_row(pilot, screen.tags, lambda r: r.key == key)  # type: ignore[attr-defined]
        await until(pilot, lambda: screen.layers_for == key and screen.layer_table.row_count > 0)
        if then:
            await pilot.press(then)
            await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))

    return steps


async def containerd_removal(pilot: Pilot[None], app: ImgtuiApp) -> None:
    await to_tag(pilot, app, "demo/app", "latest")
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, ChoiceDialog))


WASTE_STEPS = (
    "mkdir -p /srv/cache && head -c 300000 /dev/urandom > /srv/cache/build.bin && "
    "head -c 120000 /dev/urandom > /srv/app.bin && echo 'listen 8080' > /srv/app.conf",
    "rm -r /srv/cache && head -c 150000 /dev/urandom > /srv/app.bin && chmod 600 /srv/app.conf",
)


def wasteful(api: docker.APIClient) -> None:
    """demo/waste:2: a build cache left in one layer and deleted in the next, a binary rewritten."""
    if "demo/waste:2" in {n for i in api.images() for n in i.get("RepoTags") or ()}:
        return
    run_and_commit(api, "busybox:latest", "waste-1", ["sh", "-c", WASTE_STEPS[0]], "demo/waste", "1",
                   remove=True)  # fmt: skip
    run_and_commit(api, "demo/waste:1", "waste-2", ["sh", "-c", WASTE_STEPS[1]], "demo/waste", "2",
                   remove=True)  # fmt: skip


async def contents(pilot: Pilot[None], app: ImgtuiApp) -> None:
    """enter on the layer that deleted the build cache: what it changed, with the waste in the summary."""
    await to_tag(pilot, app, "demo/waste", "2")
    table = app.images.layer_table
    table.focus()
    await pilot.press("home")
    await until(pilot, lambda: table.current is not None)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ContentsScreen) and app.screen.files is not None, 60)
    await pilot.press("down", "right", "down")


async def compare_two(pilot: Pilot[None], app: ImgtuiApp) -> None:
    """demo/waste:1 marked, :2 under the cursor, =."""
    await to_tag(pilot, app, "demo/waste", "1")
    await pilot.press("space")
    await to_row(pilot, app.images.tags, lambda t: t.tag == "2")  # type: ignore[attr-defined]
    await pilot.press("equals_sign")
    await until(pilot, lambda: isinstance(app.screen, CompareScreen), 60)


def remote_status(address: str) -> Steps:
    async def steps(pilot: Pilot[None], app: ImgtuiApp) -> None:
        await to_tag(pilot, app, f"{address}/team/tools", "stable")
        await until(pilot, lambda: "registry: differs" in str(app.images.layer_table.border_title))

    return steps


async def main() -> None:
    box = Sandbox()
    box.start()
    seed(box.docker_host, box.registry)
    api = docker.APIClient(base_url=box.docker_host, version="auto")
    if "scratch/copy:1" in {n for i in api.images() for n in i.get("RepoTags") or ()}:
        api.remove_image("scratch/copy:1")  # left by an interrupted run
    # the seed's "differs" state, which a pull in the demo undoes
    api.tag("commit_test:first", f"{box.registry}/team/tools", "stable")
    OUT.mkdir(exist_ok=True)
    host = box.docker_host
    await shoot(host, "imgtui.svg", (120, 36), layers)
    await shoot(host, "imgtui-80x24.svg", (80, 24), layers)
    await shoot(host, "help.svg", (100, 34), help_screen)
    await shoot(host, "filter.svg", (120, 36), filtering)
    await shoot(host, "remove-refused.svg", (100, 30), refused)
    await shoot(host, "outcome-log.svg", (120, 36), outcome)
    await shoot(host, "prune.svg", (100, 30), prune)
    await shoot(host, "cleanup.svg", (100, 30), cleanup_plan)
    platform = f"multi@{_platform_digest(box.registry, 'arm64')}"  # the arm64 row of base/os:multi
    await shoot(host, "registry.svg", (120, 36), in_registry(box.registry, "base/os", platform))
    await shoot(host, "registry-delete.svg", (120, 36), in_registry(box.registry, "team/tools", "v2", "d"))
    await shoot(host, "remote-status.svg", (120, 36), remote_status(box.registry))
    wasteful(api)
    await shoot(host, "contents.svg", (120, 36), contents)
    await shoot(host, "contents-80x24.svg", (80, 24), contents)
    await shoot(host, "compare.svg", (120, 36), compare_two)
    # The containerd image store (Docker 29's default): the layers pane says its sizes are disk use, and a
    # removal preview says "about".
    store = Sandbox(default_state("trixie-containerd"), "trixie-containerd")
    store.start()
    seed(store.docker_host, store.registry)
    await shoot(store.docker_host, "containerd-store.svg", (120, 36), containerd_removal)
    fleet = Fleet([parse(host), parse(store.docker_host)], timeout=30.0)
    await shoot(host, "fleet.svg", (120, 36), fleet_found, fleet)


async def fleet_found(pilot: Pilot[None], app: ImgtuiApp) -> None:
    """The fleet view on both sandbox engines, an image found on both."""
    await pilot.pause(4.0)  # both engines on this machine: they answer within a second
    await pilot.press("slash")
    await until(pilot, lambda: bool(app.screen.query(Input)))
    await pilot.press(*"busybox", "enter")
    await pilot.pause(2.0)


def _platform_digest(address: str, arch: str) -> str:
    registry = Registry(address)
    return next(
        p.digest for p in registry.manifest("base/os", "multi").platforms if p.platform.endswith(arch)
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
