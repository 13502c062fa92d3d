"""Bytes a program writes to its terminal: the first screen, then per key (what an ssh link carries).

    terminal_bytes.py HOST imgtui|floor [--keys N]

runs `python -m imgtui` (or the floor: a bare DataTable of the same repositories, bench/floor_table.py) in a
120x36 pseudo-terminal with TERM=xterm-256color on HOST, waits for its first screen to settle, then sends N
down-arrows 0.6 s apart (each key's repaints, layers read after the cursor rests included) and prints one
JSON line: {"first": bytes, "per_key": [bytes, ...]}.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = (36, 120)
SETTLE = 0.6
"""Seconds of quiet after a key before the next: the layers of a tag are read once the cursor rests."""


def drain(fd: int, quiet: float, most: float, started: bool = True) -> int:
    """Bytes read until `quiet` seconds pass with nothing, or `most` seconds in all; with `started` false
    the quiet is counted only from the first byte (a start-up on a busy machine can be slower than it)."""
    total, end, last = 0, time.monotonic() + most, time.monotonic()
    while time.monotonic() < end and (time.monotonic() - last < quiet or (not started and not total)):
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready:
            try:
                data = os.read(fd, 1 << 16)
            except OSError:
                break
            total += len(data)
            last = time.monotonic()
    return total


def measure(argv: list[str], host: str, keys: int) -> dict[str, object]:
    fd, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", *SIZE, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_HOST=host, TERM="xterm-256color")
    process = subprocess.Popen(argv, stdin=terminal, stdout=terminal, stderr=terminal, env=env,
                               start_new_session=True)  # fmt: skip
    os.close(terminal)
    try:
        first = drain(fd, quiet=1.5, most=30, started=False)
        per_key = []
        for _ in range(keys):
            os.write(fd, b"\x1b[B")
            per_key.append(drain(fd, quiet=SETTLE, most=5))
        return {"first": first, "per_key": per_key}
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
        os.close(fd)


def main() -> None:
    host, which = sys.argv[1], sys.argv[2]
    keys = int(sys.argv[sys.argv.index("--keys") + 1]) if "--keys" in sys.argv else 10
    argv = (
        [sys.executable, "-m", "imgtui"]
        if which == "imgtui"
        else [sys.executable, str(HERE / "floor_table.py")]
    )
    print(json.dumps(measure(argv, host, keys)))


if __name__ == "__main__":
    main()
