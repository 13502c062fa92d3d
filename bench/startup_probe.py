"""Child process for the start-up measure: run the real app headless until the first full screen
(repositories, tags and the first tag's layers shown), then exit. Prints its peak RSS.

With `--settled` it stays until the status line's disk usage is read, and one second more (what the app
holds once started and left alone), and prints its peak RSS then."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from imgtui.engine import Engine
from imgtui.ui.app import ImgtuiApp


def peak_kb() -> int:
    """This process's peak resident memory: VmHWM (getrusage's maxrss carries the parent's over fork and
    exec: the benchmark's own memory would be counted)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(host: str, settled: bool = False) -> None:
    engine = Engine.connect(host)
    app = ImgtuiApp(engine)

    async def auto_pilot(pilot) -> None:  # type: ignore[no-untyped-def]
        while not (
            app.images.loaded
            and app.images.tags.row_count
            and app.images.layer_table.row_count
            and not app.images.layer_table.pending
        ):
            await pilot.pause(0.002)
        if settled:
            deadline = time.monotonic() + 60  # an engine that never answers /system/df: the peak so far
            while app.images.disk_used is None and time.monotonic() < deadline:
                await pilot.pause(0.01)
            await pilot.pause(1.0)
        app.exit()

    app.run(headless=True, size=(120, 36), auto_pilot=auto_pilot)
    print(json.dumps({"rss_kb": peak_kb()}))


if __name__ == "__main__":
    main(sys.argv[1], "--settled" in sys.argv)
