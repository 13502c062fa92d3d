"""ItemTable: a DataTable of items that filters them as you type, marks them, and keeps the cursor on the same
item across live updates (changing only the cells that changed when the rows stay the same)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar, Union

from rich.markup import escape
from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

T = TypeVar("T")
AGE_EVERY = 60.0
"""Seconds between re-reads of the rows' relative times."""
PATCH_LIMIT = 200
"""Up to this many rows added or removed at once are patched in; more, and the table is rebuilt."""
Cell = Union[str, Text]


def right(text: str, width: int = 7) -> str:
    """Right-aligned (DataTable's fixed-width columns do not justify on their own). A plain string, not a
    Text: a table of 10,000 rows holds two of these per row, and a Text costs several times the memory."""
    return text.rjust(width)


def _literal(cell: Cell) -> Cell:
    """A string cell shown as it is: DataTable reads a string as Rich markup (a commit message `[wip] fix`
    lost its brackets; a command holding `[/tmp]` raised MarkupError), so brackets are escaped. Subclasses
    that want markup (a styled mark in a string, lighter than a Text) return a `Markup`."""
    if isinstance(cell, Markup) or not isinstance(cell, str) or "[" not in cell:
        return cell
    return escape(cell)


class Markup(str):
    """A string cell that is Rich markup on purpose (see _literal)."""


class ItemTable(DataTable[Cell], Generic[T]):
    """A DataTable of items of one kind, with a filter, whose text columns share the width that is left."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("space", "toggle_mark", "Mark", show=False),
        Binding("home", "first_row", "First", show=False),
        Binding("end", "last_row", "Last", show=False),
    ]
    MARKABLE: ClassVar[bool] = False
    """Rows can be marked with space for bulk actions."""
    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = ()
    """(key, label, width) of each column; a width of 0 marks a column that takes a share of what is left."""
    FLEX: ClassVar[dict[str, tuple[int, int]]] = {}
    """For the width-0 columns: (weight, minimum width)."""
    NOUN: ClassVar[str] = "items"

    filter_text: reactive[str] = reactive("", init=False)
    """Rows whose text does not contain this (case-insensitive) are hidden."""

    @dataclass
    class Filtered(Message):
        """The filter changed which rows show (the panes that follow this one need to catch up)."""

        table: ItemTable

    @dataclass
    class MarksChanged(Message):
        """Rows were marked or unmarked."""

        table: ItemTable

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._items: list[T] = []
        self._keys: list[str] = []
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._by_key: dict[str, T] = {}
        self._widths: dict[str, int] = {}
        self._title_text = ""
        self._cell_cache: dict[str, tuple[object, bool, int, tuple[Cell, ...]]] = {}
        self.marked: set[str] = set()
        """Keys of the rows marked with space (kept across filtering and live updates)."""
        self._sized = False
        """False until the first resize: before it the widths are not known, and rows made then would be
        made again (at start-up, 1000 rows twice in each pane)."""

    def on_mount(self) -> None:
        self._widths = self._column_widths(0)
        self._add_columns()
        self.set_interval(AGE_EVERY, self._age)

    def _age(self) -> None:
        """Relative times ("3 minutes ago") read again once a minute; only cells whose text changed are
        written (the cell cache is per minute)."""
        if self._sized and self._items and self.is_on_screen:
            self._show()

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        widths = self._column_widths(width)
        if widths != self._widths or (width and not self._sized):
            self._sized = self._sized or width > 0
            self._widths = widths
            self._show(rebuild=True)

    def _update_dimensions(self, new_rows: object) -> None:
        """Every column here has a set width and every row is one line, so there is nothing to measure per
        row: DataTable's own version renders each new cell to measure it (seconds for 10,000 rows).

        Textual has no public hook for this: this overrides DataTable's private `_update_dimensions` and reads
        its `_total_row_height` and `_row_label_column_width` (checked on Textual 8.2.8;
        tests/test_private_names.py fails if a release renames them)."""
        header = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width + self._row_label_column_width, self._total_row_height + header)

    def _add_columns(self) -> None:
        for key, label, _ in self.COLUMNS:
            self.add_column(label, key=key, width=self._widths[key])

    def _column_widths(self, total: int) -> dict[str, int]:
        widths = {key: width for key, _, width in self.COLUMNS}
        padding = 2 * self.cell_padding * len(self.COLUMNS)
        left = total - padding - sum(widths.values())
        weight = sum(w for w, _ in self.FLEX.values()) or 1
        for key, (share, minimum) in self.FLEX.items():
            widths[key] = max(minimum, left * share // weight)
        return widths

    def width_of(self, key: str) -> int:
        return self._widths.get(key) or dict(self.FLEX).get(key, (1, 12))[1]

    # -- what subclasses say -----------------------------------------------------------------------
    def item_key(self, item: T) -> str:
        raise NotImplementedError

    def cells(self, item: T) -> tuple[Cell, ...]:
        raise NotImplementedError

    def haystack(self, item: T) -> str:
        """The text the filter searches."""
        raise NotImplementedError

    # -- state ---------------------------------------------------------------------------------------
    @property
    def items(self) -> list[T]:
        return list(self._items)

    @property
    def shown_items(self) -> list[T]:
        """The items the filter lets through, in row order."""
        return [self._by_key[k] for k in self._keys]

    @property
    def current(self) -> T | None:
        """The item under the cursor, if any."""
        key = self._cursor_key()
        return self._by_key[key] if key is not None else None

    def set_items(self, items: list[T]) -> None:
        self._items = list(items)
        self._show()

    def select_key(self, key: str) -> bool:
        if key in self._by_key:
            self.move_cursor(row=self._keys.index(key), animate=False)
            return True
        return False

    def watch_filter_text(self) -> None:
        self._show()
        self.post_message(self.Filtered(self))

    def action_first_row(self) -> None:
        self.move_cursor(row=0, animate=False)

    def action_last_row(self) -> None:
        self.move_cursor(row=max(self.row_count - 1, 0), animate=False)

    def action_clear_filter(self) -> None:
        if not self.filter_text:
            raise SkipAction()
        self.filter_text = ""

    def action_toggle_mark(self) -> None:
        """Mark or unmark the row under the cursor, then move down (like a file manager)."""
        if not self.MARKABLE or self.current is None:
            raise SkipAction()
        key = self.item_key(self.current)
        self.marked ^= {key}
        self._show()
        self.action_cursor_down()
        self.post_message(self.MarksChanged(self))

    def marked_items(self) -> list[T]:
        return [i for i in self._items if self.item_key(i) in self.marked]

    def clear_marks(self) -> None:
        self.unmark(self.marked)

    def unmark(self, keys: Iterable[str]) -> None:
        """Take these marks off (rows need not be shown: marks outlive filtering and other lists)."""
        gone = self.marked.intersection(keys)
        if gone:
            self.marked = self.marked - gone
            self._show()
            self.post_message(self.MarksChanged(self))

    def _decorated(self, key: str, cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
        if key not in self.marked:
            return cells
        first = Text("● ", style="bold yellow")
        first.append_text(Text.from_markup(cells[0]) if isinstance(cells[0], str) else cells[0])  # as shown
        return (first, *cells[1:])

    def _show(self, rebuild: bool = False) -> None:
        needle = self.filter_text.casefold()
        visible = [i for i in self._items if not needle or needle in self.haystack(i).casefold()]
        keys = [self.item_key(i) for i in visible]
        self._by_key = dict(zip(keys, visible))
        if not self._sized:  # the rows are made at the first resize; `current` already works
            self._keys, self._cells = keys, {}
            return
        cells = self._all_cells(keys, visible, fresh=rebuild)
        if not rebuild and self.row_count == len(self._keys) and self._patch(keys, cells):
            return
        current, row = self._cursor_key(), self.cursor_row
        self.clear(columns=rebuild)
        if rebuild:
            self._add_columns()
        self._keys, self._cells = keys, cells
        for key in keys:
            self.add_row(*cells[key], key=key)
        self._restore_cursor(current, row)

    def _cursor_key(self) -> str | None:
        return self._keys[self.cursor_row] if 0 <= self.cursor_row < len(self._keys) else None

    def _restore_cursor(self, key: str | None, row: int) -> None:
        """Back on the same item if it is still shown, else on the row where the cursor was."""
        if key in self._cells:
            self.move_cursor(row=self._keys.index(key), animate=False)
        elif self._keys:
            self.move_cursor(row=min(max(row, 0), len(self._keys) - 1), animate=False)

    def _patch(self, keys: list[str], cells: dict[str, tuple[Cell, ...]]) -> bool:
        """Bring the rows to `keys` by removing, updating and adding only what changed (a live update
        touches a few rows of thousands); False when a rebuild is simpler."""
        old = set(self._keys)
        added = [k for k in keys if k not in old]
        removed = old.difference(keys)
        if len(added) + len(removed) > PATCH_LIMIT:
            return False
        current, row = self._cursor_key(), self.cursor_row
        for key in removed:
            self.remove_row(key)
        for key in keys:
            if key not in old:
                continue
            if cells[key] == self._cells[key]:
                # Keep the objects the table holds: the sort below finds rows by them.
                cells[key] = self._cells[key]
            else:
                for (column, _, _), value in zip(self.COLUMNS, cells[key]):
                    self.update_cell(key, column, value)
        for key in added:
            self.add_row(*cells[key], key=key)
        reordered = bool(added) or [k for k in self._keys if k not in removed] != keys
        self._keys, self._cells = keys, cells
        if reordered:
            # DataTable sorts by cell values; the first cell object of each row stands for its key.
            order = {id(cells[key][0]): n for n, key in enumerate(keys)}
            self.sort(key=lambda values: order[id(values[0])])
        if removed or reordered:
            self._restore_cursor(current, row)
        return True

    def _all_cells(self, keys: list[str], items: list[T], fresh: bool) -> dict[str, tuple[Cell, ...]]:
        """Cells of every row, reusing those of rows whose item, mark and minute have not changed (formatting
        thousands of rows is the slow part of a refresh)."""
        minute = int(time.monotonic() // AGE_EVERY)
        old = {} if fresh else self._cell_cache
        cache: dict[str, tuple[object, bool, int, tuple[Cell, ...]]] = {}
        out: dict[str, tuple[Cell, ...]] = {}
        for key, item in zip(keys, items):
            marked = key in self.marked
            hit = old.get(key)
            if (
                hit is not None
                and hit[1] == marked
                and hit[2] == minute
                and (hit[0] is item or hit[0] == item)
            ):
                cells = hit[3]
            else:
                cells = self.cells(item)
                if any(isinstance(c, str) and "[" in c and not isinstance(c, Markup) for c in cells):
                    cells = tuple(map(_literal, cells))  # a copy only where a bracket needs escaping
                cells = self._decorated(key, cells)
            cache[key] = (item, marked, minute, cells)
            out[key] = cells
        self._cell_cache = cache
        return out

    def set_title(self, text: str) -> None:
        """Set the border title only when it changes (setting it repaints the whole table)."""
        if text != self._title_text:
            self._title_text = text
            self.border_title = text

    def title(self, label: str) -> str:
        shown, total = len(self._keys), len(self._items)
        count = f"{shown}/{total}" if self.filter_text else f"{total}"
        title = f"{label} ({count})"
        if self.filter_text:
            title += f" filter: {self.filter_text}"
        if self.marked:
            title += f" · {len(self.marked)} marked"
        return title


class PositionTable(ItemTable[T]):
    """Rows keyed by their position: history rows need not be unique (several `<missing>` layers)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._index: dict[int, int] = {}

    def set_items(self, items: list[T]) -> None:
        self._index = {id(item): n for n, item in enumerate(items)}
        super().set_items(items)

    def item_key(self, item: T) -> str:
        return str(self._index.get(id(item), id(item)))
