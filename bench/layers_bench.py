"""Layer-contents benchmarks (`bench/run.py --layers`): a generated image of about 1 GB in 200,000 files over
10 layers (imgtui/sandbox/big.py), each measure against a floor taken the same way in the same run."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from imgtui.engine import Engine  # noqa: E402
from imgtui.layers.cache import LayerCache  # noqa: E402
from imgtui.layers.sources import from_registry  # noqa: E402
from imgtui.registry import Registry  # noqa: E402
from imgtui.sandbox import Sandbox  # noqa: E402
from imgtui.sandbox.big import write  # noqa: E402


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def probe(host: str, name: str, mode: str, cache: Path) -> dict[str, float]:
    env = dict(os.environ, IMGTUI_CACHE=str(cache))
    out = subprocess.run([sys.executable, str(HERE / "contents_probe.py"), host, name, mode], env=env,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return dict(json.loads([line for line in out.splitlines() if line.startswith("{")][-1]))


def rows(box: Sandbox, repeat: int, scale: float = 1.0) -> list[tuple[str, float, float, str, str]]:
    """(measure, imgtui, floor, unit, target) rows; `scale` shrinks the image (CI runs it at 0.01, so that
    the suite cannot rot, in seconds)."""
    work = Path(tempfile.mkdtemp(prefix="imgtui-big-", dir="/var/tmp"))
    big = write(work, files=int(200_000 * scale), total=int((1 << 30) * scale),
                overwritten=max(1, int(1000 * scale)))  # fmt: skip
    print(f"bench: {big.files} files of {big.file_size} B written", file=sys.stderr)
    api = docker.APIClient(base_url=box.docker_host, version="auto", timeout=3600)
    with big.path.open("rb") as archive:
        for _ in api.load_image(archive, quiet=True) or []:
            pass
    big.path.unlink()
    host = box.docker_host
    sock = str(box.socket)
    out: list[tuple[str, float, float, str, str]] = []

    ours, floor = [], []
    for n in range(repeat):
        floor.append(timed(["curl", "-s", "--unix-socket", sock, f"http://x/images/{big.name}/get",
                            "-o", "/dev/null"]))  # fmt: skip
        engine = Engine.connect(host)
        start = time.perf_counter()
        analysis = engine.analyze(big.name, lambda d: None, lambda: False, LayerCache(work / f"cold-{n}"))
        ours.append(time.perf_counter() - start)
        engine.close()
        assert analysis.wasted_bytes == big.wasted, (analysis.wasted_bytes, big.wasted)
    gigabytes = big.files * big.file_size / 1e9
    measure = f"layer index, {gigabytes:.2f} GB in {big.files:,} files (vs curl of the save)"
    out.append((measure, statistics.median(ours), statistics.median(floor), "s", "≤ 1.3×"))

    warm = work / "cold-0"
    opened = [probe(host, big.name, "open", warm) for _ in range(repeat)]
    decoded = [probe(host, big.name, "decode", warm) for _ in range(repeat)]
    out.append(("reopen to the tree on screen, same session (vs a one-line screen)",
                statistics.median(o["seconds"] for o in opened),
                statistics.median(o["floor"] for o in opened), "s", "≤ 100 ms"))  # fmt: skip
    out.append(("open in a new session from the disk cache (vs reading the analysis and layer)",
                statistics.median(o["first"] for o in opened),
                statistics.median(d["seconds"] for d in decoded), "s", ""))  # fmt: skip
    baseline = probe(host, big.name, "baseline", warm)
    out.append(("peak RSS, tree open (vs the app without it)", max(o["rss_mib"] for o in opened),
                baseline["rss_mib"], "MiB", "≤ 250 MiB"))  # fmt: skip

    registry = f"{box.registry}/bench/big"
    api.tag(big.name, registry, "1")
    for _ in api.push(registry, "1", stream=True, decode=True):
        pass
    client = Registry(box.registry)
    manifest = client.manifest("bench/big", "1")
    ours, floor, inflated = [], [], []
    for n in range(repeat):
        start = time.perf_counter()
        for blob, _ in manifest.layers:
            url = f"http://{box.registry}/v2/bench/big/blobs/{blob}"
            subprocess.run(["curl", "-s", url, "-o", "/dev/null"], check=True)
        floor.append(time.perf_counter() - start)
        start = time.perf_counter()
        for blob, _ in manifest.layers:
            url = f"http://{box.registry}/v2/bench/big/blobs/{blob}"
            subprocess.run(f"curl -s {url} | gzip -dc >/dev/null", shell=True, check=True)
        inflated.append(time.perf_counter() - start)
        start = time.perf_counter()
        analysis = from_registry(Registry(box.registry), "bench/big", "1", LayerCache(work / f"reg-{n}"))
        ours.append(time.perf_counter() - start)
        assert analysis.wasted_bytes == big.wasted
    out.append(("registry image index (vs curl of its blobs)", statistics.median(ours),
                statistics.median(floor), "s", "≤ 1.3×"))  # fmt: skip
    out.append(("  the same vs curl piped to gzip -d", statistics.median(ours),
                statistics.median(inflated), "s", ""))  # fmt: skip
    api.remove_image(f"{registry}:1")
    api.remove_image(big.name)
    subprocess.run(["rm", "-rf", str(work)], check=False)
    return out
