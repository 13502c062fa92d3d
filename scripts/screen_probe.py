"""Run a terminal program in a pseudo-terminal, as a user at a 120x36 terminal would, until its screen shows
every expected word; then press q. Prints one JSON line: whether the words showed, after how long, and the
screen's last text. Standard library only: it runs on a fresh machine's python3 (3.9 and later).

    python3 screen_probe.py --expect commit_test --expect my-image-name --timeout 600 -- bash scripts/demo
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", action="append", default=[], help="a word the screen must show")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--size", default="120x36")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = [c for c in args.command if c != "--"] or ["true"]
    cols, rows = (int(n) for n in args.size.split("x"))
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.setdefault("TERM", "xterm-256color")
        os.execvp(command[0], command)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    seen = b""
    shown_after = None
    exited: object = None
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            seen += chunk
            text = ESCAPES.sub(b"", seen).decode(errors="replace")
            if shown_after is None and args.expect and all(word in text for word in args.expect):
                shown_after = time.monotonic() - started
                time.sleep(1.0)  # let the screen settle, then quit as a user would
                os.write(fd, b"q")
                deadline = time.monotonic() + 15
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            exited = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
            break
    if exited is None:
        done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            time.sleep(2)
            done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            exited = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            exited = "killed"
    text = ESCAPES.sub(b"", seen).decode(errors="replace")
    print(json.dumps({
        "shown": shown_after is not None,
        "seconds": round(shown_after, 2) if shown_after is not None else None,
        "exit": exited,
        "installed_something": "installing" in text,
        "tail": text[-1500:],
    }))  # fmt: skip
    return 0 if shown_after is not None else 1


if __name__ == "__main__":
    sys.exit(main())
