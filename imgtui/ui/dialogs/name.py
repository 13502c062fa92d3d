"""Ask for a name (a new tag, a container's new name), checking it before the dialog closes."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class NameDialog(ModalScreen[Optional[str]]):
    """An input with a hint; `check` returns an error sentence or None. enter accepts, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="name.cancel")]
    AUTO_FOCUS = "#name-input"

    def __init__(self, title: str, hint: str, value: str, check: Callable[[str], str | None]) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.value = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Static(self.hint, classes="dialog-line")
            yield Input(value=self.value, id="name-input", select_on_focus=True)
            yield Static("", id="name-error", classes="dialog-error")
            yield Static(
                Text.assemble((" enter ", "reverse bold"), " accept   ", (" escape ", "reverse"), " cancel")
            )

    @property
    def error(self) -> str:
        return str(self.query_one("#name-error", Static).content)

    @on(Input.Changed)
    def _clear_error(self) -> None:
        self.query_one("#name-error", Static).update("")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        problem = self.check(event.value)
        if problem:
            self.query_one("#name-error", Static).update(Text(problem, style="bold red"))
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
