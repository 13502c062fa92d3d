"""The `n` form: run (or create) a container from a tag: name, command, environment, -it, --rm, network."""

from __future__ import annotations

import os
from typing import ClassVar, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Static

from imgtui.engine.containers import BadSpec, RunSpec
from imgtui.ui.dialogs import FORM_KEYS

NETWORK_VARIABLE = "IMGTUI_NETWORK"
"""The network the form starts with (empty: the engine's default). The sandbox demo sets `none`: the
project's rule is no container traffic off the machine."""


class RunDialog(ModalScreen[Optional[RunSpec]]):
    """Returns a checked RunSpec, or None. tab moves between fields, enter in a text field accepts, space
    ticks a box."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="run.cancel"),
        Binding("ctrl+s", "accept", "Run", id="run.accept", show=False),
        *FORM_KEYS,
    ]
    AUTO_FOCUS = "#run-command"

    def __init__(self, image: str, network: str | None = None) -> None:
        super().__init__()
        self.image = image
        self.network = os.environ.get(NETWORK_VARIABLE, "") if network is None else network

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Run a container from {self.image}", style="bold"), classes="dialog-title")
            yield Input(placeholder="command (empty: the image's CMD), split as sh does", id="run-command")
            yield Input(placeholder="name (empty: the engine picks one)", id="run-name")
            yield Input(placeholder='environment: A=1 B="two words"', id="run-env")
            yield Input(value=self.network, placeholder="network (empty: engine default; none: no network)",
                        id="run-network")  # fmt: skip
            with Horizontal(classes="run-boxes"):
                yield Checkbox("start it (run)", True, id="run-start")
                yield Checkbox("-it terminal", False, id="run-tty")
                yield Checkbox("--rm", False, id="run-rm")
            yield Static("", id="run-error", classes="dialog-error")
            keys = Text.assemble(
                (" enter ", "reverse bold"), " run   ", (" tab ", "reverse"), " next field   "
            )
            keys.append_text(
                Text.assemble((" space ", "reverse"), " tick   ", (" escape ", "reverse"), " cancel")
            )
            yield Static(keys)

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def _ticked(self, widget_id: str) -> bool:
        return self.query_one(f"#{widget_id}", Checkbox).value

    @on(Checkbox.Changed, "#run-start")
    def _start_changed(self, event: Checkbox.Changed) -> None:
        title = self.query_one(".dialog-title", Static)
        verb = "Run" if event.value else "Create"
        title.update(Text(f"{verb} a container from {self.image}", style="bold"))

    @on(Input.Submitted)
    def _submit(self) -> None:
        self.action_accept()

    def action_accept(self) -> None:
        try:
            spec = RunSpec.parse(
                self.image,
                name=self._value("run-name"),
                command=self._value("run-command"),
                env=self._value("run-env"),
                network=self._value("run-network"),
                tty=self._ticked("run-tty"),
                remove=self._ticked("run-rm"),
                start=self._ticked("run-start"),
            )
        except BadSpec as bad:
            self.query_one("#run-error", Static).update(Text(str(bad), style="bold red"))
            return
        self.dismiss(spec)

    @property
    def error(self) -> str:
        return str(self.query_one("#run-error", Static).content)

    def action_cancel(self) -> None:
        self.dismiss(None)
