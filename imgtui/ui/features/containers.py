"""`c`: the containers (screens/containers.py); all of them, or those of the selected image when the tags or
layers pane has focus. Coming back with `g` puts the cursor on the container's image. `n`: run or create a
container from the selected tag (dialogs/run.py); a container that wants a terminal (-it) gets this one,
handed over as `docker start -ai` does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from imgtui.engine import NONE, OutcomeLine
from imgtui.ui.features import Feature
from imgtui.ui.handover import NotHandedOver, back_words, hand_over
from imgtui.ui.messages import Outcome

if TYPE_CHECKING:  # the view and the dialog are imported when first opened, not at start-up
    from imgtui.engine.containers import RunSpec


class Containers(Feature):
    """`c`: the containers view, narrowed to the selected image from the tags or layers pane; `n`: run."""

    @dataclass
    class Made(Message):
        """A container was created (and started unless it waits for a terminal)."""

        spec: RunSpec
        container_id: str

    def command_containers(self) -> None:
        """Containers: all of them, or those of the selected image when the tags or layers pane has focus."""
        from imgtui.ui.screens.containers import ContainersScreen

        view = self.view
        view.sync_panes()
        tag = view.tags.current if self.screen.focused is not view.repos else None
        if tag is not None:
            label = tag.ref if tag.repository != NONE else tag.image.short_id
            screen = ContainersScreen(view.engine, tag.image.id, label)
        else:
            screen = ContainersScreen(view.engine)
        self.app.push_screen(screen, view.select_image)

    def command_new_container(self) -> None:
        """Run (or create) a container from the selected tag."""
        # The containers view opens as soon as the container is made (its events then reach it): imported now.
        import imgtui.ui.screens.containers  # noqa: F401
        from imgtui.ui.dialogs.run import RunDialog

        tag = self.view.selected_tag()
        if tag is None:
            return

        def chosen(spec: RunSpec | None) -> None:
            if spec is not None:
                self.run_container(spec)

        self.app.push_screen(RunDialog(tag.ref if tag.repository != NONE else tag.image.id), chosen)

    @work(thread=True, group="action", exit_on_error=False, description="Running a container")
    def run_container(self, spec: RunSpec) -> None:
        self.post_message(Outcome([OutcomeLine("action", spec.cli())]))
        container_id = self.view.engine.run_container(spec)
        self.post_message(self.Made(spec, container_id))

    def on_containers_made(self, message: Made) -> None:
        from imgtui.engine.containers import BadSpec, attach_command, docker_cli
        from imgtui.ui.screens.containers import ContainersScreen

        spec, container_id = message.spec, message.container_id
        verb = "Created" if not spec.start else "Started"
        what = spec.name or container_id[:12]
        self.view.log_lines(OutcomeLine("container", f"{verb} container {what} ({container_id[:12]})"))
        if spec.start and spec.tty:
            try:
                command = attach_command(self.view.engine.endpoint, container_id, False, docker_cli())
            except BadSpec as missing:
                self.notify(f"{missing}; the container is created, not started", severity="error")
            else:
                banner = f"{what}: ctrl-p ctrl-q detaches and comes back"
                try:
                    code = hand_over(self.app, command, banner)
                except NotHandedOver as why:
                    self.view.log_lines(OutcomeLine("error", str(why)))
                    self.notify(str(why), severity="error")
                else:
                    self.came_back(container_id, what, code)
        else:
            self.notify(f"{verb} container {what}")
        self.app.push_screen(ContainersScreen(self.view.engine, select=container_id), self.view.select_image)

    @work(thread=True, group="action", exit_on_error=False, description="Back from the container")
    def came_back(self, container_id: str, name: str, code: int) -> None:
        state = self.view.engine.container_state(container_id)
        self.post_message(Outcome([OutcomeLine("info", back_words(name, True, code, state))]))
