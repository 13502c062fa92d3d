"""A modal that says exactly what will happen and offers a few keys; returns the value of the key pressed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, Optional, TypeVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

V = TypeVar("V")


@dataclass(frozen=True)
class Choice(Generic[V]):
    """One key the dialog answers, what it is called, and the value it returns."""

    keys: tuple[str, ...]
    label: str
    value: V
    danger: bool = False


class ChoiceDialog(ModalScreen[Optional[V]], Generic[V]):
    """Title, the lines of the preview, an optional warning, and the keys. `escape` always cancels, and `n`
    too unless one of the choices takes it. Choices carry typed values (an Enum, a bool): the answer."""

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(
        self,
        title: str,
        lines: Sequence[str | Text],
        choices: Sequence[Choice[V]],
        *,
        banner: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
    ) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.lines = lines
        self.choices = choices
        self.banner = banner

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            if self.banner:
                yield Static(Text(self.banner, style="bold yellow"), classes="dialog-banner")
            with VerticalScroll(classes="dialog-body"):
                for line in self.lines:
                    yield Static(line, classes="dialog-line")
            keys = Text()
            for choice in self.choices:
                keys.append(
                    f" {'/'.join(choice.keys)} ",
                    style="reverse bold red" if choice.danger else "reverse bold",
                )
                keys.append(f" {choice.label}   ")
            cancel = " escape " if any("n" in c.keys for c in self.choices) else " n/escape "
            keys.append(cancel, style="reverse")
            keys.append(" cancel")
            yield Static(keys, classes="dialog-keys")

    @property
    def shown_text(self) -> str:
        """Everything the dialog says, as plain text (for tests and screen readers)."""
        keys = "   ".join(f"{'/'.join(c.keys)} {c.label}" for c in self.choices)
        return "\n".join(str(line) for line in [self.title_text, self.banner or "", *self.lines, keys])

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" or (event.key == "n" and not any("n" in c.keys for c in self.choices)):
            event.stop()
            self.dismiss(None)
            return
        for choice in self.choices:
            if event.key in choice.keys:
                event.stop()
                self.dismiss(choice.value)
                return
