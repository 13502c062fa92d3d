"""The registry retention form: keep the newest N tags by created time, keep tags matching patterns."""

from __future__ import annotations

from typing import ClassVar, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from imgtui.registry.retention import RetentionError, RetentionPolicy
from imgtui.ui.dialogs import FORM_KEYS


class RetentionDialog(ModalScreen[Optional[RetentionPolicy]]):
    """Returns the policy, or None. At least one field must be filled (an empty policy keeps nothing)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="retention.cancel"),
        *FORM_KEYS,
    ]
    AUTO_FOCUS = "#retention-keep"

    def __init__(self, repository: str, policy: RetentionPolicy | None) -> None:
        super().__init__()
        self.repository = repository
        self.policy = policy

    def compose(self) -> ComposeResult:
        p = self.policy
        with Vertical(classes="dialog"):
            yield Static(Text(f"Retention for {self.repository}: the other tags are deleted", style="bold"),
                         classes="dialog-title")  # fmt: skip
            yield Input("" if p is None or p.keep is None else str(p.keep), id="retention-keep",
                        placeholder="keep the newest N images (by created time)")  # fmt: skip
            yield Input("" if p is None else " ".join(p.patterns), id="retention-patterns",
                        placeholder="keep tags matching: latest v1.* (globs)")  # fmt: skip
            yield Static("", id="retention-error", classes="dialog-error")
            keys = Text.assemble(
                (" enter ", "reverse bold"), " preview the plan   ", (" tab ", "reverse"), " next field   "
            )
            keys.append_text(Text.assemble((" escape ", "reverse"), " cancel"))
            yield Static(keys)

    def _value(self, field: str) -> str:
        return self.query_one(f"#retention-{field}", Input).value.strip()

    @on(Input.Submitted)
    def _submit(self) -> None:
        keep = self._value("keep")
        try:
            try:
                keep_n = int(keep) if keep else None
            except ValueError:
                raise RetentionError(f"keep: {keep!r} is not a whole number") from None
            policy = RetentionPolicy(keep_n, tuple(self._value("patterns").split()))
        except RetentionError as bad:
            self.query_one("#retention-error", Static).update(Text(str(bad), style="bold red"))
            return
        self.dismiss(policy)

    @property
    def error(self) -> str:
        return str(self.query_one("#retention-error", Static).content)

    def action_cancel(self) -> None:
        self.dismiss(None)
