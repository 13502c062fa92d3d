"""The registry view's panes: repositories of the catalog, tags (with a row per platform of an index), and
the layers of one image config."""

from __future__ import annotations

from rich.text import Text

from imgtui.registry import RemoteLayer, RemoteTag
from imgtui.ui import format as fmt
from imgtui.ui.widgets.tables import Cell, ItemTable, PositionTable, right

WAITING = Text("…", style="dim")


class RemoteRepoTable(ItemTable[str]):
    COLUMNS = (("name", "Repository", 0),)
    FLEX = {"name": (1, 12)}
    NOUN = "repositories"

    def item_key(self, item: str) -> str:
        return item

    def cells(self, item: str) -> tuple[Cell, ...]:
        return (fmt.cut_middle(item, self.width_of("name")),)

    def haystack(self, item: str) -> str:
        return item


class RemoteTagTable(ItemTable[RemoteTag]):
    """Tag, digest, kind, platform, created, size; a platform of an index shows as `└ os/arch` under it."""

    COLUMNS = (
        ("tag", "Tag", 0),
        ("digest", "Digest", 12),
        ("kind", "Kind", 11),
        ("platform", "Platform", 0),
        ("created", "Created", 14),
        ("size", "Size", 7),
    )
    FLEX = {"tag": (2, 8), "platform": (1, 11)}
    NOUN = "tags"

    def item_key(self, item: RemoteTag) -> str:
        return item.key

    def cells(self, item: RemoteTag) -> tuple[Cell, ...]:
        if item.parent:
            tag = Text("  └ ", style="dim")
            tag.append(fmt.cut(item.platform, self.width_of("tag") - 4))
        else:
            tag = Text(fmt.cut(item.tag, self.width_of("tag")))
        if item.error:
            problem = Text(fmt.cut(item.error, self.width_of("platform")), style="red")
            return (tag, Text("error", style="bold red"), "", problem, "", "")
        digest: Cell = item.digest[7:19] if item.digest else WAITING
        created: Cell = fmt.ago(item.created) if item.created else ("-" if item.loaded else WAITING)
        size: Cell = right(fmt.size(item.size)) if item.size is not None else ("" if item.loaded else WAITING)
        platform = fmt.cut(item.platform, self.width_of("platform"))
        return (tag, digest, item.kind or WAITING, platform, created, size)

    def haystack(self, item: RemoteTag) -> str:
        """The tag's name only (a platform row carries its index's tag, so it stays under it): a digest or a
        platform typed into the filter would match rows whose names have nothing of it."""
        return item.tag


class RemoteLayerTable(PositionTable[RemoteLayer]):
    """An image config's history, newest first, with the compressed size of each layer in the registry."""

    COLUMNS = (
        ("created", "Created", 14),
        ("created_by", "Created by", 0),
        ("size", "Size", 7),
        ("comment", "Comment", 0),
    )
    FLEX = {"created_by": (2, 16), "comment": (1, 10)}
    NOUN = "layers"

    def cells(self, item: RemoteLayer) -> tuple[Cell, ...]:
        size: Cell = right(fmt.size(item.size)) if item.size is not None else Text("   none", style="dim")
        return (
            fmt.ago(item.created) if item.created else "-",
            fmt.cut(item.created_by or "(no command recorded)", self.width_of("created_by")),
            size,
            fmt.cut(item.comment, self.width_of("comment")),
        )

    def haystack(self, item: RemoteLayer) -> str:
        return f"{item.created_by} {item.comment}"
