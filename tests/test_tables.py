"""The tables' cells as they show: text with brackets in it, and the `+N` mark of a tag with other names."""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult

from imgtui.engine.models import Image, Layer, Tag
from imgtui.ui.widgets.image_tables import LayerTable, TagTable


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
