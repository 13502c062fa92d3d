"""The cleanup policy form: keep the newest N, unused for more than D days, protect patterns, until-free."""

from __future__ import annotations

from typing import ClassVar, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from imgtui.cleanup import Policy, PolicyError, parse_size
from imgtui.ui.dialogs import FORM_KEYS


class PolicyDialog(ModalScreen[Optional[Policy]]):
    """Returns the Policy, or None. Every field may stay empty: then only dangling images go."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="policy.cancel"),
        *FORM_KEYS,
    ]
    AUTO_FOCUS = "#policy-keep"

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy

    def compose(self) -> ComposeResult:
        p = self.policy
        with Vertical(classes="dialog"):
            yield Static(Text("Clean up by a policy (dangling images always go)", style="bold"),
                         classes="dialog-title")  # fmt: skip
            yield Input("" if p.keep is None else str(p.keep), id="policy-keep",
                        placeholder="keep the newest N images of each repository")  # fmt: skip
            yield Input("" if p.unused_days is None else f"{p.unused_days:g}", id="policy-days",
                        placeholder="remove images unused for more than D days")  # fmt: skip
            yield Input(" ".join(p.protect), id="policy-protect",
                        placeholder="never remove names matching: *:latest postgres (globs)")  # fmt: skip
            yield Input("" if p.until_free is None else str(p.until_free), id="policy-until",
                        placeholder="then least recently used until this is freed: 10GB")  # fmt: skip
            yield Static("", id="policy-error", classes="dialog-error")
            keys = Text.assemble(
                (" enter ", "reverse bold"), " preview the plan   ", (" tab ", "reverse"), " next field   "
            )
            keys.append_text(Text.assemble((" escape ", "reverse"), " cancel"))
            yield Static(keys)

    def _value(self, field: str) -> str:
        return self.query_one(f"#policy-{field}", Input).value.strip()

    @on(Input.Submitted)
    def _submit(self) -> None:
        try:
            keep = self._value("keep")
            days = self._value("days")
            until = self._value("until")
            try:
                keep_n = int(keep) if keep else None
            except ValueError:
                raise PolicyError(f"keep: {keep!r} is not a whole number") from None
            try:
                days_n = float(days) if days else None
            except ValueError:
                raise PolicyError(f"unused days: {days!r} is not a number") from None
            policy = Policy(keep_n, days_n, tuple(self._value("protect").split()),
                            parse_size(until, "until free") if until else None)  # fmt: skip
        except PolicyError as bad:
            self.query_one("#policy-error", Static).update(Text(str(bad), style="bold red"))
            return
        self.dismiss(policy)

    @property
    def error(self) -> str:
        return str(self.query_one("#policy-error", Static).content)

    def action_cancel(self) -> None:
        self.dismiss(None)
