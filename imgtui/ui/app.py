"""The App: it holds the engine connection and the session's registry clients, installs the images view,
answers the keys that work everywhere (commands.py), builds the command palette from the command table, and
is the one place where a worker's error becomes a sentence for the user."""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.driver import Driver
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from imgtui.engine import Engine, OutcomeLine
from imgtui.ui import commands
from imgtui.ui.commands import Where
from imgtui.ui.errors import seconds_shown, sentence
from imgtui.ui.features.jobs import PullJob
from imgtui.ui.features.registry import Registries
from imgtui.ui.messages import EngineSwitched, Outcome, PullRequested, RegistryHeard
from imgtui.ui.screens.images import ImagesScreen

if TYPE_CHECKING:  # the registry side is imported when first used, off the path to the first screen
    from imgtui.fleet import Fleet
    from imgtui.registry import Registry

RETYPED = "imgtui_retyped"
"""Marks a key ImgtuiApp.on_key handed on to a text field (a Key subclass would not reach `on_key`
handlers: Textual names handlers after the message's class)."""
ACTION_GROUPS = ("action", "plan")
"""Workers whose failure also goes to the outcome log (what the user asked for did not happen)."""


class ImgtuiApp(App[None]):
    """imgtui: the images view first, the other views pushed above it (see docs/ARCHITECTURE.md)."""

    CSS_PATH = "app.tcss"
    TITLE = "imgtui"

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this terminal; on Linux and macOS the one that sends only what changed on
        screen (ui/terminal.py). IMGTUI_SEND_ALL=1 sends every frame whole, as Textual does. Both end the
        app when the terminal hangs up."""
        driver = super().get_driver_class()
        if driver.__name__ == "LinuxDriver":
            from imgtui.ui.terminal import FilteringDriver, TerminalDriver

            return TerminalDriver if os.environ.get("IMGTUI_SEND_ALL") else FilteringDriver
        return driver

    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(Where.EVERYWHERE)  # type: ignore[assignment]

    def __init__(
        self,
        engine: Engine,
        *,
        live: bool = True,
        registry: str | None = None,
        insecure_registries: Iterable[str] = (),
        fleet: Fleet | None = None,
    ) -> None:
        """`fleet`: the engines of --host given more than once or --fleet; the fleet view opens first."""
        # NO_COLOR (no-color.org, any value but empty): no colour at all, the terminal's own foreground and
        # background (Textual alone turns colours to shades of grey); the cursor shows in reverse (app.tcss)
        super().__init__(ansi_color=True if os.environ.get("NO_COLOR") else None)
        self.engine = engine
        self.live = live
        self.switches = 0
        """How many times `E` switched engine."""
        self.retired: weakref.WeakSet[ImagesScreen] = weakref.WeakSet()
        """Images views of engines switched away from: their workers' late failures are not shown."""
        self.insecure_registries = set(insecure_registries)
        self.registries: dict[tuple[str, bool], Registry] = {}
        """One client per registry for the session: typed credentials and digest caches live as long."""
        if live:
            engine.prefetch()  # overlaps the engine's first round trips with Textual's own start-up
        self.images = ImagesScreen(engine, live=live, open_registry=registry)
        self.fleet = fleet
        self._open_fleet = fleet is not None

    def on_mount(self) -> None:
        if self._open_fleet:
            self._open_fleet = False
            self.command_fleet()

    def get_default_screen(self) -> Screen[Any]:
        """The images view is the first screen, under every other."""
        return self.images

    def on_unmount(self) -> None:
        self.images.close_stream()
        if self.fleet is not None:
            self.fleet.close()

    def registry(self, address: str, insecure: bool = False) -> Registry:
        """The session's client for a registry (raises RegistryError for an address that is not one)."""
        from imgtui.registry import Registry, split_address

        _, host = split_address(address)
        insecure = insecure or host in self.insecure_registries
        key = (host, insecure)  # one client per registry, however its address was written
        if key not in self.registries:
            self.registries[key] = Registry(address, insecure=insecure)
        return self.registries[key]

    def on_key(self, event: events.Key) -> None:
        """A printable key that bubbles up to the App while a text field has focus was typed for that field:
        it went to the widget focused when it arrived (keys come in bursts: a paste, one read over ssh), and
        the key before it moved focus (`/` opens the filter line). It is typed into the field, and no view's
        binding runs for it (a `d` in `/dev` would start a removal). The field itself takes printable keys,
        so only those sent elsewhere get here. Known limit: a non-printable key in the same burst (enter,
        backspace) runs its binding before the letters handed on ahead of it reach the field."""
        focused = self.focused
        typed = event.is_printable and not hasattr(event, RETYPED)
        if focused is not None and typed and _text_field(focused):
            event.prevent_default()  # no binding runs for it
            event.stop()
            again = events.Key(event.key, event.character)
            setattr(again, RETYPED, True)  # never handed on twice
            focused.post_message(again)

    # -- commands -------------------------------------------------------------------------------------
    def action_run(self, name: str) -> None:
        commands.run(self.screen, name)

    def command_help(self) -> None:
        from imgtui.ui.screens.help import HelpScreen  # imported when first used

        self.push_screen(HelpScreen())

    def command_quit(self) -> None:
        self.exit()

    # -- the engine in use: docker contexts (`E`) -------------------------------------------------------
    def command_engines(self) -> None:
        """List the docker contexts; the one picked becomes the engine of every view."""
        from imgtui.engine import contexts
        from imgtui.ui.dialogs.engines import EnginePicker

        problem = ""
        try:
            found, current = contexts.list_contexts(), contexts.current_name()
        except contexts.ContextError as exc:
            found, current, problem = [contexts.default_context()], contexts.DEFAULT, str(exc)
        endpoint = self.engine.endpoint
        in_use = endpoint.context if endpoint is not None else None
        using = endpoint.label if endpoint is not None else self.engine.info.host

        def picked(name: str | None) -> None:
            if name is None:
                return
            if name == in_use:
                self.notify(f"Already on docker context {name}")
            elif self.images.job_bar.busy:
                self.notify("A job is running on this engine; x cancels it, then switch", severity="warning")
            else:
                self.notify(f"Connecting to docker context {name} …", timeout=3)
                self.run_worker(partial(self._connect_context, name), thread=True, exclusive=True,
                                group="switch", exit_on_error=False,
                                description=f"Switching to docker context {name}")  # fmt: skip

        self.push_screen(EnginePicker(found, in_use, current, using, problem), picked)

    # -- several engines at once (`F`) -------------------------------------------------------------------
    def command_fleet(self) -> None:
        """The fleet view: the engines given to imgtui, else every docker context."""
        from imgtui.fleet import Fleet, FleetError, all_contexts
        from imgtui.ui.screens.fleet import FleetScreen

        if self.fleet is None:
            try:
                specs = all_contexts()
            except FleetError as exc:
                self.notify(str(exc), title="Fleet", severity="error")
                return
            timeout = getattr(self.engine, "timeout", None) or 30.0
            self.fleet = Fleet(specs, timeout=min(timeout, 30.0))
        self.push_screen(FleetScreen(self.fleet))

    def _connect_context(self, name: str) -> None:
        """(In a worker) connect to the context's engine; the views switch once it answered."""
        from imgtui.engine import EngineUnavailable
        from imgtui.engine.connection import from_context
        from imgtui.engine.contexts import ContextError

        timeout = getattr(self.engine.api, "timeout", None) or 30.0  # as given to imgtui (--timeout)
        try:
            endpoint = from_context(name)
        except ContextError as exc:
            raise EngineUnavailable(str(exc)) from exc
        self.post_message(EngineSwitched(Engine.connect_endpoint(endpoint, timeout)))

    def on_engine_switched(self, message: EngineSwitched) -> None:
        """A new images view on the new engine replaces the old one (and the old engine is closed): every
        pane reads again, from the new engine."""
        old_engine, old_view, old_mode = self.engine, self.images, self.current_mode
        while len(self.screen_stack) > 1:  # views over the images view belong to the old engine
            self.pop_screen()
        old_view.close_stream()
        self.retired.add(old_view)
        self.engine = message.engine
        if self.live:
            message.engine.prefetch()
        self.switches += 1
        view = self.images = ImagesScreen(message.engine, live=self.live, view_id=f"images-{self.switches}")
        # Each engine's views are a screen mode of their own (Textual's public way to replace the screen at
        # the bottom of the stack); the old mode goes, but for the first one, which Textual keeps.
        self.add_mode(f"engine-{self.switches}", lambda: view)
        self.switch_mode(f"engine-{self.switches}")
        if old_mode != "_default":
            self.remove_mode(old_mode)
        threading.Thread(target=old_engine.close, name="imgtui-close-engine", daemon=True).start()
        self.notify(f"Now on {self.images.engine_label}", title="Engine switched")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        where: Where | None = getattr(screen, "WHERE", None)  # each view's place in the command table
        for command in [*commands.palette(Where.EVERYWHERE), *(commands.palette(where) if where else [])]:
            keys = f" ({command.key_text})" if command.keys else ""
            yield SystemCommand(command.palette, f"{command.help[:1].upper()}{command.help[1:]}{keys}",
                                partial(commands.run, screen, command.name))  # fmt: skip

    # -- messages from other screens -------------------------------------------------------------------
    def on_outcome(self, message: Outcome) -> None:
        """What an action in another view did goes to the images view's outcome log."""
        self.images.log_lines(*message.lines)

    def on_pull_requested(self, message: PullRequested) -> None:
        self.images.jobs.start(PullJob(message.reference))

    def on_registry_heard(self, message: RegistryHeard) -> None:
        """A job reached a registry or found it silent: the registry feature remembers which (`R`)."""
        self.images.query_one(Registries).heard_from(message.host, message.answered)

    # -- the one place for worker errors ---------------------------------------------------------------
    def _of_retired_view(self, node: object) -> bool:
        try:
            screen = node if isinstance(node, Screen) else getattr(node, "screen", None)
        except Exception:  # a widget no longer mounted
            return False
        return screen in self.retired

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """Every worker's failure, wherever it ran, becomes one sentence: a notification, and a log line
        when it was an action the user asked for. (Screens may also tidy their own state.)"""
        if event.state != WorkerState.ERROR or not self.images.showing:
            return
        if self._of_retired_view(event.worker.node):
            return  # a view of an engine switched away from
        worker, error = event.worker, event.worker.error
        said = sentence(error)
        if worker.group in ACTION_GROUPS:
            self.images.log_lines(OutcomeLine("error", f"{worker.description}: {said}"))
        self.notify(
            said, title=worker.description or "Engine", severity="error", timeout=seconds_shown(error)
        )


def _text_field(widget: object) -> bool:
    """An Input or a TextArea. TextArea (with its documents and syntax support, about 20 ms of imports) is
    checked only once something has imported it: no view of imgtui's has one now, and start-up does not pay
    for the check."""
    if isinstance(widget, Input):
        return True
    text_area = sys.modules.get("textual.widgets._text_area")
    return text_area is not None and isinstance(widget, text_area.TextArea)
