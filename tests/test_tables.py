"""The tables' cells as they show: text with brackets in it, and the `+N` mark of a tag with other names."""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult

from imgtui.engine.models import Image, Layer, Tag
from imgtui.ui.widgets.image_tables import LayerTable, TagTable
from imgtui.ui.widgets.tables import Cell


class One(App[None]):
    def __init__(self, table: LayerTable | TagTable) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


def row_text(table: LayerTable | TagTable, row: int) -> str:
    return "".join(strip.text for strip in [table.render_line(table.header_height + row)])


async def test_brackets_in_a_command_or_a_comment_show_as_they_are() -> None:
    """A command holding `[/tmp]` and a commit message `[wip] fix` show as written. If it broke, the first
    would stop the app with a MarkupError (a string cell is read as Rich markup) and the second would lose
    its brackets."""
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    layer = Layer("sha256:" + "a" * 64, when, "RUN test -d [/tmp] && ls", 3, "[wip] fix")
    table = LayerTable(id="layers")
    async with One(table).run_test(size=(140, 6)) as pilot:
        table.set_items([layer])
        await pilot.pause()
        shown = row_text(table, 0)
        assert "RUN test -d [/tmp] && ls" in shown and "[wip] fix" in shown, shown


async def test_a_tag_with_other_names_shows_its_mark_and_a_marked_row_too() -> None:
    """`latest +2` for an image with two more names, styled, also once the row is marked with space."""
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    image = Image("sha256:" + "b" * 64, ("app:latest", "app:v1", "other:x"), (), when, 100)
    table = TagTable(id="tags")
    async with One(table).run_test(size=(100, 6)) as pilot:
        table.set_items([Tag("app", "latest", image)])
        await pilot.pause()
        assert "latest +2" in row_text(table, 0)
        table.focus()
        await pilot.press("space")
        await pilot.pause()
        assert "● latest +2" in row_text(table, 0)


class CountingTags(TagTable):
    """A tags table that notes each row whose cells it makes."""

    def __init__(self) -> None:
        super().__init__(id="tags")
        self.made: list[str] = []

    def cells(self, item: Tag) -> tuple[Cell, ...]:
        self.made.append(item.tag)
        return super().cells(item)


async def test_rows_are_made_only_when_shown() -> None:
    """10,000 tags in a table 24 lines high: the cells of the rows on screen are made, not of the others
    (a table of 10,000 images would hold every row's cells: about 1.5 KiB a row). After `end`, the last
    rows show and only those are made in addition; the first row is still the one the cursor left."""
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tags = [
        Tag("app", f"v{n:05d}", Image(f"sha256:{n:064x}", (f"app:v{n:05d}",), (), when, 100))
        for n in range(10_000)
    ]
    table = CountingTags()
    async with One(table).run_test(size=(100, 24)) as pilot:
        table.set_items(tags)
        await pilot.pause()
        lines = table.size.height - table.header_height
        assert table.row_count == 10_000 and 0 < lines <= 23
        assert sorted(set(table.made)) == [f"v{n:05d}" for n in range(lines)], table.made[:50]
        assert "v00000" in row_text(table, 0)
        table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert table.current is tags[-1] and table.cursor_row == 9_999
        last = [f"v{n:05d}" for n in range(10_000 - lines, 10_000)]
        assert sorted(set(table.made)) == [f"v{n:05d}" for n in range(lines)] + last
        assert table.get_row_at(9_999)[0] == "v09999"
