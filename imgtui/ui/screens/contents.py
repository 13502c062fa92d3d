"""The contents of an image's layers as a tree: what one layer added (+), modified (~) and removed (-), or the
whole filesystem as of that layer, or only the wasted versions; sorted by size or name, filtered by path and
by kind of change. The tree is built in a worker and filled a directory at a time as it is opened, so that
hundreds of thousands of entries stay responsive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import humanize
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import Worker, WorkerState

from imgtui.layers import Analysis, Change, Kind
from imgtui.layers.files import Extract
from imgtui.layers.tree import FileTree, Node, Trees
from imgtui.ui import commands
from imgtui.ui import format as fmt
from imgtui.ui.commands import Where
from imgtui.ui.errors import sentence
from imgtui.ui.screens.file import FileScreen

SCOPES = ("layer", "filesystem", "wasted")
SCOPE_WORDS = {"layer": "what this layer changed", "filesystem": "the filesystem as of this layer",
               "wasted": "the wasted versions (every layer)"}  # fmt: skip
KINDS = (None, Change.ADDED, Change.MODIFIED, Change.REMOVED)
MARKS = {Change.ADDED: ("+", "green"), Change.MODIFIED: ("~", "yellow"), Change.REMOVED: ("-", "red")}
PAGE = 500
"""A directory shows this many entries at a time; the rest behind a `… N more` line."""
FILTER_DELAY = 0.15


def size_text(size: int) -> str:
    return humanize.naturalsize(size) if size else "0"


class ContentsScreen(Screen[None]):
    WHERE = Where.CONTENTS
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]

    @dataclass
    class Built(Message):
        tree: FileTree
        only: set[str] | None
        generation: int

    def __init__(self, analysis: Analysis | Trees, index: int, extract: Extract | None = None) -> None:
        """`analysis`, or a Trees of it that keeps the trees built for it (the images view keeps one per
        session, so that opening the same image again has nothing to build); `extract` reads one file out of
        one of its layers (`e`)."""
        super().__init__()
        self.extract = extract
        self.trees = analysis if isinstance(analysis, Trees) else Trees(analysis)
        self.analysis = self.trees.analysis
        self.index = index
        self.scope = "layer"
        self.by_size = True
        self.kind: Change | None = None
        self.filter_text = ""
        self.files: FileTree | None = None
        self.only: set[str] | None = None
        self._generation = 0
        self._filter_timer: Timer | None = None

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        yield Static(id="contents-summary", classes="screen-title")
        tree: Tree[str] = Tree("/", data="/", id="contents-tree")
        tree.show_root = False
        yield tree
        yield Input(
            placeholder="filter paths as you type (enter keeps it, escape clears it)", id="contents-filter"
        )
        yield Footer()

    @property
    def entries(self) -> Tree[str]:
        return self.query_one("#contents-tree", Tree)

    def on_mount(self) -> None:
        self.rebuild()
        self.entries.focus()

    # -- building -------------------------------------------------------------------------------------
    def rebuild(self) -> None:
        self._generation += 1
        self.files = None
        built = self.trees.built(self.scope, self.index)
        if built is not None and not self.filter_text and self.kind is None:
            self._show(built, None)  # nothing to build: shown in this frame
            return
        self.entries.clear()
        self.entries.root.set_label("reading …")
        self._summary()
        self.build(self.scope, self.index, self.kind, self.filter_text, self._generation)

    @work(thread=True, exclusive=True, group="contents", exit_on_error=False, description="Building the tree")
    def build(self, scope: str, index: int, kind: Change | None, text: str, generation: int) -> None:
        files = self.trees.build(scope, index)
        only = files.matching(text) if text else None
        if kind is not None:
            chosen = files.of_change(kind)
            only = chosen if only is None else only & chosen
        self.post_message(self.Built(files, only, generation))

    @on(Worker.StateChanged)
    def _build_failed(self, event: Worker.StateChanged) -> None:
        """The App says what went wrong (a layer the cache lost, say); here the tree stops saying reading."""
        if event.state == WorkerState.ERROR and event.worker.group == "contents":
            self.entries.root.set_label(Text(f"could not read: {sentence(event.worker.error)}", style="red"))

    def on_contents_screen_built(self, message: Built) -> None:
        if message.generation != self._generation:
            return  # a newer view was asked for meanwhile
        self._show(message.tree, message.only)

    def _show(self, files: FileTree, only: set[str] | None) -> None:
        self.files, self.only = files, only
        self.entries.clear()
        self._fill(self.entries.root)
        self.entries.root.expand()
        node = self.entries.root
        while len(node.children) == 1 and node.children[0].allow_expand:  # a lone directory: opened
            node = node.children[0]
            self._fill(node)
            node.expand()
        self.entries.cursor_line = 0  # on the first entry: e and enter act on something shown
        self._summary()

    def _fill(self, node: TreeNode[str], start: int = 0) -> None:
        files = self.files
        if files is None or node.data is None:
            return
        children = files.children(node.data, self.by_size, self.only)
        for child in children[start : start + PAGE]:
            if child.kind is Kind.DIR and files.has_children(child.path):
                node.add(self._label(child), data=child.path, allow_expand=True)
            else:
                node.add_leaf(self._label(child), data=child.path)
        rest = len(children) - start - PAGE
        if rest > 0:
            node.add_leaf(Text(f"… {rest} more (enter shows them)", style="dim"), data=f"more:{start + PAGE}")

    def _label(self, node: Node) -> Text:
        mark, style = MARKS.get(node.change, (" ", "")) if node.change else (" ", "")
        name = node.path.rsplit("/", 1)[-1] or "/"
        text = Text(f"{mark} ", style=style)
        text.append(
            name + ("/" if node.kind is Kind.DIR else ""), style="bold" if node.kind is Kind.DIR else style
        )
        if node.target:
            text.append(f" → {node.target}", style="dim")
        text.append(f"  {size_text(node.size)}", style="dim")
        if node.wasted:
            text.append(f"  wasted {size_text(node.wasted)}", style="red")
        return text

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded[str]) -> None:
        node = event.node
        if not node.children and node.data:
            self._fill(node)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[str]) -> None:
        data = event.node.data or ""
        if data.startswith("more:") and event.node.parent is not None:
            parent = event.node.parent
            event.node.remove()
            self._fill(parent, int(data.split(":", 1)[1]))

    # -- what the summary says ----------------------------------------------------------------------------
    def _summary(self) -> None:
        a = self.analysis
        layer = a.layers[self.index]
        text = Text()
        text.append(f"{a.name}", style="bold")
        text.append(f" · {fmt.count(len(a.layers), 'layer')} · {size_text(a.size_bytes)} in the layers"
                    f" · wasted {size_text(a.wasted_bytes)} · efficiency {a.efficiency:.3%}\n")  # fmt: skip
        text.append(f"Layer {self.index} of {len(a.layers) - 1}", style="bold")
        text.append(f": {' '.join(layer.command.split()) or '(no command recorded)'}\n")
        counts = (
            f"+{layer.count(Change.ADDED)} ~{layer.count(Change.MODIFIED)} -{layer.count(Change.REMOVED)}"
        )
        text.append(f"{SCOPE_WORDS[self.scope]} · {counts} · {size_text(layer.size_bytes)} · ")
        shown = "reading …" if self.files is None else f"{self.files.count()} entries"
        text.append(f"{shown} · sort: {'size' if self.by_size else 'name'}")
        if self.kind is not None:
            text.append(f" · only {self.kind.value}")
        if self.filter_text:
            text.append(f" · filter: {self.filter_text}")
        self.query_one("#contents-summary", Static).update(text)

    # -- commands ---------------------------------------------------------------------------------------
    def command_contents_scope(self) -> None:
        self.scope = "filesystem" if self.scope == "layer" else "layer"
        self.rebuild()

    def command_wasted_only(self) -> None:
        self.scope = "layer" if self.scope == "wasted" else "wasted"
        self.rebuild()

    def command_previous_layer(self) -> None:
        if self.index > 0:
            self.index -= 1
            self.rebuild()

    def command_next_layer(self) -> None:
        if self.index < len(self.analysis.layers) - 1:
            self.index += 1
            self.rebuild()

    def command_sort_contents(self) -> None:
        self.by_size = not self.by_size
        if self.files is not None:
            self.entries.clear()
            self._fill(self.entries.root)
            self._summary()

    def command_change_kind(self) -> None:
        self.kind = KINDS[(KINDS.index(self.kind) + 1) % len(KINDS)]
        self.rebuild()

    def command_filter_contents(self) -> None:
        field = self.query_one("#contents-filter", Input)
        field.add_class("shown")
        self.set_focus(field)  # at once: the keys typed behind / must find it (ImgtuiApp.on_key)

    def command_extract(self) -> None:
        """e: the file under the cursor, from the layer that wrote the version shown."""
        cursor = self.entries.cursor_node
        node = self.files.nodes.get(cursor.data or "") if self.files is not None and cursor else None
        if self.extract is None:
            return
        if node is None:
            self.notify("Move to a file first.", severity="warning")
            return
        if node.kind is Kind.DIR:
            self.notify("A directory: e shows or saves a file.", severity="warning")
        elif node.change is Change.REMOVED and self.scope != "wasted":
            self.notify("This layer removes it: [ goes to the layers below, where it is.", severity="warning")
        elif node.kind is Kind.SYMLINK:
            self.notify(f"A symbolic link to {node.target}: open that file instead.", severity="warning")
        elif node.kind not in (Kind.FILE, Kind.HARDLINK) or node.layer < 0:
            self.notify(f"A {node.kind.value}: it holds no content to show.", severity="warning")
        else:
            # A hard link's data is its target's, an earlier member of the same layer's tar.
            path = node.target if node.kind is Kind.HARDLINK else node.path
            self.app.push_screen(FileScreen(self.extract, node.layer, path, node.size))

    def command_close_contents(self) -> None:
        """Escape: clears and closes the filter line when it has focus, else goes back."""
        field = self.query_one("#contents-filter", Input)
        if field.has_focus:
            field.value = ""
            field.remove_class("shown")
            self.entries.focus()
        else:
            self.dismiss(None)

    @on(Input.Changed, "#contents-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self.rebuild)

    @on(Input.Submitted, "#contents-filter")
    def _filter_kept(self) -> None:
        self.entries.focus()
