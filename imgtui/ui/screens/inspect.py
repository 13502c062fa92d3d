"""`i`: `docker inspect` of an image as a tree to fold, search (`/`, `n`) and copy from (`c`)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode

from imgtui.ui import commands
from imgtui.ui.commands import Where

Node = TreeNode[tuple[str, Any]]


def _label(key: str, value: Any) -> Text:
    text = Text(key, style="bold")
    if isinstance(value, dict):
        text.append(f"  {{{len(value)}}}", style="dim")
    elif isinstance(value, list):
        text.append(f"  [{len(value)}]", style="dim")
    else:
        text.append(" = ")
        text.append(json.dumps(value), style="cyan" if isinstance(value, str) else "magenta")
    return text


def fill(node: Node, value: Any, path: str) -> None:
    """Add `value` under `node`; every node keeps (path, value) so it can be copied."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        child_path = f"{path}.{key}" if isinstance(value, dict) else f"{path}[{key}]"
        if isinstance(child, (dict, list)) and child:
            sub = node.add(_label(str(key), child), data=(child_path, child))
            fill(sub, child, child_path)
        else:
            node.add_leaf(_label(str(key), child), data=(child_path, child))


class InspectScreen(Screen[None]):
    """The whole inspect answer; top-level keys open, the rest folded."""

    WHERE = Where.INSPECT
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]

    def __init__(self, title: str, data: dict[str, Any]) -> None:
        super().__init__()
        self.title_text = title
        self.data = data
        self.matches: list[Node] = []
        self.match_index = -1

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        yield Static(f"docker inspect {self.title_text}", classes="screen-title")
        tree: Tree[tuple[str, Any]] = Tree(self.title_text, data=("", self.data), id="inspect-tree")
        fill(tree.root, self.data, "")
        tree.root.expand()
        yield tree
        yield Input(placeholder="search keys and values (enter: keep, escape: close)", id="inspect-search")
        yield Footer()

    @property
    def json_tree(self) -> Tree[tuple[str, Any]]:
        return self.query_one("#inspect-tree", Tree)

    def on_mount(self) -> None:
        self.json_tree.focus()

    def command_close_inspect(self) -> None:
        box = self.query_one("#inspect-search", Input)
        if box.has_class("shown"):
            box.remove_class("shown")
            self.json_tree.focus()
            return
        self.dismiss(None)

    def command_search_tree(self) -> None:
        box = self.query_one("#inspect-search", Input)
        box.add_class("shown")
        self.set_focus(box)  # at once: the keys typed behind / must find it (ImgtuiApp.on_key)

    @on(Input.Changed, "#inspect-search")
    def _search(self, event: Input.Changed) -> None:
        needle = event.value.casefold()
        self.matches = []
        if needle:
            stack: list[Node] = list(self.json_tree.root.children)
            while stack:
                node = stack.pop(0)
                if needle in str(node.label).casefold():
                    self.matches.append(node)
                stack[0:0] = list(node.children)
        self.match_index = -1
        self.command_next_match()

    @on(Input.Submitted, "#inspect-search")
    def _keep(self) -> None:
        self.query_one("#inspect-search", Input).remove_class("shown")
        self.json_tree.focus()

    def command_next_match(self) -> None:
        if not self.matches:
            return
        self.match_index = (self.match_index + 1) % len(self.matches)
        node = self.matches[self.match_index]
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.call_after_refresh(self._select, node)

    def _select(self, node: Node) -> None:
        self.json_tree.move_cursor(node)
        self.json_tree.scroll_to_node(node)

    @property
    def selected(self) -> tuple[str, Any] | None:
        node = self.json_tree.cursor_node
        return node.data if node is not None else None

    def command_copy(self) -> None:
        selected = self.selected
        if selected is None:
            return
        path, value = selected
        text = value if isinstance(value, str) else json.dumps(value, indent=2)
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {path or 'everything'} ({len(text)} characters)")

    def command_expand_all(self) -> None:
        self.json_tree.root.expand_all()

    def command_collapse_all(self) -> None:
        self.json_tree.root.collapse_all()
        self.json_tree.root.expand()
