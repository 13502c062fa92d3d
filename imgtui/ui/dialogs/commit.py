"""The commit form: repository[:tag], author (-a), message (-m), Dockerfile-style changes (-c)."""

from __future__ import annotations

from typing import ClassVar, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from imgtui.engine import BadReference, validate
from imgtui.ui.dialogs import FORM_KEYS


class CommitDialog(ModalScreen[Optional[dict[str, object]]]):
    """Returns {"name", "author", "message", "changes"} or None. tab moves between fields, enter commits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="commit.cancel"),
        *FORM_KEYS,
    ]
    AUTO_FOCUS = "#commit-name"

    def __init__(self, container: str) -> None:
        super().__init__()
        self.container = container

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Commit container {self.container} to an image", style="bold"),
                         classes="dialog-title")  # fmt: skip
            yield Input(placeholder="repository[:tag]  (no tag means latest)", id="commit-name")
            yield Input(placeholder="author (-a), optional", id="commit-author")
            yield Input(
                placeholder="message (-m), optional: shows as the layer's comment", id="commit-message"
            )
            yield Input(placeholder='changes (-c), optional, separated by " | ": CMD ["sh"] | ENV A=b',
                        id="commit-changes")  # fmt: skip
            yield Static("", id="commit-error", classes="dialog-error")
            keys = Text.assemble(
                (" enter ", "reverse bold"), " commit   ", (" tab ", "reverse"), " next field   "
            )
            keys.append_text(Text.assemble((" escape ", "reverse"), " cancel"))
            yield Static(keys)

    @on(Input.Submitted)
    def _submit(self) -> None:
        name = self.query_one("#commit-name", Input).value.strip()
        try:
            validate(name)
        except BadReference as bad:
            self.query_one("#commit-error", Static).update(Text(str(bad), style="bold red"))
            self.query_one("#commit-name", Input).focus()
            return
        changes = [
            c.strip() for c in self.query_one("#commit-changes", Input).value.split(" | ") if c.strip()
        ]
        self.dismiss({
            "name": name,
            "author": self.query_one("#commit-author", Input).value.strip(),
            "message": self.query_one("#commit-message", Input).value.strip(),
            "changes": changes,
        })  # fmt: skip

    @property
    def error(self) -> str:
        return str(self.query_one("#commit-error", Static).content)

    def action_cancel(self) -> None:
        self.dismiss(None)
