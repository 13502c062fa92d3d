"""Log in to a registry: registry, user, password (never echoed: the input shows dots)."""

from __future__ import annotations

from typing import ClassVar, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from imgtui.ui.dialogs import FORM_KEYS


class LoginDialog(ModalScreen[Optional[tuple[str, str, str]]]):
    """Returns (registry, user, password) or None; the password lives only in this dialog and the worker."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="login.cancel"),
        *FORM_KEYS,
    ]
    AUTO_FOCUS = "#login-registry"

    def on_mount(self) -> None:
        if self.registry:
            self.set_focus(self.query_one("#login-user", Input))

    def __init__(self, registry: str = "", title: str = "Log in to a registry (docker login)") -> None:
        super().__init__()
        self.registry = registry
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Input(
                self.registry, placeholder="registry, e.g. 127.0.0.1:5000 or ghcr.io", id="login-registry"
            )
            yield Input(placeholder="user", id="login-user")
            yield Input(placeholder="password or token", password=True, id="login-password")
            yield Static("", id="login-error", classes="dialog-error")
            keys = Text.assemble(
                (" enter ", "reverse bold"), " log in   ", (" tab ", "reverse"), " next field   "
            )
            keys.append_text(Text.assemble((" escape ", "reverse"), " cancel"))
            yield Static(keys)

    @on(Input.Submitted)
    def _submit(self) -> None:
        registry = self.query_one("#login-registry", Input).value.strip()
        user = self.query_one("#login-user", Input).value.strip()
        password = self.query_one("#login-password", Input).value
        if not registry or not user or not password:
            self.query_one("#login-error", Static).update(Text("registry, user and password are all needed",
                                                               style="bold red"))  # fmt: skip
            return
        self.dismiss((registry, user, password))

    def action_cancel(self) -> None:
        self.dismiss(None)
