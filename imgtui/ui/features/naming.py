"""`t`: give the selected image another name, checked as the engine would check it before it is sent."""

from __future__ import annotations

from textual import work

from imgtui.engine import NONE, OutcomeLine, short_id
from imgtui.engine.reference import FORMAT, problem
from imgtui.ui.features import Feature
from imgtui.ui.messages import ImagesChanged, Outcome


class Naming(Feature):
    """`t`: a name dialog that checks the name as the engine would, then a tagging worker."""

    def command_tag(self) -> None:
        """Give the selected image another name."""
        from imgtui.ui.dialogs.name import NameDialog  # imported when first used

        tag = self.view.selected_tag()
        if tag is None:
            return

        def chosen(name: str | None) -> None:
            if name:
                self.run_tag(tag.image.id, name)

        start = tag.ref if tag.repository != NONE else ""
        hint = f"New name for {tag.image.short_id}: {FORMAT} (no tag means latest)"
        self.app.push_screen(NameDialog(f"Tag {tag.image.short_id}", hint, start, problem), chosen)

    @work(thread=True, group="action", exit_on_error=False, description="Tagging")
    def run_tag(self, image_id: str, name: str) -> None:
        """`docker tag`, then the image read again so that the panes show the new name."""
        engine = self.view.engine
        full = engine.tag(image_id, name)
        self.post_message(Outcome([OutcomeLine("tagged", f"Tagged {short_id(image_id)} as {full}")]))
        self.post_message(ImagesChanged([(image_id, engine.inspect_image(image_id))]))
