"""`l` in the containers view: `docker logs -f` of one container in a pane: follow, search, timestamps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Log, Static
from textual.worker import get_current_worker

from imgtui.engine import Container, Engine
from imgtui.engine.containers import LogStream
from imgtui.ui import commands
from imgtui.ui.commands import Where

KEPT_LINES = 20000
"""Lines kept in memory (the newest): `docker logs` of a chatty container can be endless."""
TAIL = 5000
"""Lines asked of the engine when the pane opens (then every new one)."""


class LogsScreen(Screen[None]):
    """The logs of one container, kept following while the pane is open."""

    WHERE = Where.LOGS
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]

    @dataclass
    class Lines(Message):
        """New lines from the stream (one message per chunk the engine sent)."""

        generation: int
        lines: list[str]

    @dataclass
    class Ended(Message):
        generation: int

    def __init__(self, engine: Engine, container: Container) -> None:
        super().__init__()
        self.engine = engine
        self.container = container
        self.lines: list[str] = []
        self.following = True
        self.timestamps = False
        self.search = ""
        self.ended = False
        self._stream: LogStream | None = None
        self._generation = 0
        self.log_view = Log(id="logs-lines", highlight=False, auto_scroll=True)

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        yield Static(f"Logs of {self.container.name} ({self.container.short_id}, {self.container.image})",
                     classes="screen-title")  # fmt: skip
        yield self.log_view
        yield Input(placeholder="show lines containing (enter keeps, escape clears)", id="logs-search",
                    classes="filter-bar")  # fmt: skip
        yield Footer()

    def on_mount(self) -> None:
        self._title()
        self.log_view.focus()
        self._open()

    def on_unmount(self) -> None:
        self._close()

    # -- the stream -------------------------------------------------------------------------------------
    def _open(self) -> None:
        self._close()
        self._generation += 1
        self.lines = []
        self.ended = False
        self.log_view.clear()
        self._follow(self._generation, self.timestamps)

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    @work(thread=True, group="logs", exit_on_error=False, description="Reading the logs")
    def _follow(self, generation: int, timestamps: bool) -> None:
        stream = self.engine.container_logs(self.container.id, timestamps, TAIL)
        if generation != self._generation:
            stream.close()
            return
        self._stream = stream
        worker = get_current_worker()
        for batch in stream.batches():
            if worker.is_cancelled or generation != self._generation:
                break
            self.post_message(self.Lines(generation, batch))
        self.post_message(self.Ended(generation))

    def on_logs_screen_lines(self, message: Lines) -> None:
        if message.generation != self._generation:
            return
        self.lines.extend(message.lines)
        if len(self.lines) > KEPT_LINES:
            del self.lines[: len(self.lines) - KEPT_LINES]
            self._show_all()
            return
        shown = [line for line in message.lines if self._matches(line)]
        if shown:
            self.log_view.write_lines(shown, scroll_end=self.following)
        self._title()

    def on_logs_screen_ended(self, message: Ended) -> None:
        if message.generation == self._generation:
            self.ended = True
            self._title()

    # -- what is shown ------------------------------------------------------------------------------------
    def _matches(self, line: str) -> bool:
        return not self.search or self.search.casefold() in line.casefold()

    @property
    def shown_lines(self) -> list[str]:
        return [line for line in self.lines if self._matches(line)]

    def _show_all(self) -> None:
        self.log_view.clear()
        self.log_view.write_lines(self.shown_lines, scroll_end=self.following)
        self._title()

    def _title(self) -> None:
        parts = [f"{len(self.lines)} lines"]
        if self.search:
            parts.append(f"{len(self.shown_lines)} contain {self.search!r}")
        parts.append("following" if self.following else "not following (f follows)")
        if self.timestamps:
            parts.append("timestamps")
        if self.ended:
            parts.append("the container stopped: its log ends here")
        self.log_view.border_title = " · ".join(parts)

    # -- commands ---------------------------------------------------------------------------------------
    def command_follow_logs(self) -> None:
        self.following = not self.following
        self.log_view.auto_scroll = self.following
        if self.following:
            self.log_view.scroll_end(animate=False)
        self._title()

    def command_timestamps(self) -> None:
        """The engine adds the timestamps: read the log again with them (or without)."""
        self.timestamps = not self.timestamps
        self._open()
        self._title()

    def command_search_logs(self) -> None:
        field = self.query_one("#logs-search", Input)
        field.value = self.search
        field.add_class("shown")
        self.set_focus(field)

    @on(Input.Changed, "#logs-search")
    def _search_typed(self, event: Input.Changed) -> None:
        event.stop()
        self.search = event.value
        self._show_all()

    @on(Input.Submitted, "#logs-search")
    def _search_kept(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.remove_class("shown")
        self.log_view.focus()

    def command_close_logs(self) -> None:
        field = self.query_one("#logs-search", Input)
        if field.has_class("shown") or self.search:
            field.remove_class("shown")
            field.value = ""
            self.search = ""
            self._show_all()
            self.log_view.focus()
            return
        self._close()
        self.dismiss(None)
