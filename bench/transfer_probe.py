"""One process of the save/load benchmark (bench/transfer_bench.py):
`transfer_probe.py HOST PATH MODE [NAME]`.

    domain-save   Engine.save of NAME to PATH (the engine connected first): seconds of the save alone
    domain-load   Engine.load of PATH
    ui-save       imgtui headless (Pilot, 120x36), the first screen's work done (images, layers, disk
                  usage); the save job started as `S` + enter starts it: seconds until the job has ended
                  (its log line written, the job bar told)
    ui-load       the same with the load job

Prints one JSON line: "seconds", "reports" (progress reports the transfer made), "shown" (how many of them
reached the job bar: the messages the UI handled).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imgtui.engine import Engine  # noqa: E402
from imgtui.engine.transfer import Progress  # noqa: E402


def domain(host: str, path: Path, mode: str, name: str) -> dict[str, float]:
    engine = Engine.connect(host)
    engine.api.ping()  # docker-py imported and connected first, as in the app (after its first screen)
    reports = 0

    def report(_: Progress) -> None:
        nonlocal reports
        reports += 1

    start = time.perf_counter()
    if mode == "domain-save":
        engine.save([name], path, report, lambda: False)
    else:
        engine.load(str(path), report, lambda: False)
    seconds = time.perf_counter() - start
    engine.close()
    return {"seconds": seconds, "reports": reports, "shown": 0}


async def ui(host: str, path: Path, mode: str, name: str) -> dict[str, float]:
    from imgtui.ui.app import ImgtuiApp
    from imgtui.ui.features.jobs import Jobs, LoadJob, Paced, SaveJob

    engine = Engine.connect(host)
    app = ImgtuiApp(engine)
    counts = {"reports": 0, "shown": 0}
    paced_call, shown_call, ended_call = Paced.__call__, Jobs.on_jobs_progressed, Jobs.on_jobs_ended
    ended = asyncio.Event()

    def paced(self: Paced, progress: Progress) -> None:
        counts["reports"] += 1
        paced_call(self, progress)

    def shown(self: Jobs, message: Jobs.Progressed) -> None:
        counts["shown"] += 1
        shown_call(self, message)

    def end(self: Jobs, message: Jobs.Ended) -> None:
        ended_call(self, message)
        ended.set()

    Paced.__call__ = paced  # type: ignore[method-assign]
    Jobs.on_jobs_ended = end  # type: ignore[method-assign]
    Jobs.on_jobs_progressed = shown  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        # Started once the first screen's work is done (the disk usage is read 0.5 s after the list).
        while not (app.images.loaded and app.images.disk_used is not None):
            await pilot.pause(0.01)
        await pilot.pause(0.3)
        job = SaveJob((name,), path) if mode == "ui-save" else LoadJob(path)
        start = time.perf_counter()
        if not app.images.jobs.start(job):
            raise SystemExit("transfer_probe: the job did not start")
        await ended.wait()  # not polled: a poll would take turns at the GIL with the job's thread
        seconds = time.perf_counter() - start
    engine.close()
    return {"seconds": seconds, **counts}


def main(host: str, path: str, mode: str, name: str = "") -> None:
    target = Path(path)
    if mode.startswith("domain-"):
        found = domain(host, target, mode, name)
    else:
        found = asyncio.run(ui(host, target, mode, name))
    print(json.dumps(found))


if __name__ == "__main__":
    main(*sys.argv[1:])
