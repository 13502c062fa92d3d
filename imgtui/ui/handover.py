"""Hand the terminal to a command (docker attach, docker exec -it) and take it back: the app suspends
(Textual's `App.suspend()`: the screen is restored and the terminal left in its normal mode), the command
runs in the foreground, and when it ends (ctrl-p ctrl-q detaches) the app redraws."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from textual.app import SuspendNotSupported

from imgtui.engine.containers import TerminalCommand


def hand_over(app: Any, command: TerminalCommand, banner: str) -> str:
    """Run `command` on the real terminal while the app is suspended; returns one line saying how it ended.
    Call from the app's thread (suspend is not for workers)."""
    try:
        with app.suspend():
            sys.stdout.write(f"\r\nimgtui: {banner}\r\n")
            sys.stdout.flush()
            try:
                code = subprocess.run(command.argv, env=command.env, check=False).returncode
            except OSError as exc:
                return f"{command.what} could not start: {exc.strerror or exc}"
    except SuspendNotSupported:
        return f"{command.what}: this terminal cannot be handed over (no real terminal, or a web driver)"
    if code == 0:
        return f"{command.what}: back in imgtui"
    return f"{command.what} ended with exit code {code}"
