"""`c`: the containers (screens/containers.py); all of them, or those of the selected image when the tags or
layers pane has focus. Coming back with `g` puts the cursor on the container's image."""

from __future__ import annotations

from imgtui.engine import NONE
from imgtui.ui.features import Feature
from imgtui.ui.screens.containers import ContainersScreen


class Containers(Feature):
    """`c`: the containers view, narrowed to the selected image from the tags or layers pane."""

    def command_containers(self) -> None:
        """Containers: all of them, or those of the selected image when the tags or layers pane has focus."""
        view = self.view
        view.sync_panes()
        tag = view.tags.current if self.screen.focused is not view.repos else None
        if tag is not None:
            label = tag.ref if tag.repository != NONE else tag.image.short_id
            screen = ContainersScreen(view.engine, tag.image.id, label)
        else:
            screen = ContainersScreen(view.engine)
        self.app.push_screen(screen, view.select_image)
