"""Text in a box whose size the CSS fixes (the status line, the detail lines)."""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static


class FixedLines(Static):
    """New text needs a repaint, never a new layout: a layout pass repaints the whole screen, which is more
    than a cursor move may cost (the detail lines change on every move)."""

    def update(self, content: VisualType = "", *, layout: bool = False) -> None:
        super().update(content, layout=layout)
