"""Save and load benchmarks (`bench/run.py --transfer`): imgtui's save and load of a generated image of
100 MiB and of 1 GiB (imgtui/sandbox/big.py: random bytes in 1 MiB files over 10 layers), through the
domain (Engine.save / Engine.load) and through the app (the job started as `S` or `L` starts it, to the job's
end), against `docker save -o` / `docker load -i` of the same image on the same sandbox engine, run in turns
(CLI, domain, app, CLI, ...) so that the machine drifting weighs on all alike. The docker CLI is needed
(Debian's docker.io); it is pointed at the sandbox's socket only."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from imgtui.sandbox import Sandbox  # noqa: E402
from imgtui.sandbox.big import write  # noqa: E402

SIZES = (100 << 20, 1 << 30)
TARGET = "≤ 1.1× the CLI"


def cli(host: str) -> tuple[list[str], dict[str, str]]:
    """The docker CLI and an environment that points it at `host` and nowhere else."""
    found = shutil.which("docker")
    if found is None:
        raise SystemExit("bench: the save/load rows need the docker CLI (Debian: apt-get install docker.io)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_HOST"] = host
    return [found, "-H", host], env


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def settle(done: Path | None = None) -> None:
    """Remove `done` (a run's output) and write back what is left to write, between runs."""
    if done is not None:
        done.unlink()
    os.sync()


def probe(host: str, path: Path, mode: str, name: str = "") -> dict[str, float]:
    argv = [sys.executable, str(HERE / "transfer_probe.py"), host, str(path), mode, name]
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"bench: {mode} failed:\n{out.stderr[-2000:]}")
    return dict(json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1]))


def rows(box: Sandbox, repeat: int, scale: float = 1.0) -> list[tuple[str, float, float, str, str]]:
    """(measure, imgtui, floor, unit, target) rows; `scale` shrinks the images (CI: 0.01)."""
    host = box.docker_host
    docker_cli, env = cli(host)
    api = docker.APIClient(base_url=host, version="auto", timeout=3600)
    work = Path(tempfile.mkdtemp(prefix="imgtui-xfer-", dir="/var/tmp"))
    out: list[tuple[str, float, float, str, str]] = []
    try:
        for full in SIZES:
            size = int(full * scale)
            label = f"{size / 2**30:.0f} GiB" if size >= 1 << 30 else f"{size / 2**20:.0f} MiB"
            name = f"bench/xfer{size >> 20}:1"
            files = max(10, size >> 20)
            big = write(work / "gen", name=name, layers=10, files=files, total=size, overwritten=1)
            with big.path.open("rb") as archive:
                for _ in api.load_image(archive, quiet=True) or []:
                    pass
            big.path.unlink()
            expected = 0
            times: dict[str, list[float]] = {"cli": [], "domain-save": [], "ui-save": []}
            shown: list[float] = []
            for _ in range(repeat):
                for mode in times:
                    target = work / f"{mode}.tar"
                    if mode == "cli":
                        times[mode].append(timed([*docker_cli, "save", "-o", str(target), name], env))
                    else:
                        found = probe(host, target, mode, name)
                        times[mode].append(found["seconds"])
                        if mode == "ui-save":
                            shown.append(found["shown"])
                    written = target.stat().st_size
                    if expected and written != expected:
                        raise SystemExit(f"bench: {mode} wrote {written} bytes, the CLI {expected}")
                    expected = written
                    # Each run starts with nothing of the last one left to write back (untimed): else
                    # the disk would still be writing the previous run's gigabyte during the next one.
                    settle(target)
            archive_path = work / "cli.tar"
            subprocess.run([*docker_cli, "save", "-o", str(archive_path), name], check=True, env=env)
            settle()
            print(f"bench: {label} saved ({expected} B); the app's job bar showed "
                  f"{statistics.median(shown):.0f} progress messages", file=sys.stderr)  # fmt: skip
            floor = statistics.median(times["cli"])
            out.append((f"save {label} (vs docker save -o)", statistics.median(times["domain-save"]), floor,
                        "s", TARGET))  # fmt: skip
            out.append(("  the same from the app, to the job's end", statistics.median(times["ui-save"]),
                        floor, "s", TARGET))  # fmt: skip

            loads: dict[str, list[float]] = {"cli": [], "domain-load": [], "ui-load": []}
            for _ in range(repeat):
                for mode in loads:
                    api.remove_image(name, force=True)
                    settle()
                    if mode == "cli":
                        loads[mode].append(timed([*docker_cli, "load", "-i", str(archive_path)], env))
                    else:
                        loads[mode].append(probe(host, archive_path, mode)["seconds"])
                    if not api.images(name=name):
                        raise SystemExit(f"bench: {mode} did not load {name}")
                    settle()
            floor = statistics.median(loads["cli"])
            out.append((f"load {label} (vs docker load -i)", statistics.median(loads["domain-load"]), floor,
                        "s", TARGET))  # fmt: skip
            out.append(("  the same from the app, to the job's end", statistics.median(loads["ui-load"]),
                        floor, "s", TARGET))  # fmt: skip
            api.remove_image(name, force=True)
            archive_path.unlink()
    finally:
        api.close()
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return out
