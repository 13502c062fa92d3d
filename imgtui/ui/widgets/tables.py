"""ItemTable: a DataTable of items that filters them as you type, marks them, and keeps the cursor on the same
item across live updates. Its rows are made only when shown: the table holds its items, and DataTable's row
storage is a view of them (`_Rows` and the classes beside it) that makes a row's cells when a line of it is
drawn, so a table of 10,000 images keeps the cells of the 30-odd rows on screen, not of 10,000."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, Union, cast, overload

from rich.markup import escape
from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, Row, RowKey, StringKey

T = TypeVar("T")
AGE_EVERY = 60.0
"""Seconds between re-reads of the rows' relative times."""
PATCH_LIMIT = 200
"""More rows than this added or removed at once, and the table scrolls back to its top (as a rebuilt
DataTable does); fewer, and it stays where it was (a live update touches a few rows of thousands)."""
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
    """A DataTable of items of one kind, with a filter, whose text columns share the width that is left.

    DataTable keeps, per row, a key object, a Row, a dict of its cells and entries in three indexes (about
    1.5 KiB a row with its cells): here those are views of `_shown` and `_keys` (`_Rows`, `_Cells`,
    `_Locations`, `_Lines`), and a row's cells are made by `cells()` when DataTable draws it (its own caches
    keep those of the rows drawn lately, keyed by `_update_count`, which every change of the items bumps).
    All rows are one line high. `add_row`, `remove_row`, `update_cell` and `sort` are DataTable's and do not
    apply: the items are set with `set_items`."""

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
        # Before DataTable's __init__, which already reads the rows (through the views below).
        self._items: list[T] = []
        self._shown: list[T] = []
        """The items the filter lets through, in row order: row n shows `_shown[n]`."""
        self._keys: list[str] = []
        """`item_key` of each shown item, in row order."""
        self._row_of: dict[str, int] = {}
        """Row of each shown key."""
        self._column_keys: list[ColumnKey] = []
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._widths: dict[str, int] = {}
        self._title_text = ""
        self.marked: set[str] = set()
        """Keys of the rows marked with space (kept across filtering and live updates)."""
        self._sized = False
        """False until the first resize: before it the widths are not known."""
        # DataTable's row storage, as views of the items (see the class's docstring).
        self.rows = _Rows(self)  # type: ignore[assignment]
        self._data = _Cells(self)  # type: ignore[assignment]
        self._row_locations = _Locations(self)  # type: ignore[assignment]

    def on_mount(self) -> None:
        self._widths = self._column_widths(0)
        self._add_columns()
        self.set_interval(AGE_EVERY, self._age)

    def _age(self) -> None:
        """Relative times ("3 minutes ago") read again once a minute: the rows on screen are drawn again
        (the terminal gets only the cells whose text changed, imgtui/ui/terminal.py)."""
        if self._sized and self._items and self.is_on_screen:
            self._repaint()

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

    # -- DataTable's row storage, as views (private names of Textual 8.2.8, tests/test_private_names.py) --
    @property
    def _y_offsets(self) -> _Lines:  # type: ignore[override]
        """(row key, line in the row) of each line: one line a row."""
        return _Lines(self)

    @property
    def ordered_rows(self) -> _OrderedRows:  # type: ignore[override]
        return _OrderedRows(self, 0, len(self._keys))

    def _get_row_region(self, row_index: int) -> Region:
        """DataTable's, without adding up the heights of every row above (one line each)."""
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        width = sum(column.get_render_width(self) for column in self.columns.values())
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(0, y, max(self.size.width, width + self._row_label_column_width), 1)

    def _get_cell_region(self, coordinate: Coordinate) -> Region:
        """DataTable's, without adding up the heights of every row above (one line each)."""
        if not self.is_valid_coordinate(coordinate):
            return Region(0, 0, 0, 0)
        row_index, column_index = coordinate
        columns = self.ordered_columns
        x = sum(c.get_render_width(self) for c in columns[:column_index]) + self._row_label_column_width
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(x, y, columns[column_index].get_render_width(self), 1)

    def clear(self, columns: bool = False) -> ItemTable[T]:
        """No rows (and no columns if asked), as DataTable's; the items are kept (`set_items` shows them)."""
        self._set_rows([], [])
        super().clear(columns)
        self._row_locations = _Locations(self)  # type: ignore[assignment]  # DataTable's clear made a new one
        if columns:
            self._column_keys = []
        return self

    def add_row(self, *cells: Any, **_: Any) -> RowKey:
        raise TypeError("an ItemTable's rows are its items: use set_items")

    def _row_cells(self, row: int) -> tuple[Cell, ...]:
        """The cells of row `row` as shown: made now, from its item."""
        key = self._keys[row]
        cells = self.cells(self._shown[row])
        if any(isinstance(c, str) and "[" in c and not isinstance(c, Markup) for c in cells):
            cells = tuple(map(_literal, cells))  # a copy only where a bracket needs escaping
        return self._decorated(key, cells)

    def _add_columns(self) -> None:
        self._column_keys = [
            self.add_column(label, key=key, width=self._widths[key]) for key, label, _ in self.COLUMNS
        ]

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
        return list(self._shown)

    @property
    def current(self) -> T | None:
        """The item under the cursor, if any."""
        row = self.cursor_row
        return self._shown[row] if 0 <= row < len(self._shown) else None

    def set_items(self, items: list[T]) -> None:
        self._items = list(items)
        self._show()

    def select_key(self, key: str) -> bool:
        row = self._row_of.get(key)
        if row is not None:
            self.move_cursor(row=row, animate=False)
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
        self._repaint()
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
            self._repaint()
            self.post_message(self.MarksChanged(self))

    def _decorated(self, key: str, cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
        if key not in self.marked:
            return cells
        first = Text("● ", style="bold yellow")
        first.append_text(Text.from_markup(cells[0]) if isinstance(cells[0], str) else cells[0])  # as shown
        return (first, *cells[1:])

    def _repaint(self) -> None:
        """The same rows, drawn again (marks changed, or the minute): DataTable's caches are keyed by
        `_update_count`."""
        self._update_count += 1
        self._clear_caches()
        self.refresh()

    def _set_rows(self, shown: list[T], keys: list[str]) -> None:
        self._shown, self._keys = shown, keys
        self._row_of = {key: n for n, key in enumerate(keys)}
        self._update_count += 1
        self._clear_caches()

    def _show(self, rebuild: bool = False) -> None:
        """Rows for the items the filter lets through, the cursor kept on the same item (else on the same
        row). Nothing is drawn here: DataTable draws the rows on screen when it paints."""
        needle = self.filter_text.casefold()
        visible = [i for i in self._items if not needle or needle in self.haystack(i).casefold()]
        keys = [self.item_key(i) for i in visible]
        current, row = self._cursor_key(), self.cursor_row
        if rebuild:
            self.clear(columns=True)
            self._add_columns()
        elif len(keys) + len(self._keys) > PATCH_LIMIT:
            old = self._row_of
            changed = sum(1 for k in keys if k not in old) + len(old) - sum(1 for k in keys if k in old)
            if changed > PATCH_LIMIT:
                self.clear()  # as a DataTable rebuilt whole: back to its top
        before = self._row_of.get(current) if current is not None else None
        self._set_rows(visible, keys)
        self._update_dimensions(())
        self.refresh()
        after = self._row_of.get(current) if current is not None else None
        if rebuild or after is None or after != before or row >= len(keys):
            self._restore_cursor(current, row)

    def _cursor_key(self) -> str | None:
        return self._keys[self.cursor_row] if 0 <= self.cursor_row < len(self._keys) else None

    def _restore_cursor(self, key: str | None, row: int) -> None:
        """Back on the same item if it is still shown, else on the row where the cursor was."""
        if key is not None and key in self._row_of:
            self.move_cursor(row=self._row_of[key], animate=False)
        elif self._keys:
            self.move_cursor(row=min(max(row, 0), len(self._keys) - 1), animate=False)

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


def _value(key: object) -> str:
    """A row key as the plain string the views index by (DataTable passes RowKeys or strings)."""
    return cast(str, key.value if isinstance(key, StringKey) else key)


class _Rows(Mapping[Any, Row]):
    """DataTable's `rows` (row key -> Row), made on demand."""

    def __init__(self, table: ItemTable[Any]) -> None:
        self.table = table

    def __len__(self) -> int:
        return len(self.table._keys)

    def __iter__(self) -> Iterator[RowKey]:
        return (RowKey(key) for key in self.table._keys)

    def __contains__(self, key: object) -> bool:
        return _value(key) in self.table._row_of

    def __getitem__(self, key: object) -> Row:
        value = _value(key)
        if value not in self.table._row_of:
            raise KeyError(key)
        return Row(RowKey(value), 1)  # type: ignore[arg-type]

    def clear(self) -> None:
        """DataTable.clear's: the rows are the table's items."""


class _Cells(Mapping[Any, dict[ColumnKey, Cell]]):
    """DataTable's `_data` (row key -> {column key: cell}): a row's cells made when asked for."""

    def __init__(self, table: ItemTable[Any]) -> None:
        self.table = table

    def __len__(self) -> int:
        return len(self.table._keys)

    def __iter__(self) -> Iterator[RowKey]:
        return (RowKey(key) for key in self.table._keys)

    def __contains__(self, key: object) -> bool:
        return _value(key) in self.table._row_of

    def __getitem__(self, key: object) -> dict[ColumnKey, Cell]:
        row = self.table._row_of.get(_value(key))
        if row is None:
            raise KeyError(key)
        return dict(zip(self.table._column_keys, self.table._row_cells(row)))

    def clear(self) -> None:
        """DataTable.clear's: the rows are the table's items."""


class _Locations:
    """DataTable's `_row_locations` (row key <-> row index)."""

    def __init__(self, table: ItemTable[Any]) -> None:
        self.table = table

    def __len__(self) -> int:
        return len(self.table._keys)

    def __iter__(self) -> Iterator[RowKey]:
        return (RowKey(key) for key in self.table._keys)

    def __contains__(self, key: object) -> bool:
        return _value(key) in self.table._row_of

    def get(self, key: object) -> int | None:
        return self.table._row_of.get(_value(key))

    def get_key(self, row: int) -> RowKey | None:
        keys = self.table._keys
        return RowKey(keys[row]) if 0 <= row < len(keys) else None


class _Lines(Sequence[tuple[RowKey, int]]):
    """DataTable's `_y_offsets`: (row key, line within the row) of each line of the table."""

    def __init__(self, table: ItemTable[Any]) -> None:
        self.table = table

    def __len__(self) -> int:
        return len(self.table._keys)

    @overload
    def __getitem__(self, y: int) -> tuple[RowKey, int]: ...
    @overload
    def __getitem__(self, y: slice) -> list[tuple[RowKey, int]]: ...
    def __getitem__(self, y: int | slice) -> tuple[RowKey, int] | list[tuple[RowKey, int]]:
        if isinstance(y, slice):
            return [(RowKey(key), 0) for key in self.table._keys[y]]
        return RowKey(self.table._keys[y]), 0

    def clear(self) -> None:
        """DataTable.clear's: the rows are the table's items."""


class _OrderedRows(Sequence[Row]):
    """DataTable's `ordered_rows`, rows `start` to `stop`, each made when reached."""

    def __init__(self, table: ItemTable[Any], start: int, stop: int) -> None:
        self.table, self.start, self.stop = table, start, stop

    def __len__(self) -> int:
        return max(self.stop - self.start, 0)

    @overload
    def __getitem__(self, n: int) -> Row: ...
    @overload
    def __getitem__(self, n: slice) -> _OrderedRows: ...
    def __getitem__(self, n: int | slice) -> Row | _OrderedRows:
        if isinstance(n, slice):
            start, stop, step = n.indices(len(self))
            if step != 1:
                raise ValueError("ordered_rows: a step is not supported")
            return _OrderedRows(self.table, self.start + start, self.start + max(stop, start))
        if n < 0:
            n += len(self)
        if not 0 <= n < len(self):
            raise IndexError(n)
        return Row(RowKey(self.table._keys[self.start + n]), 1)

    def __iter__(self) -> Iterator[Row]:
        keys = self.table._keys
        return (Row(RowKey(keys[n]), 1) for n in range(self.start, min(self.stop, len(keys))))


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
