"""Hand the terminal to a command (docker attach, docker exec -it) and take it back: the app suspends
(Textual's `App.suspend()`: the terminal is back in its normal mode), the command runs in the foreground,
and when it ends (ctrl-p ctrl-q detaches, or the shell exits) the app redraws."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from textual.app import SuspendNotSupported

from imgtui.engine.containers import TerminalCommand

CLEAR = "\x1b[2J\x1b[H"


class NotHandedOver(Exception):
    """The terminal could not be handed over; the message says why, in one sentence."""


def hand_over(app: Any, command: TerminalCommand, banner: str) -> int:
    """Run `command` on the real terminal while the app is suspended; returns its exit code (the docker CLI
    gives 1 after a detach with ctrl-p ctrl-q: ask the engine whether the container still runs). Call from
    the app's thread (suspend is not for workers). Raises NotHandedOver."""
    try:
        with app.suspend():
            sys.stdout.write(f"{CLEAR}imgtui: {banner}\r\n\r\n")
            sys.stdout.flush()
            try:
                return subprocess.run(command.argv, env=command.env, check=False).returncode
            except OSError as exc:
                raise NotHandedOver(f"{command.what} could not start: {exc.strerror or exc}") from exc
    except SuspendNotSupported as exc:
        raise NotHandedOver(
            f"{command.what}: this terminal cannot be handed over (no real terminal, or a web driver)"
        ) from exc


def back_words(name: str, attached: bool, code: int, state: tuple[bool, int] | None) -> str:
    """One line for when the terminal comes back: what became of the container (`state`: running, exit
    code; None: it is gone)."""
    if state is None:
        return f"Back from {name}: the container is gone (--rm removed it when it exited)"
    running, exit_code = state
    if running:
        how = "detached (ctrl-p ctrl-q)" if attached else f"the shell ended (exit code {code})"
        return f"Back from {name}: {how}; it is still running"
    return f"Back from {name}: the container exited (exit code {exit_code})"
