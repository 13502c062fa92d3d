"""The three panes' tables. Each holds its items, filters them as you type, and keeps the cursor on the
same item across live updates (changing only the cells that changed when the rows stay the same)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar, Union

from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from imgtui.engine import NONE, Container, Layer, Repository, Tag
from imgtui.engine.transfer import SearchResult
from imgtui.ui import format as fmt

T = TypeVar("T")
PATCH_LIMIT = 200
"""Up to this many rows added or removed at once are patched in; more, and the table is rebuilt."""
Cell = Union[str, Text]


def right(text: str, width: int = 7) -> Text:
    """Right-aligned (DataTable's fixed-width columns do not justify on their own)."""
    return Text(text.rjust(width))


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

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        widths = self._column_widths(width)
        if widths != self._widths or (width and not self._sized):
            self._sized = self._sized or width > 0
            self._widths = widths
            self._show(rebuild=True)

    def _update_dimensions(self, new_rows: object) -> None:
        """Every column here has a set width and every row is one line, so there is nothing to measure per
        row: DataTable's own version renders each new cell to measure it (seconds for 10,000 rows)."""
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
        if self.marked:
            self.marked = set()
            self._show()
            self.post_message(self.MarksChanged(self))

    def _decorated(self, key: str, cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
        if key not in self.marked:
            return cells
        first = Text("● ", style="bold yellow")
        first.append_text(cells[0] if isinstance(cells[0], Text) else Text(cells[0]))
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
        minute = int(time.monotonic() // 60)
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
                cells = self._decorated(key, self.cells(item))
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


class RepositoryTable(ItemTable[Repository]):
    """Repositories: name, tag count, size."""

    COLUMNS = (("name", "Repository", 0), ("tags", "Tags", 4), ("size", "Size", 7))
    FLEX = {"name": (1, 12)}
    NOUN = "repositories"
    MARKABLE = True

    def item_key(self, item: Repository) -> str:
        return item.name

    def cells(self, item: Repository) -> tuple[Cell, ...]:
        name = (
            Text(item.name, style="dim italic")
            if item.name == NONE
            else fmt.cut_middle(item.name, self.width_of("name"))
        )
        return (name, right(str(len(item.tags)), 4), right(fmt.size(item.size)))

    def haystack(self, item: Repository) -> str:
        return item.name


class TagTable(ItemTable[Tag]):
    """Tags of one repository: tag, short ID, created, size, and how many other names share the ID."""

    COLUMNS = (("tag", "Tag", 0), ("id", "Image ID", 12), ("created", "Created", 14), ("size", "Size", 7))
    FLEX = {"tag": (1, 6)}
    NOUN = "tags"
    MARKABLE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", "Sort", id="tags.sort", show=False, tooltip="By created, size or tag"),
    ]
    SORTS: ClassVar[tuple[str, ...]] = ("created", "size", "tag")
    sort_by: reactive[str] = reactive("created", init=False)
    """created: newest first (as `docker images`); size: biggest first; tag: by name."""

    def set_items(self, items: list[Tag]) -> None:
        if self.sort_by == "size":
            items = sorted(items, key=lambda t: (-t.image.size, t.tag))
        elif self.sort_by == "tag":
            items = sorted(items, key=lambda t: (t.tag, t.image.id))
        else:
            items = sorted(items, key=lambda t: (-t.image.created.timestamp(), t.tag))
        super().set_items(items)

    def action_cycle_sort(self) -> None:
        self.sort_by = self.SORTS[(self.SORTS.index(self.sort_by) + 1) % len(self.SORTS)]

    def watch_sort_by(self) -> None:
        self.set_items(self._items)
        self.notify(f"Tags sorted by {self.sort_by}", timeout=2)

    def item_key(self, item: Tag) -> str:
        return f"{item.repository}:{item.tag}" if item.repository != NONE else item.image.id

    def cells(self, item: Tag) -> tuple[Cell, ...]:
        others = len(item.image.names) - 1
        mark = f" +{others}" if others > 0 else ""
        if item.tag == NONE:
            tag = Text(NONE, style="dim italic")
        else:
            tag = Text(fmt.cut(item.tag, self.width_of("tag") - len(mark)))
            tag.append(mark, style="bold magenta")
        return (tag, item.image.short_id, fmt.ago(item.image.created), right(fmt.size(item.image.size)))

    def haystack(self, item: Tag) -> str:
        return f"{item.tag} {item.image.short_id}"


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


class LayerTable(PositionTable[Layer]):
    """`docker history` of one image, newest layer first. Its size column is what the engine's history
    gives: each layer's content bytes on the classic image store ("Size"), the disk its snapshot uses on the
    containerd image store ("Disk": 8 kB for a 13-byte file)."""

    COLUMNS = (
        ("id", "Image", 12),
        ("created", "Created", 14),
        ("created_by", "Created by", 0),
        ("size", "Size", 7),
        ("comment", "Comment", 0),
    )
    FLEX = {"created_by": (2, 16), "comment": (1, 10)}
    NOUN = "layers"

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.pending = False
        """True while the layers of the selected tag are being read (the old rows are cleared)."""

    def cells(self, item: Layer) -> tuple[Cell, ...]:
        layer_id = Text(item.display_id, style="dim") if item.display_id == "<missing>" else item.display_id
        return (
            layer_id,
            fmt.ago(item.created),
            fmt.cut(item.created_by, self.width_of("created_by")),
            right(fmt.size(item.size)),
            fmt.cut(item.comment, self.width_of("comment")),
        )

    def haystack(self, item: Layer) -> str:
        return f"{item.display_id} {item.created_by} {item.comment}"


class SnapshotLayerTable(LayerTable):
    """The layers on the containerd image store, whose history sizes are the disk each snapshot uses."""

    COLUMNS = (
        ("id", "Image", 12),
        ("created", "Created", 14),
        ("created_by", "Created by", 0),
        ("size", "Disk", 7),
        ("comment", "Comment", 0),
    )


class ContainerTable(ItemTable[Container]):
    """`docker ps -a`: ID, image, command, created, status, name."""

    COLUMNS = (
        ("id", "Container ID", 12),
        ("image", "Image", 0),
        ("command", "Command", 0),
        ("created", "Created", 14),
        ("status", "Status", 0),
        ("name", "Name", 0),
    )
    FLEX = {"image": (2, 10), "command": (2, 10), "status": (2, 10), "name": (2, 8)}
    NOUN = "containers"

    def item_key(self, item: Container) -> str:
        return item.id

    def cells(self, item: Container) -> tuple[Cell, ...]:
        status = Text(fmt.cut(item.status, self.width_of("status")), style="green" if item.running else "")
        return (
            item.short_id,
            fmt.cut(item.image, self.width_of("image")),
            fmt.cut(item.command, self.width_of("command")),
            fmt.ago(item.created),
            status,
            fmt.cut(item.name, self.width_of("name")),
        )

    def haystack(self, item: Container) -> str:
        return f"{item.id} {item.image} {item.image_id} {item.command} {item.status} {item.name}"


class SearchTable(ItemTable[SearchResult]):
    """`docker search`: name, description, stars, official, automated."""

    COLUMNS = (
        ("name", "Name", 0),
        ("description", "Description", 0),
        ("stars", "Stars", 7),
        ("official", "Official", 8),
        ("automated", "Automated", 9),
    )
    FLEX = {"name": (2, 12), "description": (3, 12)}
    NOUN = "results"

    def item_key(self, item: SearchResult) -> str:
        return item.name

    def cells(self, item: SearchResult) -> tuple[Cell, ...]:
        return (
            fmt.cut(item.name, self.width_of("name")),
            fmt.cut(item.description, self.width_of("description")),
            right(str(item.stars)),
            "[OK]" if item.official else "",
            "[OK]" if item.automated else "",
        )

    def haystack(self, item: SearchResult) -> str:
        return f"{item.name} {item.description}"
