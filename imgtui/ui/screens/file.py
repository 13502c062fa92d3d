"""`e` on a file of the layer contents: its text (the first 256 KiB), or a save of the whole file out of the
image. Only that file's bytes are read out of its layer, streamed: a save never holds the file in memory,
is written beside its target and renamed into place, so a cancelled or failed save leaves nothing behind."""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

import humanize
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Log, Static
from textual.worker import Worker, WorkerState

from imgtui.layers import Cancelled
from imgtui.layers.files import Extract
from imgtui.ui import commands
from imgtui.ui.commands import Where
from imgtui.ui.errors import sentence

PREVIEW = 256 << 10
PROGRESS_EVERY = 4 << 20


def looks_like_text(data: bytes) -> bool:
    """No NUL byte and mostly decodable as UTF-8 (a cut multi-byte character at the end is forgiven)."""
    if b"\0" in data:
        return False
    text = data.decode("utf-8", "replace")
    return text.count("\ufffd") <= 4


class Counting(io.RawIOBase):
    """A file that says how many bytes went through it."""

    def __init__(self, out: IO[bytes], report: Callable[[int], None]) -> None:
        self.out, self.report, self.done, self._said = out, report, 0, 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.out.write(data)
        self.done += len(data)
        if self.done - self._said >= PROGRESS_EVERY:
            self._said = self.done
            self.report(self.done)
        return len(data)


class FileScreen(Screen[None]):
    WHERE = Where.FILE
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]

    @dataclass
    class Previewed(Message):
        data: bytes

    @dataclass
    class Saving(Message):
        done: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, FileScreen.Saving)

    @dataclass
    class Saved(Message):
        target: Path
        size: int

    def __init__(self, extract: Extract, layer: int, path: str, size: int) -> None:
        super().__init__()
        self.extract, self.layer_index, self.file_path, self.file_size = extract, layer, path, size
        self.stop = threading.Event()
        self.saving = False
        self._replace: Path | None = None
        """A target that exists, shown once: enter again replaces it."""

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="file-title", classes="screen-title")
        yield Static("reading …", id="file-status")
        yield Log(id="file-body", highlight=False)
        yield Input(placeholder="save to (enter saves, escape closes this line)", id="file-save")
        yield Footer()

    def _title(self) -> Text:
        text = Text(self.file_path, style="bold")
        text.append(f" · {humanize.naturalsize(self.file_size)} · from layer {self.layer_index}")
        return text

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        self.preview()

    def status(self, text: str, style: str = "") -> None:
        self.query_one("#file-status", Static).update(Text(text, style=style))

    # -- the preview --------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="file", exit_on_error=False, description="Reading the file")
    def preview(self) -> None:
        out = io.BytesIO()
        self.extract(self.layer_index, self.file_path, out, self.stop.is_set, PREVIEW)
        self.post_message(self.Previewed(out.getvalue()))

    def on_file_screen_previewed(self, message: Previewed) -> None:
        body = self.query_one(Log)
        if not looks_like_text(message.data):
            self.status("A binary file: not shown. s saves it.")
            return
        body.write_lines(message.data.decode("utf-8", "replace").splitlines())
        body.scroll_home(animate=False)
        cut = len(message.data) < self.file_size
        shown = f"the first {humanize.naturalsize(len(message.data))} of it; " if cut else ""
        self.status(f"Text, {shown}s saves the whole file out of the image.")

    # -- saving -------------------------------------------------------------------------------------------
    def command_save_file(self) -> None:
        """Ask where to save it (the working folder, under its own name, unless told otherwise)."""
        field = self.query_one("#file-save", Input)
        if not field.value:
            field.value = str(Path.cwd() / (Path(self.file_path).name or "file"))
        field.add_class("shown")
        self.set_focus(field)  # at once: the keys typed behind s must find it (ImgtuiApp.on_key)

    @on(Input.Submitted, "#file-save")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.saving:
            return
        value = event.value.strip()
        if not value:
            self.status("Say where to save it.", "yellow")
            return
        target = Path(value).expanduser().absolute()
        if target.is_dir():
            target = target / (Path(self.file_path).name or "file")
        if not target.parent.is_dir():
            self.status(f"{target.parent} is not a folder: nothing saved.", "red")
            return
        if target.exists() and self._replace != target:
            self._replace = target
            self.status(f"{target} exists: enter again replaces it, escape keeps it.", "yellow")
            return
        self.saving = True
        self.stop.clear()
        self.status(f"Saving to {target} …")
        self.save(target)

    @work(thread=True, exclusive=True, group="file", exit_on_error=False, description="Saving the file")
    def save(self, target: Path) -> None:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as raw:
                out = Counting(raw, self._saving)
                size = self.extract(self.layer_index, self.file_path, out, self.stop.is_set, None)  # type: ignore[arg-type]
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self.post_message(self.Saved(target, size))

    def _saving(self, done: int) -> None:
        self.post_message(self.Saving(done))

    def on_file_screen_saving(self, message: Saving) -> None:
        if self.saving:
            done = humanize.naturalsize(message.done)
            self.status(f"Saving … {done} of {humanize.naturalsize(self.file_size)} (escape cancels)")

    def on_file_screen_saved(self, message: Saved) -> None:
        self.saving = False
        self._replace = None
        self.status(f"Saved {message.target} ({humanize.naturalsize(message.size)}).", "green")
        self.query_one("#file-save", Input).remove_class("shown")
        self.query_one(Log).focus()

    @on(Worker.StateChanged)
    def _ended(self, event: Worker.StateChanged) -> None:
        """A failed or cancelled read or save: said here (the App notifies failures too)."""
        if event.state != WorkerState.ERROR:
            return
        self.saving = False
        if isinstance(event.worker.error, Cancelled):
            event.stop()  # asked for: not an error to notify
            self.status("Cancelled: nothing saved.", "yellow")
        else:
            self.status(f"{event.worker.description}: {sentence(event.worker.error)}", "red")

    def command_close_file(self) -> None:
        """escape: cancel a save, or close the save line, or go back to the contents."""
        if self.saving:
            self.stop.set()
            return
        field = self.query_one("#file-save", Input)
        if field.has_class("shown"):
            field.remove_class("shown")
            self._replace = None
            self.query_one(Log).focus()
            return
        self.stop.set()
        self.dismiss()
