"""`=` with two tags marked: which files differ between the two images, biggest change first (layers both
share from the bottom are skipped: imgtui/layers/compare.py)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from imgtui.layers.compare import CHANGED, ONLY_LEFT, ONLY_RIGHT, REWRITTEN, Comparison
from imgtui.ui import commands
from imgtui.ui.commands import Where
from imgtui.ui.format import size

SHOWN = 2000
"""Rows in the table (the biggest changes); the summary counts them all."""
WORDS = {ONLY_LEFT: ("- only in A", "red"), ONLY_RIGHT: ("+ only in B", "green"),
         CHANGED: ("~ changed", "yellow"), REWRITTEN: ("= rewritten", "dim")}  # fmt: skip


def signed(delta: int) -> str:
    return "0" if not delta else ("+" if delta > 0 else "-") + size(abs(delta))


class CompareScreen(Screen[None]):
    WHERE = Where.COMPARE
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]

    def __init__(self, comparison: Comparison, labels: tuple[str, str] | None = None) -> None:
        """`labels`: how to name the two images (a dangling one's name is its ID)."""
        super().__init__()
        self.comparison = comparison
        self.labels = labels or (comparison.left, comparison.right)

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        c = self.comparison
        text = Text()
        text.append("A ", style="bold")
        text.append(f"{self.labels[0]}\n")
        text.append("B ", style="bold")
        text.append(f"{self.labels[1]}\n")
        layers = (
            f"{c.shared_layers} shared layer{'s' if c.shared_layers != 1 else ''} skipped"
            if c.shared_layers
            else "no layer shared"
        )
        files = "1 file differs" if len(c.differences) == 1 else f"{len(c.differences)} files differ"
        text.append(f"{layers} · {files}: {c.count(ONLY_RIGHT)} only in B, "
                    f"{c.count(ONLY_LEFT)} only in A, {c.count(CHANGED)} changed, {c.count(REWRITTEN)} "
                    f"rewritten (same size, another layer) · B holds {signed(c.delta)}")  # fmt: skip
        yield Static(text, id="compare-summary", classes="screen-title")
        table: DataTable[str | Text] = DataTable(id="compare-table", cursor_type="row")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.add_column("", key="what", width=13)
        table.add_column("A", key="a", width=9)
        table.add_column("B", key="b", width=9)
        table.add_column("B - A", key="delta", width=9)
        table.add_column("Path", key="path")
        for d in self.comparison.differences[:SHOWN]:
            word, style = WORDS[d.what]
            table.add_row(
                Text(word, style=style),
                Text(size(d.left_bytes) if d.what != ONLY_RIGHT else "", justify="right"),
                Text(size(d.right_bytes) if d.what != ONLY_LEFT else "", justify="right"),
                Text(signed(d.delta), justify="right"),
                Text(d.path) + Text(f"  {d.detail}", style="dim") if d.detail else d.path,
            )
        rest = len(self.comparison.differences) - SHOWN
        if rest > 0:
            table.add_row(Text(f"… {rest} more (smaller changes)", style="dim"), "", "", "", "")
        if not self.comparison.differences:
            table.add_row(Text("no file differs", style="dim"), "", "", "", "")
        table.focus()

    def command_close_compare(self) -> None:
        self.dismiss(None)
