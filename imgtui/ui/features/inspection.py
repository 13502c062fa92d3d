"""`i`: `docker inspect` of the selected image, as a tree (screens/inspect.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import work
from textual.message import Message

from imgtui.engine import NONE
from imgtui.ui.features import Feature


class Inspection(Feature):
    """`i`: the inspect answer read in a worker, shown as a tree."""

    @dataclass
    class Loaded(Message):
        title: str
        data: dict[str, Any]

    def command_inspect(self) -> None:
        """docker inspect of the selected image, as a tree."""
        tag = self.view.selected_tag()
        if tag is not None:
            self.load(tag.ref if tag.repository != NONE else tag.image.id, tag.image.id)

    @work(thread=True, exclusive=True, group="inspect-one", exit_on_error=False, description="Inspecting")
    def load(self, title: str, image_id: str) -> None:
        self.post_message(self.Loaded(title, self.view.engine.inspect_raw(image_id)))

    def on_inspection_loaded(self, message: Loaded) -> None:
        from imgtui.ui.screens.inspect import InspectScreen  # imported when first opened

        self.app.push_screen(InspectScreen(message.title, message.data))
