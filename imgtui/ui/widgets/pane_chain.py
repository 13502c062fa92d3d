"""PaneChain: two lists side by side over a third with detail lines under it, each following the one before.

The images view (repositories → tags → layers) and the registry view (repositories → tags → layers of a
registry) are both one. The chain owns the timing: a pane follows the one before once its cursor rests
(`rest` seconds, so that a held key repaints one list and asks nothing), or at once when its owner says
following costs nothing (`chain_ready`: the layers are cached). Enter moves on to the next pane; a filter
counts as a move. What following means is the owner's (the screen's) business: `chain_follow(pane)`.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import DataTable

from imgtui.ui.widgets.filter_bar import FilterBar
from imgtui.ui.widgets.fixed import FixedLines
from imgtui.ui.widgets.tables import ItemTable


class ChainOwner(Protocol):
    """What the screen holding a chain answers."""

    def chain_moved(self, pane: int) -> None:
        """The cursor of `pane` (0, 1 or 2) moved: titles, detail lines, lazy reading."""

    def chain_ready(self, pane: int) -> bool:
        """True when the pane after `pane` can follow at once (what it shows is already here)."""

    def chain_follow(self, pane: int) -> None:
        """The cursor of `pane` (0 or 1) rests: bring the pane after it up to date."""

    def chain_open(self, pane: int) -> None:
        """Enter on the last pane (2): open what its row holds."""


class PaneChain(Vertical):
    """Three ItemTables and detail lines; see the module's docstring. The screen holding it is its owner."""

    def __init__(
        self,
        first: ItemTable[Any],
        second: ItemTable[Any],
        third: ItemTable[Any],
        detail: FixedLines,
        *,
        rest: tuple[float, float],
        id: str | None = None,  # noqa: A002 - Textual's name
    ) -> None:
        super().__init__(id=id)
        self.panes = (first, second, third)
        self.detail = detail
        self.rest = rest
        self._rest_timers: list[Timer | None] = [None, None]

    def compose(self) -> ComposeResult:
        with Horizontal(classes="chain-top"):
            yield self.panes[0]
            yield self.panes[1]
        with Vertical(classes="chain-bottom"):
            yield self.panes[2]
            yield self.detail

    @property
    def owner(self) -> ChainOwner:
        return cast(ChainOwner, self.screen)

    def pane_of(self, table: object) -> int | None:
        """0, 1 or 2 for one of this chain's tables, else None."""
        return next((n for n, pane in enumerate(self.panes) if pane is table), None)

    def moved(self, pane: int) -> None:
        """Pane `pane` moved (cursor, filter, new rows): tell the owner, then let the next pane follow."""
        self.owner.chain_moved(pane)
        if pane == 2:
            return
        self.stop(pane)
        if not self.rest[pane] or self.owner.chain_ready(pane):
            self.owner.chain_follow(pane)
        else:
            self._rest_timers[pane] = self.set_timer(self.rest[pane], lambda: self._rested(pane))

    def follow_now(self, pane: int) -> None:
        """Let the pane after `pane` follow now, without waiting for the cursor to rest (an action needs it
        up to date, or rows came in)."""
        self.stop(pane)
        self.owner.chain_follow(pane)

    def stop(self, pane: int) -> None:
        """Forget a pending follow of the pane after `pane`."""
        timer, self._rest_timers[pane] = self._rest_timers[pane], None
        if timer is not None:
            timer.stop()

    def _rested(self, pane: int) -> None:
        self._rest_timers[pane] = None
        self.owner.chain_follow(pane)

    def open_filter(self) -> None:
        """The filter line, for the focused pane (the first when none of them has focus)."""
        focused = self.screen.focused
        target = focused if self.pane_of(focused) is not None else self.panes[0]
        self.screen.query_one(FilterBar).open_for(cast(ItemTable[Any], target))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        pane = self.pane_of(event.data_table)
        if pane is not None:
            self.moved(pane)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        pane = self.pane_of(event.data_table)
        if pane is not None and pane < 2:
            self.follow_now(pane)
            self.panes[pane + 1].focus()
        elif pane == 2:
            self.owner.chain_open(pane)

    @on(ItemTable.Filtered)
    @on(ItemTable.MarksChanged)
    def _changed(self, event: ItemTable.Filtered | ItemTable.MarksChanged) -> None:
        pane = self.pane_of(event.table)
        if pane is not None:
            self.moved(pane)
