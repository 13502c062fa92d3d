"""One process of the layer-contents benchmark (bench/layers_bench.py): `contents_probe.py HOST IMAGE MODE`.

    open      imgtui on HOST, the image's repository opened, enter on its top layer: seconds to the tree on
              screen with the image's layers in the disk cache (IMGTUI_CACHE), then escape and enter again:
              seconds to the tree on screen once more (the analysis kept in memory); then the floor:
              seconds to show a screen of one line of text, in the same app
    decode    seconds to read the image's analysis and its top layer's changes out of the disk cache, nothing
              else (the floor of `open`)
    baseline  imgtui on HOST with the image's repository opened, no contents read

Each prints one JSON line with "rss_mib", the process's peak resident memory.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imgtui.engine import Engine  # noqa: E402


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM: getrusage's maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class FloorScreen(Screen[None]):
    """The floor of a screen change: a screen with one line of text."""

    def compose(self) -> ComposeResult:
        yield Static("floor")


async def press(app: Any, key: str, done: Any, timeout: float = 120, then: Any = None) -> float:
    """Seconds from the key reaching the app (as from a terminal: through its driver, not Pilot, whose press
    waits on the app going idle) to `done()` and a frame written after it."""
    frames: list[float] = []
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        frames.append(time.perf_counter())
        original(screen, renderable)

    app._display = display
    start = time.perf_counter()
    if then is not None:
        then()
    else:
        event = events.Key(key, None)
        event.set_sender(app)
        app._driver.send_message(event)
    shown = 0.0
    while True:
        if time.perf_counter() - start > timeout:
            raise SystemExit("contents_probe: timed out")
        if not shown and done():
            shown = time.perf_counter()
        if shown and frames and frames[-1] > shown:
            break
        await asyncio.sleep(0.0005)
    app._display = original
    return frames[-1] - start


async def until(pilot: Any, done: Any, timeout: float = 120) -> None:
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > timeout:
            raise SystemExit("contents_probe: timed out")
        await asyncio.sleep(0.001)
    await pilot.pause()


async def in_app(host: str, name: str, mode: str) -> dict[str, float]:
    from imgtui.ui.app import ImgtuiApp
    from imgtui.ui.screens.contents import ContentsScreen

    repo, tag = name.split(":")
    engine = Engine.connect(host)
    app = ImgtuiApp(engine)
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.images.loaded)
        app.images.repos.select_key(repo)
        await until(pilot, lambda: app.images.tags.row_count > 0)
        app.images.tags.focus()
        layers = app.images.layer_table
        await until(pilot, lambda: layers.row_count > 0 and not layers.pending)
        layers.focus()
        await pilot.pause(0.3)
        if mode == "open":

            def shown() -> bool:
                screen = app.screen
                return isinstance(screen, ContentsScreen) and screen.files is not None

            out["first"] = await press(app, "enter", shown)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.images)
            await pilot.pause(0.3)
            out["seconds"] = await press(app, "enter", shown)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.images)
            await pilot.pause(0.3)
            floor = FloorScreen()
            out["floor"] = await press(
                app, "", lambda: app.screen is floor, then=lambda: app.push_screen(floor)
            )
    engine.close()
    return out


def decode(host: str, name: str) -> dict[str, float]:
    from imgtui.layers.cache import LayerCache
    from imgtui.layers.sources import from_engine

    engine = Engine.connect(host)
    image = engine.api.inspect_image(name)
    engine.close()

    def refuse() -> Any:
        raise SystemExit("contents_probe: the image is not in the cache")

    start = time.perf_counter()
    analysis = from_engine(name, image, refuse, LayerCache())
    analysis.layers[-1].changes  # noqa: B018 - decoded when first asked for
    return {"seconds": time.perf_counter() - start}


def main() -> None:
    host, name, mode = sys.argv[1:4]
    result = decode(host, name) if mode == "decode" else asyncio.run(in_app(host, name, mode))
    print(json.dumps({**result, "rss_mib": peak_mib()}))


if __name__ == "__main__":
    main()
