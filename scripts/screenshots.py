"""Write screenshots/*.svg from the real app against the sandbox engine (started and seeded if needed).

python3 scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from imgtui.engine import Engine
from imgtui.sandbox import Sandbox
from imgtui.sandbox.seed import seed
from imgtui.ui.app import ImgtuiApp

OUT = Path(__file__).resolve().parent.parent / "screenshots"


async def until(pilot: Pilot[None], predicate: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {predicate}")
        await pilot.pause(0.05)


async def to_row(pilot: Pilot[None], table, wanted: Callable[[object], bool]) -> None:  # type: ignore[no-untyped-def]
    table.focus()
    for _ in range(table.row_count + 1):
        if table.current is not None and wanted(table.current):
            return
        await pilot.press("j")


async def shoot(host: str, name: str, size: tuple[int, int], keys: tuple[str, ...] = ()) -> None:
    engine = Engine.connect(host)
    app = ImgtuiApp(engine)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.loaded and app.disk_used is not None)
        await to_row(pilot, app.repos, lambda r: r.name == "commit_test")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await to_row(pilot, app.tags, lambda t: t.tag == "second")  # type: ignore[attr-defined]
        await until(pilot, lambda: app.layers.row_count > 1 and not app.layers.pending)
        await pilot.press("enter", *keys)
        await pilot.pause(0.3)
        app.save_screenshot(str(OUT / name))
    engine.close()
    print(f"screenshots: wrote {OUT / name}")


async def main() -> None:
    box = Sandbox()
    box.start()
    seed(box.docker_host, box.registry)
    OUT.mkdir(exist_ok=True)
    await shoot(box.docker_host, "imgtui.svg", (120, 36))
    await shoot(box.docker_host, "imgtui-80x24.svg", (80, 24))
    await shoot(box.docker_host, "help.svg", (100, 30), ("question_mark",))
    await shoot(box.docker_host, "filter.svg", (120, 36), ("shift+tab", "shift+tab", "slash", *"my"))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
