"""`f`: `docker search` through the engine; enter pulls the selected result (dismisses with its name)."""

from __future__ import annotations

from typing import ClassVar, Optional

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from imgtui.engine.transfer import SearchResult
from imgtui.ui import commands
from imgtui.ui.commands import Where
from imgtui.ui.widgets.image_tables import SearchTable


class SearchScreen(Screen[Optional[str]]):
    WHERE = Where.SEARCH
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]

    def __init__(self, term: str, results: list[SearchResult]) -> None:
        super().__init__()
        self.term = term
        self.table = SearchTable(id="search-results")
        self.results = results

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        yield Static(
            f"docker search {self.term}: {len(self.results)} results (enter pulls)", classes="screen-title"
        )
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        self.table.set_items(self.results)
        self.table.set_title(self.table.title("Results"))
        self.table.focus()

    def command_pull_result(self) -> None:
        if self.table.current is not None:
            self.dismiss(self.table.current.name)

    def command_close_search(self) -> None:
        self.dismiss(None)
