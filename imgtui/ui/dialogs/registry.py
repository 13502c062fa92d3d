"""Open a registry: type an address or pick one that the docker config or the local image names know."""

from __future__ import annotations

from typing import ClassVar, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Checkbox, Input, OptionList, Static

from imgtui.registry import RegistryError, check_address, split_address
from imgtui.ui.dialogs import FORM_KEYS


class RegistryDialog(ModalScreen[Optional[tuple[str, bool]]]):
    """Returns (address, insecure) or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="registry-dialog.cancel"),
        *FORM_KEYS,
    ]
    AUTO_FOCUS = "#registry-address"

    def __init__(self, known: list[str], insecure: set[str]) -> None:
        super().__init__()
        self.known = known
        self.insecure = insecure

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            title = Text("Browse a registry (Registry HTTP API v2)", style="bold")
            yield Static(title, classes="dialog-title")
            yield Input(
                self.known[0] if self.known else "",
                placeholder="HOST[:PORT] or https://HOST, e.g. 127.0.0.1:5000",
                id="registry-address",
                suggester=SuggestFromList(self.known, case_sensitive=False),
                select_on_focus=True,
            )
            yield Checkbox("insecure: plain HTTP or an unverified certificate (needed only off loopback)",
                           id="registry-insecure")  # fmt: skip
            if self.known:
                yield Static("Known from your docker config and image names:", classes="dialog-line")
                yield OptionList(*self.known, id="registry-known")
            yield Static("", id="registry-error", classes="dialog-error")
            yield Static(
                Text.assemble(
                    (" enter ", "reverse bold"),
                    " open   ",
                    (" tab ", "reverse"),
                    " next field   ",
                    (" escape ", "reverse"),
                    " cancel",
                )  # fmt: skip
            )

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._open(str(event.option.prompt))

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        self._open(event.value)

    @on(Input.Changed)
    def _clear(self) -> None:
        self.query_one("#registry-error", Static).update("")

    def _open(self, address: str) -> None:
        insecure = self.query_one("#registry-insecure", Checkbox).value
        try:
            _, host = split_address(address)
            insecure = insecure or host in self.insecure
            check_address(address, insecure)
        except RegistryError as exc:
            self.query_one("#registry-error", Static).update(Text(str(exc), style="bold red"))
            return
        self.dismiss((address.strip(), insecure))

    def action_cancel(self) -> None:
        self.dismiss(None)
