"""The engine picker (`E`): the docker contexts, the one in use marked; enter switches to the selected one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from imgtui.engine.contexts import DockerContext


class EnginePicker(ModalScreen[Optional[str]]):
    """Returns the name of the chosen context, or None (escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="engines.cancel")]
    AUTO_FOCUS = "#engine-list"

    def __init__(
        self, found: Sequence[DockerContext], in_use: str | None, current: str, using: str, problem: str = ""
    ) -> None:
        """`in_use`: the context the app talks to (None: an address given by --host or DOCKER_HOST);
        `current`: the one `docker context use` chose; `using`: how the status line names the engine."""
        super().__init__()
        self.found = list(found)
        self.in_use = in_use
        self.current = current
        self.using = using
        self.problem = problem

    def row(self, context: DockerContext) -> Text:
        text = Text()
        text.append("● " if context.name == self.in_use else "  ", style="green bold")
        text.append(context.name, style="bold")
        if context.name == self.current:
            text.append(" *", style="bold")
        text.append(f"  {context.host or 'DOCKER_HOST, else unix:///var/run/docker.sock'}")
        if context.description:
            text.append(f"  {context.description}", style="dim")
        return text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Switch engine: docker contexts", style="bold"), classes="dialog-title")
            yield Static(f"In use: {self.using}", classes="dialog-line")
            if self.problem:
                yield Static(Text(self.problem, style="bold yellow"), classes="dialog-line")
            yield OptionList(*(Option(self.row(c), id=c.name) for c in self.found), id="engine-list")
            yield Static("● in use   * docker's current context (docker context use)", classes="dialog-line")
            yield Static(
                Text.assemble((" enter ", "reverse bold"), " switch   ", (" escape ", "reverse"), " cancel")
            )

    def on_mount(self) -> None:
        names = [c.name for c in self.found]
        if self.in_use in names:
            self.query_one(OptionList).highlighted = names.index(self.in_use)

    @property
    def shown_text(self) -> str:
        """Everything the picker says, as plain text (for tests)."""
        rows = [self.row(c).plain for c in self.found]
        return "\n".join([f"In use: {self.using}", self.problem, *rows])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
