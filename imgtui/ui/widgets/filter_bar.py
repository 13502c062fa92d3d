"""The `/` line: filters one ItemTable as you type; enter keeps the filter, escape clears it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import Input

from imgtui.ui.widgets.tables import ItemTable


class FilterBar(Input):
    """Hidden until `open_for(table)`; gives focus back to the table when done."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear filter", show=False, id="filter.clear"),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, classes="filter-bar")
        self.target: ItemTable | None = None

    def open_for(self, table: ItemTable) -> None:
        self.target = table
        self.placeholder = f"filter {table.NOUN} (enter keeps, escape clears)"
        self.value = table.filter_text
        self.add_class("shown")
        # At once, not after a refresh (Widget.focus): the keys typed behind `/` must find it focused.
        self.screen.set_focus(self)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self.target is not None and self.has_class("shown"):
            self.target.filter_text = event.value

    @on(Input.Submitted)
    def _keep(self, event: Input.Submitted) -> None:
        event.stop()
        self.remove_class("shown")
        if self.target is not None:
            self.target.focus()

    def action_clear(self) -> None:
        self.remove_class("shown")
        if self.target is not None:
            self.target.filter_text = ""
            self.target.focus()
