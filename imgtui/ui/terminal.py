"""Send the terminal only what changed on it: what curses does with its copy of the screen, for Textual.

Textual repaints a widget's whole region when the widget changes: a table given new rows writes every row
of its pane again, the blank rows and the header included, though most of them look exactly as before. Over
ssh those bytes are the cost of a key. `FrameFilter` keeps, per terminal row, the spans it has written
(column, width and the exact bytes) and drops a span of a frame that would write the same bytes at the same
place over cells that nothing has written since: the terminal already shows them. A span it cannot read
(any escape sequence but colours and styles), anything written outside a frame, a resize, and the app
giving the terminal away (suspend, attach) make it forget what it knew, so that the next frames are sent
whole.

`FilteringDriver` is Textual's Linux driver with the filter in its `write`. Both drivers imgtui uses
(`TerminalDriver` sends every frame whole) end the app when the terminal hangs up: a closed pty or an ssh
link gone without a SIGHUP left Textual's input thread reading end-of-file in a busy loop, for ever.
"""

from __future__ import annotations

import os
import re
import select
import threading
from typing import Any

from rich.cells import cell_len
from textual.drivers.linux_driver import LinuxDriver

CURSOR_TO = re.compile(r"\x1b\[(\d+);(\d+)H")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
KEPT_AS_THEY_ARE = frozenset({"\x1b[?2026h", "\x1b[?2026l", "\x1b[?25l", "\x1b[?25h"})
"""Writes that change nothing on screen: the start and end of a synchronized frame, cursor hidden, shown."""


Cell = tuple[str, str]
"""What a terminal cell shows: the styles in force (the escape sequences since the last reset) and the
character; the right half of a wide character is ("", "")."""
TOKENS = re.compile(r"(\x1b\[[0-9;:]*m)|(\x1b[^\x1b]*)|([^\x1b]+)")
RESET = frozenset({"\x1b[0m", "\x1b[m"})


class FrameFilter:
    """Textual's frames (cursor moves, each followed by styled text) cut down to the cells that change:
    a copy of what each row shows, cell by cell, is kept; a span of a frame is sent only from its first
    cell that differs to its last."""

    def __init__(self) -> None:
        self.rows: dict[int, list[Cell | None]] = {}
        """Per row (from 1), its cells from column 1; None where what shows is not known."""

    def forget(self) -> None:
        self.rows.clear()

    def __call__(self, data: str) -> str:
        """What of `data` to send."""
        if data in KEPT_AS_THEY_ARE:
            return data
        parts = CURSOR_TO.split(data)
        if parts[0] != "" or len(parts) < 4:
            self.forget()  # not a frame of Textual's: what it does to the screen is not known here
            return data
        out: list[str] = []
        # parts: "", row, column, text, row, column, text, ...
        for at in range(1, len(parts), 3):
            row, column, text = int(parts[at]), int(parts[at + 1]), parts[at + 2]
            if text.endswith("\n"):
                text = text[:-1]  # Textual's line break before the next cursor move: moves nothing
            out.append(self._span(row, column, text))
        return "".join(out)

    def _span(self, row: int, column: int, text: str) -> str:
        """What to send of `text` written at (row, column): the part from its first changed cell to its
        last, or nothing."""
        if not text:
            return f"\x1b[{row};{column}H"  # a cursor move alone (where the cursor rests): always sent
        cells = _cells(text)
        shown = self.rows.setdefault(row, [])
        if cells is None:  # something besides colours and text: sent as it is, the row no longer known
            shown.clear()
            return f"\x1b[{row};{column}H{text}"
        start, end = column - 1, column - 1 + len(cells)
        if len(shown) < end:
            shown.extend([None] * (end - len(shown)))
        old = shown[start:end]
        if old == cells:
            return ""
        first = next(n for n in range(len(cells)) if cells[n] != old[n])
        last = next(n for n in range(len(cells) - 1, -1, -1) if cells[n] != old[n])
        while first > 0 and cells[first] == ("", ""):
            first -= 1  # the right half of a wide character: from its left half
        if last + 1 < len(cells) and cells[last + 1] == ("", ""):
            last += 1
        shown[start:end] = cells
        return f"\x1b[{row};{column + first}H" + _render(cells[first : last + 1])


def _cells(text: str) -> list[Cell] | None:
    """The cells `text` writes, from the styles reset; None if it holds other escape sequences."""
    cells: list[Cell] = []
    styles = ""
    for style, other, plain in TOKENS.findall(text):
        if style:
            styles = "" if style in RESET else styles + style
        elif other or CONTROL.search(plain):
            return None
        else:
            for char in plain:
                width = cell_len(char)
                if width == 1:
                    cells.append((styles, char))
                elif width == 2:
                    cells.append((styles, char))
                    cells.append(("", ""))
                else:
                    return None  # a combining mark, a zero-width joiner: not worth knowing
    return cells


def _render(cells: list[Cell]) -> str:
    out = []
    styles = ""
    for cell_styles, char in cells:
        if not char:
            continue  # the right half of a wide character
        if cell_styles != styles:
            out.append("\x1b[0m" + cell_styles if styles else cell_styles)
            styles = cell_styles
        out.append(char)
    if styles:
        out.append("\x1b[0m")
    return "".join(out)


class TerminalDriver(LinuxDriver):
    """Textual's Linux driver, ending the app when its terminal hangs up."""

    HANGUP_POLL = 0.5
    """Seconds between looks at whether input should stop (the hang-up itself wakes the watch at once)."""

    def run_input_thread(self) -> None:
        watch = threading.Thread(target=self._watch_hangup, name="imgtui-hangup", daemon=True)
        watch.start()
        super().run_input_thread()

    def _watch_hangup(self) -> None:
        """poll() with no events asked reports only a hang-up, an error or a closed descriptor."""
        watched = select.poll()
        watched.register(self.fileno, 0)
        while not self.exit_event.is_set():
            if watched.poll(self.HANGUP_POLL * 1000):
                self._app.call_later(self._app.exit, None, 129)  # 128 + SIGHUP, as a shell reports it
                return


class FilteringDriver(TerminalDriver):
    """Textual's Linux driver, sending only what changed on screen (FrameFilter)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames = FrameFilter()
        self._size: tuple[int, int] | None = None

    def write(self, data: str) -> None:
        try:
            size = os.get_terminal_size(self.fileno)
            if (size.columns, size.lines) != self._size:
                self._size = (size.columns, size.lines)
                self.frames.forget()  # a terminal resized may have cleared or moved what it showed
        except OSError:
            self.frames.forget()
        data = self.frames(data)
        if data:
            super().write(data)

    def start_application_mode(self) -> None:
        self.frames.forget()
        super().start_application_mode()

    def stop_application_mode(self) -> None:
        self.frames.forget()  # the terminal is someone else's until we are back (suspend, attach, exec)
        super().stop_application_mode()
