"""`?`: all keys on one screen."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from imgtui.ui import commands


def key_table() -> Table:
    """Every key of every view; the descriptions wrap to the width they get (80 columns and up)."""
    table = Table.grid(padding=(0, 2))
    table.add_column("key", no_wrap=True)
    table.add_column("what it does", ratio=1, overflow="fold")
    section = ""
    for where, key, what in commands.help_rows():
        if where != section:
            section = where
            table.add_row(Text(where, style="bold underline"), "")
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    """The command table (commands.py), every key of every view; any of escape, q or ? closes it, the
    arrows and page keys scroll it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("[b]imgtui keys[/b]   (escape closes, arrows scroll)", id="help-title")
            with VerticalScroll(id="help-table"):
                yield Static(key_table(), id="help-keys")

    def on_mount(self) -> None:
        self.query_one("#help-table").focus()

    @property
    def shown_text(self) -> str:
        """The keys and what they do, as plain text (for tests)."""
        return "\n".join(f"{key} {what}" for _, key, what in commands.help_rows())
