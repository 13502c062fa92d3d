"""`c`: the containers (`docker ps -a`), with start, stop, restart, remove, rename, attach, a shell, logs,
commit, export and a jump to the image a container uses. Dismisses with that image's ID, or None. New
containers show up live: the images view reloads this list on every container event while it is open."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Optional

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from imgtui.engine import Container, Engine, OutcomeLine
from imgtui.engine.containers import (
    NAME_CHARS,
    BadSpec,
    TerminalCommand,
    attach_command,
    docker_cli,
    exec_command,
)
from imgtui.engine.transfer import save_path_problem
from imgtui.ui import commands
from imgtui.ui.commands import Where
from imgtui.ui.dialogs.choice import Choice, ChoiceDialog
from imgtui.ui.dialogs.commit import CommitDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.handover import NotHandedOver, back_words, hand_over
from imgtui.ui.messages import Outcome
from imgtui.ui.screens.logs import LogsScreen
from imgtui.ui.widgets.filter_bar import FilterBar
from imgtui.ui.widgets.image_tables import ContainerTable


class ContainersScreen(Screen[Optional[str]]):
    """All containers; `image_id` narrows the list to the ones using that image."""

    WHERE = Where.CONTAINERS
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]

    @dataclass
    class Loaded(Message):
        containers: list[Container]

    def __init__(
        self, engine: Engine, image_id: str | None = None, image_label: str = "", select: str | None = None
    ) -> None:
        super().__init__()
        self.engine = engine
        self.image_id = image_id
        self.image_label = image_label
        self.select = select
        """A container to put the cursor on once it is listed (one just made with `n`)."""
        self.table = ContainerTable(id="containers")
        self.loaded = False
        self.committed = ""

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        what = f"Containers using {self.image_label}" if self.image_id else "Containers (docker ps -a)"
        yield Static(what, id="containers-title", classes="screen-title")
        yield self.table
        yield FilterBar(id="containers-filter")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.table.border_title = "Containers"
        self.table.focus()
        self.command_reload_containers()

    @work(
        thread=True, exclusive=True, group="containers", exit_on_error=False, description="Listing containers"
    )
    def command_reload_containers(self) -> None:
        self.post_message(self.Loaded(self.engine.containers()))

    def on_containers_screen_loaded(self, message: Loaded) -> None:
        rows = [c for c in message.containers if self.image_id is None or c.image_id == self.image_id]
        self.table.set_items(rows)
        self.table.set_title(self.table.title("Containers"))
        if self.select is not None and self.table.select_key(self.select):
            self.select = None
        self.loaded = True

    def command_filter_containers(self) -> None:
        self.query_one(FilterBar).open_for(self.table)

    @on(ContainerTable.Filtered)
    def _filtered(self) -> None:
        self.table.set_title(self.table.title("Containers"))

    def command_close_containers(self) -> None:
        self.dismiss(None)

    def command_go_to_image(self) -> None:
        container = self.table.current
        if container is not None:
            self.dismiss(container.image_id)

    def command_stop(self) -> None:
        container = self.table.current
        if container is None:
            return
        if not container.running:
            self.notify(f"{container.name} is not running ({container.status})")
            return
        self._act(container, "stop")

    def command_start(self) -> None:
        container = self.table.current
        if container is None:
            return
        if container.running:
            self.notify(f"{container.name} is running already ({container.status})")
            return
        self._act(container, "start")

    def command_restart(self) -> None:
        container = self.table.current
        if container is not None:
            self._act(container, "restart")

    def command_attach(self) -> None:
        """Hand the terminal to the container's tty (a stopped one is started first: `docker start -ai`)."""
        container = self.table.current
        if container is None:
            return
        try:
            command = attach_command(self.engine.endpoint, container.id, container.running, docker_cli())
        except BadSpec as missing:
            self.notify(str(missing), severity="error")
            return
        banner = f"attached to {container.name}: ctrl-p ctrl-q detaches and comes back (enter: a prompt)"
        self._hand_over(container, command, banner, attached=True)

    def command_exec_shell(self) -> None:
        container = self.table.current
        if container is None:
            return
        if not container.running:
            self.notify(f"{container.name} is not running ({container.status}): t starts it")
            return
        try:
            command = exec_command(self.engine.endpoint, container.id, docker_cli())
        except BadSpec as missing:
            self.notify(str(missing), severity="error")
            return
        self._hand_over(container, command, f"a shell in {container.name}: exit comes back", attached=False)

    def _hand_over(self, container: Container, command: TerminalCommand, banner: str, attached: bool) -> None:
        self.app.post_message(Outcome([OutcomeLine("action", command.what)]))
        try:
            code = hand_over(self.app, command, banner)
        except NotHandedOver as why:
            self.app.post_message(Outcome([OutcomeLine("error", str(why))]))
            self.notify(str(why), severity="error")
            return
        self._came_back(container, attached, code)

    @work(thread=True, group="container-action", exit_on_error=False, description="Back from the container")
    def _came_back(self, container: Container, attached: bool, code: int) -> None:
        said = back_words(container.name, attached, code, self.engine.container_state(container.id))
        self.app.post_message(Outcome([OutcomeLine("info", said)]))
        self.app.call_from_thread(self.notify, said)
        self.post_message(self.Loaded(self.engine.containers()))

    def command_logs(self) -> None:
        container = self.table.current
        if container is not None:
            self.app.push_screen(LogsScreen(self.engine, container))

    def command_remove_container(self) -> None:
        container = self.table.current
        if container is None:
            return
        lines = [
            f"Container {container.name} ({container.short_id}), image {container.image}: {container.status}"
        ]
        if container.running:
            lines.append("It is running: it will be stopped first.")
        lines.append("Its writable layer (files changed inside it) is deleted; the image stays.")

        def chosen(yes: bool | None) -> None:
            if yes:
                self._act(container, "remove")

        yes = [Choice(("y", "enter"), "remove", True, danger=True)]
        self.app.push_screen(ChoiceDialog("Remove this container?", lines, yes), chosen)

    def command_rename(self) -> None:
        container = self.table.current
        if container is None:
            return

        def check(name: str) -> str | None:
            if not re.fullmatch(NAME_CHARS, name.strip()):
                return (
                    "a container name is letters, digits, '_', '.' and '-', starting with a letter or digit"
                )
            return None

        def chosen(name: str | None) -> None:
            if name and name != container.name:
                self._act(container, "rename", name)

        self.app.push_screen(
            NameDialog(f"Rename container {container.name}", "New name:", container.name, check), chosen
        )

    def command_export(self) -> None:
        container = self.table.current
        if container is None:
            return

        def check(path: str) -> str | None:
            return save_path_problem(path, overwrite=False)

        def chosen(path: str | None) -> None:
            if path:
                self._export(container, path)

        hint = ("Export writes the container's files only: no history, no config. docker save keeps those. "
                "Write to:")  # fmt: skip
        self.app.push_screen(
            NameDialog(f"Export {container.name}", hint, f"./{container.name}.tar", check), chosen
        )

    @work(thread=True, group="container-action", exit_on_error=False, description="Exporting")
    def _export(self, container: Container, path: str) -> None:
        target = Path(path).expanduser()
        written = self.engine.export(container.id, target, lambda p: None, lambda: False)
        line = OutcomeLine("info", f"Exported {container.name} to {target} ({written} bytes)")
        self.app.post_message(Outcome([line]))
        self.app.call_from_thread(self.notify, line.text)

    def command_commit(self) -> None:
        container = self.table.current
        if container is None:
            return

        def chosen(form: dict[str, object] | None) -> None:
            if form:
                self._commit(container, form)

        self.app.push_screen(CommitDialog(container.name), chosen)

    @work(thread=True, group="container-action", exit_on_error=False, description="Committing")
    def _commit(self, container: Container, form: dict[str, object]) -> None:
        changes = form["changes"]
        assert isinstance(changes, list)
        image_id, name = self.engine.commit(
            container.id, str(form["name"]), str(form["author"]), str(form["message"]), changes
        )
        self.committed = name
        line = OutcomeLine("tagged", f"Committed {container.name} as {name} ({image_id[7:19]})")
        self.app.post_message(Outcome([line]))
        self.app.call_from_thread(self.notify, line.text)

    @work(thread=True, group="container-action", exit_on_error=False, description="Container action")
    def _act(self, container: Container, what: str, name: str = "") -> None:
        if what == "stop":
            self.engine.stop_container(container.id)
            done = f"Stopped {container.name}"
        elif what == "start":
            self.engine.start_container(container.id)
            done = f"Started {container.name}"
        elif what == "restart":
            self.engine.restart_container(container.id)
            done = f"Restarted {container.name}"
        elif what == "remove":
            if container.running:
                self.engine.stop_container(container.id)
            self.engine.remove_container(container.id)
            done = f"Removed container {container.name}"
        else:
            self.engine.rename_container(container.id, name)
            done = f"Renamed {container.name} to {name}"
        self.app.call_from_thread(self.notify, done)
        self.post_message(self.Loaded(self.engine.containers()))
