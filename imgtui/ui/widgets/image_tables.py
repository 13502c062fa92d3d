"""The tables of the images view and of the lists it opens: repositories, tags, layers, containers, search
results. Each says which columns it has and how an item reads in them (tables.py does the rest)."""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from imgtui.engine import NONE, Container, Layer, Repository, Tag
from imgtui.engine.transfer import SearchResult
from imgtui.ui import format as fmt
from imgtui.ui.widgets.tables import Cell, ItemTable, Markup, PositionTable, right


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
        tag: Cell
        if item.tag == NONE:
            tag = Text(NONE, style="dim italic")
        elif mark:  # markup in a string: a Text per row holds several times the memory (10,000 rows)
            tag = Markup(
                f"{escape(fmt.cut(item.tag, self.width_of('tag') - len(mark)))}[bold magenta]{mark}[/]"
            )
        else:
            tag = fmt.cut(item.tag, self.width_of("tag"))  # a plain string: less memory than a Text
        return (tag, item.image.short_id, fmt.ago(item.image.created), right(fmt.size(item.image.size)))

    def haystack(self, item: Tag) -> str:
        return f"{item.tag} {item.image.short_id}"


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
