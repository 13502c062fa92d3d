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

    def add(self, line: OutcomeLine) -> None:
        self.lines_text.append(line.text)
        text = Text(time.strftime("%H:%M:%S "), style="dim")
        text.append(line.text, style=STYLES.get(line.kind, ""))
        self.write(text)
