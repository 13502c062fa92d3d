"""The images view: repositories → tags → layers (a PaneChain), kept live by the engine's events, with the
status line, the outcome log and the job bar. What the user does here lives in imgtui/ui/features; this
screen mounts them and offers them the view (features.ImagesView)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from imgtui.engine import (
    NONE,
    Catalog,
    Engine,
    EngineError,
    EngineUnavailable,
    EventStream,
    Layer,
    OutcomeLine,
    Tag,
    describe,
    short_id,
)
from imgtui.ui import commands
from imgtui.ui import format as fmt
from imgtui.ui.coalesce import Coalesced
from imgtui.ui.commands import Where
from imgtui.ui.features.cleanup import Cleanup
from imgtui.ui.features.containers import Containers
from imgtui.ui.features.contents import Contents
from imgtui.ui.features.inspection import Inspection
from imgtui.ui.features.jobs import Jobs
from imgtui.ui.features.naming import Naming
from imgtui.ui.features.registry import Registries
from imgtui.ui.features.removal import Removal
from imgtui.ui.features.usage import Usage
from imgtui.ui.messages import (
    ConnectionChanged,
    DiskUsageRead,
    EngineEventSeen,
    HistoryLoaded,
    ImagesChanged,
    ImagesLoaded,
    Outcome,
)
from imgtui.ui.widgets.filter_bar import FilterBar
from imgtui.ui.widgets.fixed import FixedLines
from imgtui.ui.widgets.image_tables import LayerTable, RepositoryTable, SnapshotLayerTable, TagTable
from imgtui.ui.widgets.job import JobBar
from imgtui.ui.widgets.outcome import OutcomeLog
from imgtui.ui.widgets.pane_chain import PaneChain
from imgtui.ui.widgets.tables import AGE_EVERY, ItemTable

if TYPE_CHECKING:
    from imgtui.registry import Registry
    from imgtui.ui.screens.containers import ContainersScreen
    from imgtui.ui.screens.usage import UsageScreen

RECONNECT_EVERY = 1.0
"""Seconds between pings while the engine is away, at most."""
RECONNECT_FIRST = 0.1
"""The first ping after the engine went away waits this long, each next one twice as long up to
RECONNECT_EVERY: an engine restarted at once (a crash under systemd) is back in the view in a fraction of a
second, one away for long costs a ping a second (over ssh each one is a new connection)."""
EVENT_BATCH_DELAY = 0.02
"""Events arriving within this many seconds are looked at together."""
DISK_USAGE_DELAY = 0.5
"""Disk usage (/system/df walks every layer) is read this long after a change, once for a burst of them,
and kept off the path to the first screen."""
LOADING_SHOWN_AFTER = 0.25
"""Layers still being read after this many seconds: the pane is emptied and its title says loading."""
HISTORY_DELAY = 0.08
"""Wait this long after the cursor stops on a tag before showing (and if need be reading) its layers: longer
than the gap between repeated keys (25-40 a second), so that moving through a list paints only the list."""
RELIST_OVER = 50
"""More images touched than this at once: one list request beats an inspect each."""
FEATURES = (Removal, Naming, Inspection, Containers, Jobs, Registries, Contents, Cleanup, Usage)
FEATURE_IDS = {Removal: "removal", Naming: "naming", Inspection: "inspection", Containers: "containers",
               Jobs: "jobs", Registries: "registry", Contents: "contents", Cleanup: "cleanup",
               Usage: "usage"}  # fmt: skip
"""Each feature's id: the `handler` of its commands in imgtui/ui/commands.py."""


class ImagesScreen(Screen[None]):
    """Repositories → tags → layers of the engine's images, kept live by the engine's events."""

    WHERE = Where.IMAGES
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]
    AUTO_FOCUS = "#repos"

    def __init__(
        self, engine: Engine, *, live: bool = True, open_registry: str | None = None, view_id: str = "images"
    ) -> None:
        super().__init__(id=view_id)  # another id once the engine is switched (`E`): both exist a moment
        self.engine = engine
        self.live = live
        self.open_registry = open_registry
        """A registry to open at once (`imgtui --registry`)."""
        self.catalog = Catalog()
        self.connected = True
        self._disconnected_note = ""
        """What the status line says while the engine is away (set when it goes)."""
        self.disk_used: int | None = None
        self.loaded = False
        self._stream: EventStream | None = None
        self._stopping = threading.Event()
        self._pending: set[str] = set()
        # The delays are read when a burst starts (tests shorten them).
        self._events = Coalesced(self, lambda: EVENT_BATCH_DELAY, self._flush_events)
        self._disk = Coalesced(self, lambda: DISK_USAGE_DELAY, self.read_disk_usage)
        self._containers = Coalesced(self, lambda: EVENT_BATCH_DELAY, self._reload_containers)
        self._usage = Coalesced(self, lambda: DISK_USAGE_DELAY, self._reload_usage)
        self._layers_for: str | None = None
        self._layers_tag: Tag | None = None
        """The selected tag, whose layers are shown or being read."""
        self._shown_tag: Tag | None = None
        """The tag whose layers the pane shows now."""
        self._loading_timer: Timer | None = None
        self._loading_shown = False
        self._layers_problem: Text | None = None
        """Why the layers pane is empty (reading them failed), kept in the detail line until others show."""
        self._tags_shown_for: object = None
        """The repository whose tags the tags pane shows (the catalog's object, replaced on any change)."""
        self.status = FixedLines(id="status")
        self.repos = RepositoryTable(id="repos")
        self.tags = TagTable(id="tags")
        self.layer_table: LayerTable = (SnapshotLayerTable if engine.info.containerd else LayerTable)(
            id="layers"
        )
        self.detail = FixedLines(id="detail")
        self.chain = PaneChain(
            self.repos, self.tags, self.layer_table, self.detail, rest=(0.0, HISTORY_DELAY)
        )  # type: ignore[arg-type]
        self.outcome = OutcomeLog(id="outcome")
        self.job_bar = JobBar(id="job")

    def compose(self) -> ComposeResult:
        yield self.status
        yield self.chain
        yield self.outcome
        yield self.job_bar
        yield FilterBar(id="filter")
        yield Footer(compact=True)
        for feature in FEATURES:
            yield feature(id=f"{FEATURE_IDS[feature]}-feature")

    @property
    def jobs(self) -> Jobs:
        return self.query_one(Jobs)

    @property
    def insecure_registries(self) -> set[str]:
        return self.app.insecure_registries  # type: ignore[attr-defined,no-any-return]

    @property
    def showing(self) -> bool:
        """False once the app is closing: late worker messages then have nothing to update."""
        return self.status.is_attached and not self._stopping.is_set()

    def on_mount(self) -> None:
        self.outcome.border_title = "Outcome (l hides)"
        self.update_titles()
        self._update_status("connecting …")
        if self.live:
            self.follow_engine()
        else:
            self.load_images()
        if self.open_registry:
            self.query_one(Registries).browse(self.open_registry, False)
        self.set_interval(AGE_EVERY, self._show_layer)  # the layer's "3 minutes ago" ages with the tables'

    def on_unmount(self) -> None:
        self.close_stream()

    def close_stream(self) -> None:
        """The app is closing: end the event stream (its worker is blocked reading it)."""
        self._stopping.set()
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    # -- workers: every engine call happens in one of these threads ------------------------------------
    @work(
        thread=True, exclusive=True, group="engine", exit_on_error=False, description="Following the engine"
    )
    def follow_engine(self) -> None:
        """Subscribe to events, then list images (so nothing falls between), then relay events until the
        app stops; when the engine goes away, ping until it is back and start over."""
        worker = get_current_worker()
        while not (worker.is_cancelled or self._stopping.is_set()):
            try:
                startup = self.engine.take_startup()
                stream = startup[0] if startup else self.engine.events()
                self._stream = stream
                if self._stopping.is_set():
                    stream.close()
                    return
                catalog = Catalog.grouped(startup[1]) if startup else self.engine.catalog()
                self.post_message(ImagesLoaded(catalog))
                self.post_message(ConnectionChanged(True))
                for event in stream:
                    if worker.is_cancelled:
                        return
                    self.post_message(EngineEventSeen(event))
                if self._stopping.is_set():
                    return
                raise EngineUnavailable("the engine closed its event stream")
            except EngineError as exc:
                if self._stopping.is_set():
                    return
                self.post_message(ConnectionChanged(False, describe(exc)))
                delay = RECONNECT_FIRST
                while not self._stopping.wait(delay):
                    if worker.is_cancelled:
                        return
                    if self.engine.ping():
                        break
                    delay = min(delay * 2, RECONNECT_EVERY)

    @work(thread=True, exclusive=True, group="list", exit_on_error=False, description="Listing images")
    def load_images(self) -> None:
        self.post_message(ImagesLoaded(self.engine.catalog()))

    @work(thread=True, group="inspect", exit_on_error=False, description="Reading changed images")
    def inspect_images(self, refs: list[str]) -> None:
        self.reread_images(refs)

    def reread_images(self, refs: list[str]) -> None:
        """(In a worker) the engine's current view of these images, for the panes: an inspect each for a
        few, one list request for many. Used after events and after the features' own actions."""
        if len(refs) > RELIST_OVER:
            self.post_message(ImagesLoaded(self.engine.catalog()))
        else:
            self.post_message(ImagesChanged([(ref, self.engine.inspect_image(ref)) for ref in refs]))

    @work(thread=True, exclusive=True, group="history", exit_on_error=False, description="Loading layers")
    def load_history(self, image_id: str) -> None:
        self.post_message(HistoryLoaded(image_id, self.engine.history(image_id)))

    @work(thread=True, exclusive=True, group="df", exit_on_error=False, description="Reading disk usage")
    def read_disk_usage(self) -> None:
        self.post_message(DiskUsageRead(self.engine.disk_usage([i.id for i in self.catalog.images()])))

    @on(Worker.StateChanged)
    def _history_failed(self, event: Worker.StateChanged) -> None:
        """The App says what went wrong; here the layers pane stops waiting for them."""
        if event.state == WorkerState.ERROR and event.worker.group == "history" and self.showing:
            self.layer_table.pending = False
            self._layers_for = None
            self._loading_shown = False
            if self._loading_timer is not None:
                self._loading_timer.stop()
                self._loading_timer = None
            self._shown_tag = self._layers_tag
            self.layer_table.set_items([])
            error = event.worker.error
            self._layers_problem = Text(
                f"Could not load layers: {describe(error) if error else ''}", style="red"
            )
            self.detail.update(self._layers_problem)
            self.update_titles()

    # -- what the workers tell us ----------------------------------------------------------------------
    def on_images_loaded(self, message: ImagesLoaded) -> None:
        if not self.showing:
            return
        self.catalog = message.catalog
        self.loaded = True
        self._refresh_views()
        self._disk.request()

    def on_images_changed(self, message: ImagesChanged) -> None:
        if not self.showing:
            return
        touched: set[str] = set()
        for ref, image in message.updates:
            if image is not None:
                touched |= self.catalog.apply(image)
            else:
                image_id = self.catalog.resolve(ref)
                if image_id is not None:
                    touched |= self.catalog.remove(image_id)
        if touched:
            self._refresh_views()
            self._disk.request()

    def on_engine_event_seen(self, message: EngineEventSeen) -> None:
        if not self.showing:
            return
        if message.event.type == "container" and self._on_top(Where.CONTAINERS):
            self._containers.request()
        self.query_one(Cleanup).event_seen(message.event)
        if self._on_top(Where.USAGE):
            self._usage.request()
        if message.event.names_no_image and self.engine.info.podman:
            # Podman's commit and load events do not name the image (Docker sends its tag or load event
            # besides): one list finds it.
            self.load_images()
            return
        ref = message.event.touched_image
        if ref is None:
            return
        self._pending.add(ref)
        self._events.request()

    def _reload_containers(self) -> None:
        if self.showing and self._on_top(Where.CONTAINERS):
            cast("ContainersScreen", self.app.screen).command_reload_containers()

    def _reload_usage(self) -> None:
        if self.showing and self._on_top(Where.USAGE):
            cast("UsageScreen", self.app.screen).command_reload_usage()

    def _on_top(self, where: Where) -> bool:
        """The app shows that view now (the views a key opens are imported when first opened: the check is
        by their `WHERE`, not by their class)."""
        return getattr(self.app.screen, "WHERE", None) is where

    def _flush_events(self) -> None:
        if not self.showing:
            return
        refs, self._pending = sorted(self._pending), set()
        if refs:
            self.inspect_images(refs)

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        if not self.showing:
            return
        was, self.connected = self.connected, message.connected
        self.status.set_class(not message.connected, "disconnected")
        if not message.connected:
            self._disconnected_note = (
                f"disconnected: {message.detail}; retrying at least every {RECONNECT_EVERY:g} s"
            )
            self._update_status()
            if was:
                self.notify(message.detail, title="Engine disconnected", severity="error", timeout=6)
        else:
            self._update_status()
            if not was:
                self.notify("Connected again; the list was reloaded.", title="Engine back")

    def on_disk_usage_read(self, message: DiskUsageRead) -> None:
        if not self.showing:
            return
        self._disk.cancel()  # an action just read it: that answer is fresh enough
        self.disk_used = message.layers_size
        self._update_status()

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        if self.showing and message.image_id == self._layers_for:
            self._set_layers(message.layers)

    def on_outcome(self, message: Outcome) -> None:
        message.stop()
        self.log_lines(*message.lines)

    # -- panes following each other (PaneChain's owner) --------------------------------------------------
    def _refresh_views(self) -> None:
        self.repos.set_items(self.catalog.repositories())
        self._drop_gone_marks()
        self.sync_panes()
        self._show_layer()  # its `tags:` line comes from the catalog
        self._update_status()

    # -- marks: they span repositories and panes -------------------------------------------------------------
    def marked_tags(self) -> list[Tag]:
        """Every marked name, in list order: the tags of each marked repository and each marked tag of any
        repository (not only the one shown), once each."""
        repos, tags = self.repos.marked, self.tags.marked
        if not repos and not tags:
            return []
        return [
            tag
            for repo in self.catalog.repositories()
            for tag in repo.tags
            if repo.name in repos or self.tags.item_key(tag) in tags
        ]

    def _drop_gone_marks(self) -> None:
        """Marks of names the engine no longer has go, with a word in the log (never silently)."""
        if not self.repos.marked and not self.tags.marked:
            return
        repositories = self.catalog.repositories()
        gone_repos = self.repos.marked - {r.name for r in repositories}
        gone_tags = self.tags.marked - {self.tags.item_key(t) for r in repositories for t in r.tags}
        if not gone_repos and not gone_tags:
            return
        self.repos.unmark(gone_repos)
        self.tags.unmark(gone_tags)
        shown = {short_id(k) if k.startswith("sha256:") else k for k in gone_tags}
        names = ", ".join(sorted(gone_repos | shown))
        self.log_lines(OutcomeLine("info", f"Unmarked {names}: no longer listed under that name"))

    @on(ItemTable.MarksChanged)
    def _marks_changed(self) -> None:
        self._update_status()

    def sync_panes(self) -> None:
        """The tags pane up to the repositories cursor now (keys typed ahead can outrun the messages)."""
        self.chain.follow_now(0)

    def chain_moved(self, pane: int) -> None:
        if pane == 2:
            self._show_layer()
        self.update_titles()

    def chain_ready(self, pane: int) -> bool:
        """Tags follow at once; layers at once when none are shown yet or they are this image's already,
        else once the cursor rests (cached or not: a held key repaints only the tags pane)."""
        tag = self.tags.current
        return pane == 0 or tag is None or self._layers_tag is None or tag.image.id == self._layers_for

    def chain_open(self, pane: int) -> None:
        """Enter on a layer: its contents."""
        commands.run(self, "contents")

    def chain_follow(self, pane: int) -> None:
        if pane == 0:
            repo = self.repos.current
            current = self.catalog.repository(repo.name) if repo else None
            if current is not self._tags_shown_for or current is None:
                self._tags_shown_for = current
                self.tags.set_items(list(current.tags) if current else [])
            self.chain.moved(1)
        else:
            self._show_layers_of(self.tags.current)
        self.update_titles()

    def _show_layers_of(self, tag: Tag | None) -> None:
        self._layers_tag = tag
        self.query_one(Registries).check(tag)
        if tag is not None and tag.image.id == self._layers_for:
            if not self.layer_table.pending or self._loading_shown:
                self._shown_tag = tag  # another name of the image shown: its title and registry status
            return
        self._layers_for = tag.image.id if tag is not None else None
        self._layers_problem = None
        cached = self.engine.cached_history(tag.image.id) if tag is not None else ()
        if cached is not None:
            self._set_layers(cached)
            return
        # The last image's layers stay on screen while these are read: blanking the pane, then filling it,
        # would repaint it twice per cursor move (bytes an ssh link carries); it says "loading" only when
        # the engine takes longer than LOADING_SHOWN_AFTER.
        self.layer_table.pending = True
        assert tag is not None  # only a tag has layers still to read
        if self._loading_timer is not None:
            self._loading_timer.stop()
        self._loading_timer = self.set_timer(LOADING_SHOWN_AFTER, self._show_loading)
        self.load_history(tag.image.id)

    def _show_loading(self) -> None:
        if self.layer_table.pending and not self._loading_shown:
            self._loading_shown = True
            self._shown_tag = self._layers_tag
            self.layer_table.set_items([])
            self._show_layer()
            self.update_titles()

    def _set_layers(self, layers: Iterable[Layer]) -> None:
        self.layer_table.pending = False
        self._loading_shown = False
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None
        self._shown_tag = self._layers_tag
        self.layer_table.set_items(list(layers))
        self.layer_table.move_cursor(row=0, animate=False)
        self._show_layer()
        self.update_titles()

    def _show_layer(self) -> None:
        layer = self.layer_table.current
        if layer is None:
            self.detail.update(self._layers_problem or "")
            return
        self._layers_problem = None
        text = Text()
        text.append(f"{layer.display_id}  ", style="bold")
        where = " on disk (its snapshot in the containerd image store)" if self.engine.info.containerd else ""
        text.append(f"{fmt.size(layer.size)}{where}  {fmt.ago(layer.created)}\n")
        text.append(layer.created_by or "(no command recorded)")
        if layer.comment:
            text.append("\ncomment: ", style="bold")
            text.append(layer.comment)
        # The names as the engine has them now (history is cached by image ID and its names go stale).
        names = self.catalog.names_for(layer.id) if layer.id in self.catalog else layer.tags
        if names:
            text.append("\ntags: ", style="bold")
            text.append(", ".join(names))
        self.detail.update(text)

    def update_titles(self) -> None:
        self.repos.set_title(self.repos.title("Repositories"))
        repo = self.repos.current
        self.tags.set_title(self.tags.title("Tags" if repo is None else f"Tags of {repo.name}"))
        title = self._layers_title(self._shown_tag)  # the tag whose layers are on screen
        table = self.layer_table
        if table.filter_text:
            title += f" ({len(table.shown_items)}/{len(table.items)}) filter: {table.filter_text}"
        table.set_title(f"{title} loading …" if self._loading_shown else title)

    def _layers_title(self, tag: Tag | None) -> str:
        if tag is None:
            return "Layers"
        if tag.repository == NONE:
            return f"Layers of {tag.image.short_id}"
        others = [n for n in tag.image.names if n != tag.ref]
        also = f" · also named {', '.join(others)}" if others else ""
        remote = self.query_one(Registries).status_of(tag)
        pushed = f" · registry: {remote.state}" if remote is not None else ""
        return f"Layers of {tag.ref} ({tag.image.short_id}){pushed}{also}"

    @property
    def engine_label(self) -> str:
        """The engine in use, as the status line names it: `context NAME (ADDRESS)` or the address."""
        endpoint = self.engine.endpoint
        return endpoint.label if endpoint is not None else self.engine.info.host

    def _update_status(self, note: str | None = None) -> None:
        """`● ENGINE │ counts │ marks │ Docker VERSION (API …)`: the engine first, so 80 columns show it."""
        info = self.engine.info
        text = Text()
        text.append("● " if self.connected else "○ ", style="green" if self.connected else "bold")
        text.append(f"{self.engine_label}  │ ")
        if note is None and not self.connected:
            note = self._disconnected_note  # a worker's late answer (disk usage) does not hide it
        if note:
            text.append(f"{note}  │ ")
        elif self.loaded:
            totals = self.catalog.totals()
            text.append(f"{fmt.count(totals.images, 'image')}, {totals.dangling} dangling", style="bold")
            if self.disk_used is not None:
                text.append(f", {fmt.size(self.disk_used)} on disk", style="bold")
            text.append("  │ ")
        marked = self.marked_tags() if self.loaded else []
        if marked:
            where = len({t.repository for t in marked})
            text.append(
                f"{fmt.count(len(marked), 'name')} marked in {fmt.count(where, 'repository', 'repositories')}"
                "  │ ",
                style="bold yellow",
            )
        text.append(f"{info.product} {info.version} (API {info.api_version})")
        self.status.update(text)

    # -- what features ask of the view ------------------------------------------------------------------
    def selected_tag(self) -> Tag | None:
        self.sync_panes()
        tag = self.tags.current
        if tag is None:
            self.notify("Select a tag first", severity="warning")
        return tag

    def log_lines(self, *lines: OutcomeLine) -> None:
        self.outcome.add_class("shown")
        for line in lines:
            self.outcome.add(line)

    def registry(self, address: str, insecure: bool = False) -> Registry:
        return self.app.registry(address, insecure)  # type: ignore[attr-defined,no-any-return]

    def remote_changed(self) -> None:
        self.query_one(Registries).forget()

    def select_image(self, image_id: str | None) -> None:
        """Put the cursor on a tag of this image (coming back from the containers view)."""
        if image_id is None:
            return
        if self.catalog.get(image_id) is None:
            self.notify(f"Image {short_id(image_id)} is not listed (an intermediate or deleted image)")
            return
        tag = next(t for repo in self.catalog.repositories() for t in repo.tags if t.image.id == image_id)
        self.repos.filter_text = ""
        self.tags.filter_text = ""
        self.repos.select_key(tag.repository)
        self.chain.follow_now(0)
        self.tags.select_key(self.tags.item_key(tag))
        self.chain.follow_now(1)
        self.tags.focus()

    # -- the view's own commands -----------------------------------------------------------------------
    def command_filter(self) -> None:
        self.chain.open_filter()

    def command_cancel_job(self) -> None:
        """Cancel the running job (pull, push, save, load, reading layers)."""
        if self.job_bar.cancel():
            self.log_lines(OutcomeLine("info", "Cancelling …"))
        else:
            self.notify("No job is running")

    def command_toggle_log(self) -> None:
        self.outcome.toggle_class("shown")

    def command_refresh(self) -> None:
        self.remote_changed()
        self.load_images()
        self.notify("Reloading from the engine …", timeout=2)

    def command_sort(self) -> None:
        self.tags.action_cycle_sort()

    def command_focus_repos(self) -> None:
        self.repos.focus()

    def command_focus_tags(self) -> None:
        self.tags.focus()

    def command_focus_layers(self) -> None:
        self.layer_table.focus()
