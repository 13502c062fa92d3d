"""`enter` on a layer: what is inside the image's layers (imgtui/layers), read once from the engine's save
stream in the job bar (`x` cancels; the rest of the UI keeps working) and cached by layer, then shown in the
contents view (screens/contents.py) at the layer the cursor was on."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from imgtui.engine import OutcomeLine, Tag
from imgtui.engine.models import NONE, same_below, short_id
from imgtui.engine.transfer import Progress
from imgtui.ui.features import Feature
from imgtui.ui.messages import Outcome

if TYPE_CHECKING:  # imported when first used: the layer side is no part of the first screen
    from imgtui.layers.compare import Comparison
    from imgtui.layers.tree import Trees


class Contents(Feature):
    """enter on a layer, or Layer contents in the palette."""

    last: tuple[str, Trees] | None = None
    """The image read last (its ID, its analysis and the trees built of it), kept in memory: going back to
    the images and into one of its layers opens at once, with no read, not even of the disk cache. Only one:
    the analysis of a big image takes about as much memory as the rest of the app."""

    @dataclass
    class Read(Message):
        trees: Trees
        """The analysis, with the tree of the layer to open at built (in the worker that read it)."""
        command: str
        """The created-by of the layer the cursor was on: the view opens at it."""
        image_id: str
        older: int = 0
        """How many rows below it have the same created-by (Analysis.layer_of)."""

    @dataclass
    class Compared(Message):
        comparison: Comparison
        labels: tuple[str, str]

    @dataclass
    class Progressed(Message, bubble=False):
        progress: Progress

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, Contents.Progressed)

    @dataclass
    class Ended(Message, bubble=False):
        pass

    def command_contents(self) -> None:
        """Open the selected layer's contents (reading the image's layers first, unless cached)."""
        view = self.view
        tag = view.selected_tag()
        if tag is None:
            return
        if view.layer_table.pending:
            self.notify("Its layers are still being read", severity="warning")
            return
        layer = view.layer_table.current
        command = layer.created_by if layer is not None else ""
        older = same_below(view.layer_table.items, layer)
        if self.last is not None and self.last[0] == tag.image.id and not self.last[1].failed:
            self.post_message(self.Read(self.last[1], command, tag.image.id, older))
            return
        stop = view.job_bar.begin(f"reading the layers of {tag.ref}")
        if stop is None:
            self.notify("A job is running; x cancels it", severity="warning")
            return
        self.read(tag, command, older, stop)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Reading layers")
    def read(self, tag: Tag, command: str, older: int, stop: threading.Event) -> None:
        from imgtui.layers import Cancelled
        from imgtui.layers.cache import LayerCache
        from imgtui.layers.tree import Trees

        what = f"reading the layers of {tag.ref}"

        def report(done: int) -> None:
            self.post_message(self.Progressed(Progress(what, done, max(tag.image.size, done))))

        try:
            analysis = self.view.engine.analyze(tag.ref, report, stop.is_set, LayerCache())
            trees = Trees(analysis)
            try:  # the view opens with its tree built: one frame, not a "reading" frame and then the tree
                trees.build("layer", analysis.layer_of(command, older))
            except Exception:
                pass  # the view builds it again, and says what went wrong
        except Cancelled:
            self.post_message(Outcome([OutcomeLine("info", f"Cancelled {what}")]))
            return
        finally:
            self.post_message(self.Ended())
        self.post_message(self.Read(trees, command, tag.image.id, older))

    # -- = : two images compared ----------------------------------------------------------------------
    def command_compare(self) -> None:
        """Compare the files of the two marked tags (or the one marked and the selected one)."""
        view = self.view
        view.sync_panes()
        chosen = view.marked_tags()
        current = view.tags.current
        if len(chosen) == 1 and current is not None and current.image.id != chosen[0].image.id:
            chosen.append(current)
        if len(chosen) != 2:
            self.notify("Mark two tags with space (in any repositories), then = compares their files.",
                        severity="warning")  # fmt: skip
            return
        left, right = sorted(chosen, key=lambda t: t.image.created)  # A: the older
        if left.image.id == right.image.id:
            self.notify(f"{left.ref} and {right.ref} are the same image.", severity="warning")
            return
        stop = view.job_bar.begin(f"comparing {left.ref} and {right.ref}")
        if stop is None:
            self.notify("A job is running; x cancels it", severity="warning")
            return
        self.compare(left, right, stop)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Comparing images")
    def compare(self, left: Tag, right: Tag, stop: threading.Event) -> None:
        from imgtui.layers import Cancelled
        from imgtui.layers.cache import LayerCache
        from imgtui.layers.compare import compare

        analyses = []
        try:
            for tag in (left, right):
                what = f"reading the layers of {tag.ref}"

                def report(done: int, what: str = what, total: int = tag.image.size) -> None:
                    self.post_message(self.Progressed(Progress(what, done, max(total, done))))

                analyses.append(self.view.engine.analyze(tag.ref, report, stop.is_set, LayerCache()))
        except Cancelled:
            self.post_message(
                Outcome([OutcomeLine("info", f"Cancelled comparing {left.ref} and {right.ref}")])
            )
            return
        finally:
            self.post_message(self.Ended())
        first, second = analyses
        labels = (_label(left), _label(right))
        self.post_message(self.Compared(compare(first, second), labels))

    def on_contents_compared(self, message: Compared) -> None:
        from imgtui.ui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(message.comparison, message.labels))

    def on_contents_progressed(self, message: Progressed) -> None:
        self.view.job_bar.show(message.progress)

    def on_contents_ended(self, message: Ended) -> None:
        self.view.job_bar.end()

    def on_contents_read(self, message: Read) -> None:
        from imgtui.layers.files import from_archive_source
        from imgtui.ui.screens.contents import ContentsScreen

        analysis = message.trees.analysis
        if self.last is None or self.last[1] is not message.trees:
            self.last = (message.image_id, message.trees)
        engine, name = self.view.engine, message.image_id
        extract = from_archive_source(lambda: engine.save_stream(name), analysis.keys)
        layer = analysis.layer_of(message.command, message.older)
        self.app.push_screen(ContentsScreen(self.last[1], layer, extract))


def _label(tag: Tag) -> str:
    when = tag.image.created.strftime("%Y-%m-%d %H:%M")
    name = tag.ref if tag.repository != NONE else "<none> (dangling)"
    return f"{name} · {short_id(tag.image.id)} · created {when}"
