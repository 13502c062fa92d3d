"""imgtui benchmarks: ratios against floors measured in the same run, on a private sandbox engine.

    python3 bench/run.py                  # sizes 100, 1000, 10000
    python3 bench/run.py --sizes 100 --repeat 1    # what CI runs, so the suite cannot rot

Absolute times on shared machines drift from run to run; each measure is printed next to a floor measured
the same way, a moment before, on the same engine, and the ratio between them is what to read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import DataTable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from imgtui.engine import Engine  # noqa: E402
from imgtui.sandbox import Sandbox  # noqa: E402
from imgtui.sandbox.generate import archive  # noqa: E402
from imgtui.sandbox.proxy import EngineProxy  # noqa: E402
from imgtui.ui.app import ImgtuiApp  # noqa: E402

ONE_REPO = "bench/all"
"""A repository with one tag per generated image: the tags pane with N rows."""


@dataclass
class Row:
    size: int
    measure: str
    value: float
    floor: float
    unit: str
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.floor if self.floor else float("nan")


# -- helpers ----------------------------------------------------------------------------------------------
def timed_process(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed:\n{result.stderr[-2000:]}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return elapsed, (json.loads(lines[-1]) if lines else {})


def probe(name: str, host: str) -> list[str]:
    return [sys.executable, str(HERE / name), host]


def compiled_env() -> dict[str, str]:
    """The environment for start-up probes: modules compiled once into a cache of the benchmark's own, as an
    installed package's are (with PYTHONDONTWRITEBYTECODE set, imgtui's modules, unlike the site-packages
    the floor imports, were compiled from source on every start)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "imgtui-bench-pycache")
    return env


def startup_pair(host: str, repeat: int) -> tuple[float, float]:
    """Median whole-process start-up of imgtui and of the floor app, on `host`, run in turns (one after the
    other, `repeat` times) so that the machine drifting during the measure weighs on both alike; each once
    first, untimed, to compile its modules."""
    env = compiled_env()
    timed_process(probe("startup_probe.py", host), env)
    timed_process(probe("floor_probe.py", host), env)
    ours, floor = [], []
    for _ in range(repeat):
        ours.append(timed_process(probe("startup_probe.py", host), env)[0])
        floor.append(timed_process(probe("floor_probe.py", host), env)[0])
    return statistics.median(ours), statistics.median(floor)


def lazydocker_rows(size: int, host: str, repeat: int) -> list[Row]:
    """imgtui against lazydocker (when installed), both in a 120x36 pseudo-terminal until the repository
    names show, in turns."""
    found = shutil.which("lazydocker")
    if found is None:
        print("bench: lazydocker is not installed: its row is skipped", file=sys.stderr)
        return []
    installed = [sys.executable, "-m", "imgtui"]
    terminal_start(installed, host)  # compiles imgtui's modules once
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(terminal_start(installed, host))
        theirs.append(terminal_start([found], host))
    return [Row(size, "first screen with names (vs lazydocker)", statistics.median(ours),
                statistics.median(theirs), "s", "≤ 2× lazydocker")]  # fmt: skip


def terminal_start(argv: list[str], host: str) -> float:
    """Seconds from starting `argv` in a 120x36 pseudo-terminal to the repository names on its screen."""
    env = {k: v for k, v in compiled_env().items() if not k.startswith("DOCKER_")}
    env["DOCKER_HOST"] = host
    probe_argv = [sys.executable, str(HERE.parent / "scripts" / "screen_probe.py"), "--expect", "bench/",
                  "--timeout", "60", "--", *argv]  # fmt: skip
    _, found = timed_process(probe_argv, env)
    if not found.get("shown"):
        raise SystemExit(f"bench: {' '.join(argv)} showed no images: {found.get('tail')}")
    return float(found["seconds"])  # type: ignore[arg-type]


def terminal_rows(size: int, host: str, keys: int = 10) -> list[Row]:
    """Bytes written to a 120x36 pseudo-terminal (what an ssh link carries): the first screen, and per
    down-arrow in the repositories pane (its repaints, the tags and layers that follow it included), against
    a bare DataTable of the same repositories (bench/terminal_bytes.py, bench/floor_table.py)."""
    _, ours = timed_process(
        [sys.executable, str(HERE / "terminal_bytes.py"), host, "imgtui", "--keys", str(keys)]
    )
    _, floor = timed_process(
        [sys.executable, str(HERE / "terminal_bytes.py"), host, "floor", "--keys", str(keys)]
    )
    per_key = statistics.median(ours["per_key"]) / 1024  # type: ignore[arg-type]
    floor_key = statistics.median(floor["per_key"]) / 1024  # type: ignore[arg-type]
    return [
        Row(size, "bytes to the terminal, first screen", float(ours["first"]) / 1024,  # type: ignore[arg-type]
            float(floor["first"]) / 1024, "KiB", "≤ 1.2× bare DataTable"),  # type: ignore[arg-type]
        Row(size, "bytes per cursor move, repositories pane", per_key, floor_key, "KiB", "≤ 4 KiB"),
    ]  # fmt: skip


def pyz_rows(size: int, host: str, pyz: Path, repeat: int) -> list[Row]:
    """The one-file build against the installed package: start-up in a real terminal, in turns, and size."""
    # The same interpreter for both, the pyz's with nothing installed (a bare venv): a machine's python3 may
    # carry site-packages of its own whose start-up would be charged to the pyz.
    bare = Path(tempfile.mkdtemp(prefix="imgtui-bare-")) / "venv"
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(bare)], check=True)
    installed = [sys.executable, "-m", "imgtui"]
    packed = [str(bare / "bin" / "python"), str(pyz)]
    terminal_start(packed, host)  # its first start unpacks it once into ~/.shiv
    ours, floor = [], []
    for _ in range(repeat):
        ours.append(terminal_start(packed, host))
        floor.append(terminal_start(installed, host))
    site = HERE.parent / "build" / "pyz" / "site"
    unpacked = sum(f.stat().st_size for f in site.rglob("*") if f.is_file()) if site.exists() else 0
    return [
        Row(size, "pyz: start-up to names (vs installed)", statistics.median(ours), statistics.median(floor),
            "s"),
        Row(size, "pyz: file size (vs its packages unpacked)", pyz.stat().st_size / 2**20, unpacked / 2**20,
            "MiB"),
    ]  # fmt: skip


def socket_path(name: str) -> Path:
    """A short path for a proxy socket (unix socket paths are limited to about 107 bytes)."""
    return Path(tempfile.mkdtemp(prefix="imgtui-p-", dir="/tmp")) / name


def fill(api: docker.APIClient, images: int, dangling: int = 0, prefix: str = "bench") -> None:
    data = archive(images, 1, dangling, prefix, ONE_REPO if images else None)
    for _ in api.load_image(data, quiet=True) or []:
        pass


def clear_images(api: docker.APIClient) -> None:
    for row in api.images():
        api.remove_image(row["Id"], force=True)


# -- in-process measures ----------------------------------------------------------------------------------
class FloorTable(App[None]):
    """The latency floor: one DataTable with the same number of rows, nothing else."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Tag", "Image ID", "Created", "Size")
        for n in range(self.rows):
            table.add_row(str(n), f"{n:012x}", "a year ago", "46 B")
        table.focus()


async def key_latencies(
    app: App[None], moves: int, ready: Callable[[], bool], moved: Callable[[], int]
) -> list[float]:
    """Send `down` and time until the frame that shows it has been written (through the app's _display).

    Keys come at random gaps of 25-45 ms (seeded), as a held key repeats: Textual paints on a fixed 60 fps
    grid, and a fixed gap would lock each app to its own phase of that grid, so that the two apps' numbers
    differed by where their keys fell rather than by the work they do."""
    gaps = random.Random(4711)
    shown: list[float] = []
    original = app._display

    def display(screen, renderable) -> None:  # type: ignore[no-untyped-def]
        shown.append(time.perf_counter())
        original(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        deadline = time.perf_counter() + 60
        while not ready():
            if time.perf_counter() > deadline:
                raise SystemExit(f"bench: {app} never got ready for the latency measure")
            await pilot.pause(0.01)
        await pilot.pause(0.2)
        result = []
        for _ in range(moves):
            before = moved()
            start = time.perf_counter()
            key = events.Key("down", None)
            key.set_sender(app)
            assert app._driver is not None
            app._driver.send_message(key)
            while not (moved() != before and shown and shown[-1] > start):
                if time.perf_counter() > start + 10:
                    raise SystemExit(
                        f"bench: {app} did not repaint after a key: row {moved()}, {len(shown)} frames"
                    )
                await asyncio.sleep(0.0005)
            result.append(shown[-1] - start)
            await asyncio.sleep(gaps.uniform(0.025, 0.045))
    return result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def latency(host: str, rows: int, moves: int) -> tuple[list[float], list[float]]:
    engine = Engine.connect(host)
    app = ImgtuiApp(engine)

    def ready() -> bool:
        if not app.images.loaded:
            return False
        if app.images.repos.current is None or app.images.repos.current.name != ONE_REPO:
            app.images.repos.select_key(ONE_REPO)
            return False
        if app.focused is not app.images.tags:
            app.images.tags.focus()
            return False
        return app.images.tags.row_count == rows

    ours = await key_latencies(app, moves, ready, lambda: app.images.tags.cursor_row)
    engine.close()
    floor_app = FloorTable(rows)
    floor = await key_latencies(
        floor_app, moves, lambda: floor_app.query_one(DataTable).row_count == rows,
        lambda: floor_app.query_one(DataTable).cursor_row,
    )  # fmt: skip
    return ours, floor


def latency_in_process(host: str, rows: int, moves: int, fps: int) -> tuple[list[float], list[float]]:
    """The latency measure in a process of its own, with Textual's frame rate set (TEXTUAL_FPS is read when
    Textual is imported). At 60 fps a key can wait up to a frame for the next paint, in any app; at 1000 fps
    what is left is the work the key causes: handling it and painting the frame."""
    env = {**os.environ, "TEXTUAL_FPS": str(fps)}
    code = (
        "import asyncio, json, sys; sys.path.insert(0, sys.argv[1]); from bench.run import latency; "
        "ours, floor = asyncio.run(latency(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))); "
        "print(json.dumps({'ours': ours, 'floor': floor}))"
    )
    argv = [sys.executable, "-c", code, str(HERE.parent), host, str(rows), str(moves)]
    _, answer = timed_process(argv, env)
    return list(answer["ours"]), list(answer["floor"])  # type: ignore[call-overload]


async def outside_tag(
    sandbox: Sandbox, api: docker.APIClient, proxy: EngineProxy
) -> tuple[float, float, int]:
    """(seconds until the app shows an outside `docker tag`, seconds until a bare event subscriber sees it,
    engine requests the app made for it)."""
    engine = Engine.connect(proxy.docker_host)
    app = ImgtuiApp(engine)
    name = f"outside/tag:{time.time_ns()}"
    async with app.run_test(size=(120, 36)) as pilot:
        while not (app.images.loaded and app.images.disk_used is not None):
            await pilot.pause(0.01)
        await pilot.pause(0.5)
        proxy.reset()
        start = time.perf_counter()
        api.tag("bench/img0:t0", name.split(":")[0], name.split(":")[1])
        repo = name.split(":")[0]
        deadline = start + 30
        while repo not in {r.name for r in app.images.repos.items}:
            if time.perf_counter() > deadline:
                raise SystemExit(f"bench: the app never showed {name}; requests: {proxy.requests}")
            await asyncio.sleep(0.001)
        ours = time.perf_counter() - start
        await pilot.pause(1.0)  # past the app's delayed disk-usage read, which this change also costs
        requests = proxy.count()
    engine.close()
    api.remove_image(name)

    # The floor: how long the engine itself takes to tell a subscriber.
    seen = threading.Event()
    stream = api.events(decode=True, filters={"type": ["image"], "event": ["tag"]})

    def watch() -> None:
        for _ in stream:
            seen.set()
            return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    time.sleep(0.2)
    start = time.perf_counter()
    api.tag("bench/img0:t0", repo, "floor")
    seen.wait(10)
    floor = time.perf_counter() - start
    stream.close()
    api.remove_image(f"{repo}:floor")
    return ours, floor, requests


def slow_link_rows(box: Sandbox, size: int, repeat: int) -> list[Row]:
    """Start-up to the first full screen through a proxy adding 0, 50 and 100 ms to every request (a far
    server over ssh), against the floor app through the same proxy (its client asks `/version`, then lists
    the images: two round trips); and the requests each makes there."""
    rows = []
    for delay in (0.0, 0.05, 0.1):
        slow = EngineProxy(box.socket, socket_path("s.sock"), delay=delay).start()
        ours, floor = startup_pair(slow.docker_host, repeat)
        ms = f"{delay * 1000:.0f} ms"
        rows.append(Row(size, f"start-up, {ms} per round trip", ours, floor, "s", "a few round trips"))
        if delay == 0.1:
            slow.reset()
            timed_process(probe("startup_probe.py", slow.docker_host))
            requests = slow.count()
            slow.reset()
            timed_process(probe("floor_probe.py", slow.docker_host))
            floor_requests = slow.count()
            label = f"  requests for it at {ms}"
            rows.append(Row(size, label, requests, floor_requests, "req", "same as at 0"))
        slow.stop()
    return rows


# -- the run ----------------------------------------------------------------------------------------------
def run(sizes: list[int], repeat: int, moves: int, prune_count: int, pyz: Path | None = None) -> list[Row]:
    rows: list[Row] = []
    state = Path(tempfile.mkdtemp(prefix="imgtui-b-", dir="/tmp"))
    box = Sandbox(state)
    box.start(registry=False)
    host = box.docker_host
    api = docker.APIClient(base_url=host, version="auto", timeout=900)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    try:
        rows += prune(api, prune_count, env, host)
        for size in sizes:
            clear_images(api)
            started = time.perf_counter()
            fill(api, size, dangling=max(size // 100, 1))
            print(f"bench: {size} images loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)

            ours, floor = startup_pair(host, repeat)
            rows.append(Row(size, "start-up to first full screen", ours, floor, "s", "≤ 1.0× the floor"))
            rows += lazydocker_rows(size, host, repeat)
            cli = statistics.median(
                timed_process(["docker", "-H", host, "images"], env)[0] for _ in range(repeat)
            )
            rows.append(Row(size, "  docker images (for reference)", cli, floor, "s"))
            if pyz is not None and size == sizes[0]:
                rows += pyz_rows(size, host, pyz, repeat)

            rows += terminal_rows(size, host)

            proxy = EngineProxy(box.socket, socket_path("p.sock")).start()
            _, info = timed_process(probe("startup_probe.py", proxy.docker_host))
            requests = proxy.count()
            proxy.reset()
            _, floor_info = timed_process(probe("floor_probe.py", proxy.docker_host))
            floor_requests = proxy.count()
            rows.append(
                Row(size, "engine requests at start-up", requests, floor_requests, "req", "≤ 4, flat in N")
            )
            rows.append(Row(size, "peak memory (RSS)", float(info["rss_kb"]) / 1024,  # type: ignore[arg-type]
                            float(floor_info["rss_kb"]) / 1024, "MiB", "≤ 100 MiB at 10,000"))  # type: ignore[arg-type]  # fmt: skip
            _, settled = timed_process([*probe("startup_probe.py", host), "--settled"])
            rows.append(Row(size, "  the same, settled (disk usage read, 1 s)",
                            float(settled["rss_kb"]) / 1024,  # type: ignore[arg-type]
                            float(floor_info["rss_kb"]) / 1024, "MiB", "≤ 100 MiB at 10,000"))  # type: ignore[arg-type]  # fmt: skip

            ours_tag, floor_tag, tag_requests = asyncio.run(outside_tag(box, api, proxy))
            rows.append(Row(size, "outside docker tag shown", ours_tag, floor_tag, "s", "≤ 1 s"))
            rows.append(Row(size, "  requests for it (inspect, df)", tag_requests, 1, "req", "≤ 2"))
            proxy.stop()

            for fps in (60, 1000):
                ours_keys, floor_keys = latency_in_process(host, size, min(moves, size - 1), fps)
                for p in (50, 95):
                    ours_p, floor_p = percentile(ours_keys, p) * 1000, percentile(floor_keys, p) * 1000
                    target = "p95 ≤ 16 ms" if p == 95 else ""
                    label = f"key→repaint p{p}, {size} tags" if fps == 60 else f"  p{p} with frame pacing off"
                    rows.append(Row(size, label, ours_p, floor_p, "ms", target))

            rows += slow_link_rows(box, size, repeat)
            print_table(rows)
    finally:
        box.destroy()
    return rows


def slow_link(sizes: list[int], repeat: int) -> int:
    """Only the slow-link rows (`--slow-link`), on a sandbox of their own."""
    rows: list[Row] = []
    box = Sandbox(Path(tempfile.mkdtemp(prefix="imgtui-b-", dir="/tmp")))
    box.start(registry=False)
    api = docker.APIClient(base_url=box.docker_host, version="auto", timeout=900)
    try:
        for size in sizes:
            clear_images(api)
            fill(api, size, dangling=max(size // 100, 1))
            rows += slow_link_rows(box, size, repeat)
    finally:
        api.close()
        box.destroy()
    print_table(rows)
    return 0


def prune(api: docker.APIClient, count: int, env: dict[str, str], host: str) -> list[Row]:
    """Prune `count` dangling images through imgtui's code path against `docker image prune -f`, each on
    freshly loaded identical content: the preview (read before the user confirms) is timed on its own; what
    runs after the confirmation (re-check, prune) is what compares with the CLI."""
    clear_images(api)
    fill(api, 0, dangling=count, prefix="prune")
    engine = Engine.connect(host)
    start = time.perf_counter()
    plan = engine.plan_prune(all_unused=False)
    preview = time.perf_counter() - start
    start = time.perf_counter()
    engine.prune(plan)
    ours = time.perf_counter() - start
    engine.close()
    pruned = len(plan.images)
    fill(api, 0, dangling=count, prefix="prune")
    cli, _ = timed_process(["docker", "-H", host, "image", "prune", "-f"], env)
    return [
        Row(pruned, f"prune {pruned} dangling images", ours, cli, "s", "≤ 1.1× the CLI"),
        Row(pruned, "  its preview, before confirming", preview, cli, "s"),
    ]


def print_table(rows: list[Row]) -> None:
    print()
    print("| images | measure | imgtui | floor | ratio | target |")
    print("| ---: | --- | ---: | ---: | ---: | --- |")
    for r in rows:
        fmt = "{:.0f}" if r.unit == "req" else "{:.3f}" if r.unit == "s" else "{:.1f}"
        value, floor = fmt.format(r.value), fmt.format(r.floor)
        print(
            f"| {r.size} | {r.measure} | {value} {r.unit} | {floor} {r.unit} | {r.ratio:.2f}× | {r.target} |"
        )
    sys.stdout.flush()


def layers(repeat: int, scale: float, transfer: bool = False) -> int:
    """The layer-contents rows (bench/layers_bench.py), or with `transfer` the save/load rows
    (bench/transfer_bench.py): a table of their own, each row against its floor."""
    if transfer:
        from transfer_bench import rows as layer_rows  # beside this file
    else:
        from layers_bench import rows as layer_rows  # beside this file

    box = Sandbox(Path(tempfile.mkdtemp(prefix="imgtui-b-", dir="/tmp")))
    box.start(registry=not transfer)
    try:
        found = layer_rows(box, repeat, scale)
    finally:
        box.destroy()
    print("\n| measure | imgtui | floor | ratio | target |\n| --- | ---: | ---: | ---: | --- |")
    for measure, value, floor, unit, target in found:
        fmt = "{:.3f}" if unit == "s" else "{:.1f}"
        print(f"| {measure} | {fmt.format(value)} {unit} | {fmt.format(floor)} {unit} | {value / floor:.2f}× "
              f"| {target} |")  # fmt: skip
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="numbers of images (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per process-level measure (median)")
    parser.add_argument("--moves", type=int, default=200, help="key presses for the latency measure")
    parser.add_argument("--prune", type=int, default=500, help="dangling images for the prune measure")
    parser.add_argument("--layers", action="store_true", help="only the layer-contents benchmark")
    parser.add_argument("--slow-link", action="store_true", help="only start-up, 0-100 ms a request")
    parser.add_argument("--layer-scale", type=float, default=1.0, help="its image: 1 = 1 GB in 200,000 files")
    parser.add_argument(
        "--transfer",
        action="store_true",
        help="only save and load against docker save/load (100 MiB and 1 GiB x layer-scale)",
    )
    parser.add_argument(
        "--pyz", type=Path, help="also time this imgtui.pyz (scripts/build-pyz) at the first size"
    )
    args = parser.parse_args()
    if args.layers or args.transfer:
        return layers(args.repeat, args.layer_scale, args.transfer)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.slow_link:
        return slow_link(sizes, args.repeat)
    rows = run(sizes, args.repeat, args.moves, args.prune, args.pyz)
    print("\nFinal table:")
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
