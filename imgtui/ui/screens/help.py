"""`?`: all keys on one screen."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from imgtui.ui import commands


class HelpScreen(ModalScreen[None]):
    """The command table (commands.py), every key of every view; any of escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("[b]imgtui keys[/b]   (escape closes)", id="help-title")
            table: DataTable[str | Text] = DataTable(id="help-table", cursor_type="none", show_header=False)
            table.add_columns("key", "what it does")
            section = ""
            for where, key, what in commands.help_rows():
                if where != section:
                    section = where
                    table.add_row(Text(where, style="bold underline"), "")
                table.add_row(key, what)
            yield table
