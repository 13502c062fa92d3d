"""The outcome log: what each action did, in the engine's own words, kept readable afterwards (`l`)."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

from imgtui.engine import OutcomeLine

STYLES = {
    "untagged": "yellow",
    "deleted": "red",
    "container": "magenta",
    "tagged": "green",
    "reclaimed": "bold green",
    "error": "bold red",
    "info": "",
    "action": "bold",
}


class OutcomeLog(RichLog):
    """Every line also kept as plain text in `lines_text` (what tests and the clipboard read)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, wrap=True, markup=False, highlight=False, max_lines=2000)
        self.lines_text: list[str] = []
        self._waiting: list[Text] = []

    def add(self, line: OutcomeLine) -> None:
        self.lines_text.append(line.text)
        text = Text(time.strftime("%H:%M:%S "), style="dim")
        text.append(line.text, style=STYLES.get(line.kind, ""))
        # While the log is hidden (or just being shown) it has no width, and RichLog would wrap the line at
        # its min_width (78 columns) for good: lines wait until it is laid out, in order.
        if self._waiting or not self.scrollable_content_region.width:
            if not self._waiting:
                self.call_after_refresh(self._write_waiting)
            self._waiting.append(text)
            return
        self.write(text)

    def on_show(self) -> None:
        if self._waiting:
            self.call_after_refresh(self._write_waiting)

    def _write_waiting(self) -> None:
        if not self.scrollable_content_region.width:
            if self.display:
                self.call_after_refresh(self._write_waiting)  # not laid out yet
            return  # hidden: on_show writes them
        waiting, self._waiting = self._waiting, []
        for text in waiting:
            self.write(text)
