"""The App: three panes that follow each other, fed by thread workers that talk to the engine."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from docker.auth import resolve_repository_name
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer
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
    Repository,
    Tag,
    credentials,
    describe,
)
from imgtui.ui import format as fmt
from imgtui.ui.messages import (
    ConnectionChanged,
    DiskUsageRead,
    EngineEventSeen,
    HistoryLoaded,
    ImagesChanged,
    ImagesLoaded,
    RemoteChecked,
)
from imgtui.ui.screens.containers import ContainersScreen
from imgtui.ui.screens.help import HelpScreen
from imgtui.ui.transfers import TransferActions
from imgtui.ui.widgets.filter_bar import FilterBar
from imgtui.ui.widgets.fixed import FixedLines
from imgtui.ui.widgets.job import JobBar
from imgtui.ui.widgets.outcome import OutcomeLog
from imgtui.ui.widgets.tables import ItemTable, LayerTable, RepositoryTable, SnapshotLayerTable, TagTable

if TYPE_CHECKING:  # the registry side is imported when first used, off the path to the first screen
    from imgtui.registry import Registry
    from imgtui.registry.operations import RemoteStatus

RECONNECT_EVERY = 1.0
"""Seconds between pings while the engine is away."""
EVENT_BATCH_DELAY = 0.02
"""Events arriving within this many seconds are looked at together."""
DISK_USAGE_DELAY = 0.5
"""Disk usage (/system/df walks every layer) is read this long after a change, once for a burst of them,
and kept off the path to the first screen."""
HISTORY_DELAY = 0.08
"""Wait this long after the cursor stops on a tag before showing (and if need be reading) its layers: longer
than the gap between repeated keys (25-40 a second), so that moving through a list paints only the list."""


class ImgtuiApp(TransferActions):
    """Repositories → tags → layers of the engine's images, kept live by the engine's events."""

    CSS_PATH = "app.tcss"
    TITLE = "imgtui"
    AUTO_FOCUS = "#repos"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "d", "remove", "Remove", id="remove", tooltip="Remove or untag the selected (or marked) tags"
        ),
        Binding("D", "prune", "Prune", id="prune", tooltip="Prune dangling (or all unused) images"),
        Binding("t", "tag", "Tag", id="tag", tooltip="Give the selected image another name"),
        Binding("i", "inspect", "Inspect", id="inspect", tooltip="docker inspect, as a tree"),
        Binding("c", "containers", "Containers", id="containers", tooltip="Containers (of this image)"),
        Binding("p", "pull", "Pull", id="pull", show=False, tooltip="Pull an image by name"),
        Binding("P", "push", "Push", id="push", show=False, tooltip="Push the selected tag"),
        Binding(
            "S", "save", "Save", id="save", show=False, tooltip="Save the selected or marked tags to a tar"
        ),
        Binding("L", "load", "Load", id="load", show=False, tooltip="Load images from a tar"),
        Binding("A", "login", "Login", id="login", show=False, tooltip="docker login to a registry"),
        Binding("R", "browse_registry", "Registry", id="registry", tooltip="Browse a registry"),
        Binding("f", "search", "Search", id="search", show=False, tooltip="docker search, then pull"),
        Binding("I", "import", "Import", id="import", show=False, tooltip="docker import of a tar"),
        Binding(
            "x", "cancel_job", "Cancel job", id="cancel_job", show=False, tooltip="Cancel the running job"
        ),
        Binding("slash", "filter", "Filter", id="filter", tooltip="Filter the focused list as you type"),
        Binding("l", "toggle_log", "Log", id="log", show=False, tooltip="Show or hide the outcome log"),
        Binding(
            "r", "refresh", "Refresh", id="refresh", show=False, tooltip="Reload everything from the engine"
        ),
        Binding("question_mark", "help", "Keys", id="help", tooltip="Show every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave imgtui"),
    ]

    def __init__(
        self,
        engine: Engine,
        *,
        live: bool = True,
        registry: str | None = None,
        insecure_registries: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.engine = engine
        self.live = live
        self.open_registry = registry
        self.insecure_registries = set(insecure_registries)
        self.registries: dict[tuple[str, bool], Registry] = {}
        """One client per registry for the session: typed credentials and digest caches live as long."""
        self._remote: dict[tuple[str, str], RemoteStatus] = {}
        if live:
            engine.prefetch()  # overlaps the engine's first round trips with Textual's own start-up
        self.catalog = Catalog()
        self.connected = True
        self.disk_used: int | None = None
        self.loaded = False
        self._stream: EventStream | None = None
        self._stopping = threading.Event()
        self._pending: set[str] = set()
        self._batch_timer: Timer | None = None
        self._history_timer: Timer | None = None
        self._layers_for: str | None = None
        self._layers_tag: Tag | None = None
        self._tags_shown_for: Repository | None = None
        """The repository whose tags the tags pane shows (the catalog's object, replaced on any change)."""
        self._containers_timer: Timer | None = None
        self._disk_timer: Timer | None = None
        self.status = FixedLines(id="status")
        self.repos = RepositoryTable(id="repos")
        self.tags = TagTable(id="tags")
        self.layers: LayerTable = (SnapshotLayerTable if engine.info.containerd else LayerTable)(id="layers")
        self.detail = FixedLines(id="detail")
        self.outcome = OutcomeLog(id="outcome")
        self.job_bar = JobBar(id="job")

    # -- layout ----------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield self.status
        with Horizontal(id="top"):
            yield self.repos
            yield self.tags
        with Vertical(id="layers-pane"):
            yield self.layers
            yield self.detail
        yield self.outcome
        yield self.job_bar
        yield FilterBar(id="filter")
        yield Footer(compact=True)

    @property
    def showing(self) -> bool:
        """False once the app is closing: late worker messages then have nothing to update."""
        return self.status.is_attached and not self._stopping.is_set()

    def on_mount(self) -> None:
        self.outcome.border_title = "Outcome (l hides)"
        self._update_titles()
        self._update_status("connecting …")
        if self.live:
            self.follow_engine()
        else:
            self.load_images()
        if self.open_registry:
            self.browse(self.open_registry, False)

    def on_unmount(self) -> None:
        self._stopping.set()
        if self._stream is not None:
            self._stream.close()

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
                while not self._stopping.wait(RECONNECT_EVERY):
                    if worker.is_cancelled:
                        return
                    if self.engine.ping():
                        break

    @work(thread=True, exclusive=True, group="list", exit_on_error=False, description="Listing images")
    def load_images(self) -> None:
        self.post_message(ImagesLoaded(self.engine.catalog()))

    @work(thread=True, group="inspect", exit_on_error=False, description="Reading changed images")
    def inspect_images(self, refs: list[str]) -> None:
        self.reread_images(refs)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False, description="Loading layers")
    def load_history(self, image_id: str) -> None:
        self.post_message(HistoryLoaded(image_id, self.engine.history(image_id)))

    @work(thread=True, exclusive=True, group="df", exit_on_error=False, description="Reading disk usage")
    def read_disk_usage(self) -> None:
        self.post_message(DiskUsageRead(self.engine.disk_usage([i.id for i in self.catalog.images()])))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place where a worker's error becomes something the user reads."""
        if event.state != WorkerState.ERROR or not self.showing:
            return
        worker, error = event.worker, event.worker.error
        message = describe(error) if error is not None else "unknown error"
        if worker.group in ("action", "plan"):
            self.log_lines(OutcomeLine("error", f"{worker.description}: {message}"))
        if worker.group == "history":
            self.layers.pending = False
            self._layers_for = None
            self.detail.update(Text(f"Could not load layers: {message}", style="red"))
        self.notify(message, title=worker.description or "Engine", severity="error", timeout=8)

    # -- what the workers tell us ----------------------------------------------------------------------
    def on_images_loaded(self, message: ImagesLoaded) -> None:
        if not self.showing:
            return
        self.catalog = message.catalog
        self.loaded = True
        self._refresh_views()
        self._schedule_disk_usage()

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
            self._schedule_disk_usage()

    def _schedule_disk_usage(self) -> None:
        if self._disk_timer is None:
            self._disk_timer = self.set_timer(DISK_USAGE_DELAY, self._read_disk_usage_now)

    def _read_disk_usage_now(self) -> None:
        self._disk_timer = None
        self.read_disk_usage()

    def on_engine_event_seen(self, message: EngineEventSeen) -> None:
        if not self.showing:
            return
        if message.event.type == "container" and isinstance(self.screen, ContainersScreen):
            if self._containers_timer is None:
                self._containers_timer = self.set_timer(EVENT_BATCH_DELAY, self._reload_containers)
        ref = message.event.touched_image
        if ref is None:
            return
        self._pending.add(ref)
        if self._batch_timer is None:
            self._batch_timer = self.set_timer(EVENT_BATCH_DELAY, self._flush_events)

    def _reload_containers(self) -> None:
        self._containers_timer = None
        if not (self.showing and self.screen_stack):  # the app is closing: no screen to reload
            return
        if isinstance(self.screen, ContainersScreen):
            self.screen.action_reload()

    def _flush_events(self) -> None:
        if not self.showing:
            return
        refs, self._pending, self._batch_timer = sorted(self._pending), set(), None
        if refs:
            self.inspect_images(refs)

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        if not self.showing:
            return
        was = self.connected
        self.connected = message.connected
        status = self.status
        status.set_class(not message.connected, "disconnected")
        if not message.connected:
            self._update_status(f"disconnected: {message.detail}; retrying every {RECONNECT_EVERY:g} s")
            if was:
                self.notify(message.detail, title="Engine disconnected", severity="error", timeout=6)
        else:
            self._update_status()
            if not was:
                self.notify("Connected again; the list was reloaded.", title="Engine back")

    def on_disk_usage_read(self, message: DiskUsageRead) -> None:
        if not self.showing:
            return
        if self._disk_timer is not None:  # an action just read it: that answer is fresh enough
            self._disk_timer.stop()
            self._disk_timer = None
        self.disk_used = message.layers_size
        self._update_status()

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        if not self.showing:
            return
        if message.image_id != self._layers_for:
            return
        self._set_layers(message.layers)

    # -- panes following each other --------------------------------------------------------------------
    def _refresh_views(self) -> None:
        self.repos.set_items(self.catalog.repositories())
        self._show_repository()
        self._update_status()

    def sync_panes(self) -> None:
        self._show_repository()

    def _show_repository(self) -> None:
        repo = self.repos.current
        current = self.catalog.repository(repo.name) if repo else None
        if current is not self._tags_shown_for or current is None:
            self._tags_shown_for = current
            self.tags.set_items(list(current.tags) if current else [])
        self._show_tag()
        self._update_titles()

    def _show_tag(self) -> None:
        """The tags cursor moved (or the tag changed): show its layers once the cursor rests there, so that
        holding a key repaints only the tags pane and asks the engine nothing."""
        tag = self.tags.current
        self._update_titles()
        if self._history_timer is not None:
            self._history_timer.stop()
            self._history_timer = None
        if tag is not None and tag.image.id == self._layers_for:
            self._layers_tag = tag
            self._check_remote(tag)
            return
        if self._layers_tag is None or tag is None:
            self._show_layers_of(tag)
        else:
            self._history_timer = self.set_timer(HISTORY_DELAY, lambda: self._show_layers_of(tag))

    def _show_layers_of(self, tag: Tag | None) -> None:
        self._history_timer = None
        self._layers_tag = tag
        self._check_remote(tag)
        self._layers_for = tag.image.id if tag is not None else None
        cached = self.engine.cached_history(tag.image.id) if tag is not None else ()
        if cached is not None:
            self._set_layers(cached)
            return
        self.layers.pending = True
        self.layers.set_items([])
        self._show_layer()
        self._update_titles()
        assert tag is not None  # only a tag has layers still to read
        self.load_history(tag.image.id)

    def _set_layers(self, layers: Iterable[Layer]) -> None:
        self.layers.pending = False
        self.layers.set_items(list(layers))
        self.layers.move_cursor(row=0, animate=False)
        self._show_layer()
        self._update_titles()

    def _show_layer(self) -> None:
        layer = self.layers.current
        detail = self.detail
        if layer is None:
            detail.update("")
            return
        text = Text()
        text.append(f"{layer.display_id}  ", style="bold")
        where = " on disk (its snapshot in the containerd image store)" if self.engine.info.containerd else ""
        text.append(f"{fmt.size(layer.size)}{where}  {fmt.ago(layer.created)}\n")
        text.append(layer.created_by or "(no command recorded)")
        if layer.comment:
            text.append("\ncomment: ", style="bold")
            text.append(layer.comment)
        if layer.tags:
            text.append("\ntags: ", style="bold")
            text.append(", ".join(layer.tags))
        detail.update(text)

    def _layers_title(self, tag: Tag | None) -> str:
        if tag is None:
            return "Layers"
        if tag.repository == NONE:
            return f"Layers of {tag.image.short_id}"
        others = [n for n in tag.image.names if n != tag.ref]
        also = f" · also named {', '.join(others)}" if others else ""
        remote = self._remote.get((tag.ref, tag.image.id))
        pushed = f" · registry: {remote.state}" if remote is not None else ""
        return f"Layers of {tag.ref} ({tag.image.short_id}){pushed}{also}"

    # -- local vs remote -------------------------------------------------------------------------------
    def registry(self, address: str, insecure: bool = False) -> Registry:
        """The session's client for a registry (raises RegistryError for an address that is not one)."""
        from imgtui.registry import Registry, split_address

        _, host = split_address(address)
        insecure = insecure or host in self.insecure_registries
        key = (host, insecure)  # one client per registry, however its address was written
        if key not in self.registries:
            self.registries[key] = Registry(address, insecure=insecure)
        return self.registries[key]

    def _check_remote(self, tag: Tag | None) -> None:
        """A tag named after a registry (not Docker Hub) is compared with that registry's tag, once."""
        if tag is None or tag.repository == NONE or (tag.ref, tag.image.id) in self._remote:
            return
        host, path = resolve_repository_name(tag.repository)
        if host in ("docker.io", "index.docker.io"):
            return  # Docker Hub: not asked on every cursor move (rate limits; and no network here)
        self.check_remote(host, path, tag)

    @work(thread=True, exclusive=True, group="remote", exit_on_error=False, description="Registry status")
    def check_remote(self, host: str, path: str, tag: Tag) -> None:
        from imgtui.registry import RegistryError
        from imgtui.registry.operations import RemoteStatus, remote_status

        try:
            registry = self.registry(host)
        except RegistryError as exc:
            status = RemoteStatus("unknown", str(exc))
        else:
            digests = [d.split("@", 1)[1] for d in tag.image.digests if d.split("@", 1)[0] == tag.repository]
            status = remote_status(registry, path, tag.tag, digests)
        self.post_message(RemoteChecked(tag.ref, tag.image.id, status))

    def on_remote_checked(self, message: RemoteChecked) -> None:
        if not self.showing:
            return
        self._remote[(message.ref, message.image_id)] = message.status
        self._update_titles()

    def remote_changed(self) -> None:
        self._remote.clear()

    def action_browse_registry(self) -> None:
        """Browse a registry: pick a known one or type an address."""
        hosts = {resolve_repository_name(t.repository)[0] for r in self.catalog.repositories() for t in r.tags
                 if t.repository != NONE}  # fmt: skip
        known = sorted(k for k in set(credentials.known_registries()) | hosts if "docker.io" not in k)
        from imgtui.ui.dialogs.registry import RegistryDialog

        def chosen(answer: tuple[str, bool] | None) -> None:
            if answer is not None:
                self.browse(*answer)

        self.push_screen(RegistryDialog(known, self.insecure_registries), chosen)

    def browse(self, address: str, insecure: bool) -> None:
        from imgtui.registry import RegistryError
        from imgtui.ui.screens.registry import RegistryScreen

        try:
            registry = self.registry(address, insecure)
        except RegistryError as exc:
            self.notify(str(exc), title="Registry", severity="error", timeout=8)
            return
        self.push_screen(RegistryScreen(registry))

    @on(DataTable.RowHighlighted, "#repos")
    def _repo_highlighted(self) -> None:
        self._show_repository()

    @on(DataTable.RowHighlighted, "#tags")
    def _tag_highlighted(self) -> None:
        self._show_tag()

    @on(DataTable.RowHighlighted, "#layers")
    def _layer_highlighted(self) -> None:
        self._show_layer()

    @on(DataTable.RowSelected, "#repos")
    def _repo_selected(self) -> None:
        self.tags.focus()

    @on(DataTable.RowSelected, "#tags")
    def _tag_selected(self) -> None:
        self.layers.focus()

    def _update_titles(self) -> None:
        self.repos.set_title(self.repos.title("Repositories"))
        repo = self.repos.current
        label = "Tags" if repo is None else f"Tags of {repo.name}"
        self.tags.set_title(self.tags.title(label))
        title = self._layers_title(self._layers_tag)
        self.layers.set_title(f"{title} loading …" if self.layers.pending else title)

    def _update_status(self, note: str | None = None) -> None:
        info = self.engine.info
        text = Text()
        text.append("● " if self.connected else "○ ", style="green" if self.connected else "bold")
        if note:
            text.append(f"{note}  │ ")
        elif self.loaded:
            totals = self.catalog.totals()
            text.append(f"{totals.images} images, {totals.dangling} dangling", style="bold")
            if self.disk_used is not None:
                text.append(f", {fmt.size(self.disk_used)} on disk", style="bold")
            text.append("  │ ")
        text.append(f"Docker {info.version} (API {info.api_version}) at {info.host}")
        self.status.update(text)

    # -- actions ---------------------------------------------------------------------------------------
    def action_filter(self) -> None:
        """Open the filter line for the focused list."""
        focused = self.focused
        target = focused if isinstance(focused, ItemTable) else self.repos
        self.query_one(FilterBar).open_for(target)

    @on(ItemTable.Filtered)
    @on(ItemTable.MarksChanged)
    def _table_changed(self, event: ItemTable.Filtered | ItemTable.MarksChanged) -> None:
        if event.table is self.repos:
            self._show_repository()
        elif event.table is self.tags:
            self._show_tag()
        elif event.table is self.layers:
            self._show_layer()
        self._update_titles()

    def select_image(self, image_id: str | None) -> None:
        """Put the cursor on a tag of this image (coming back from the containers view)."""
        if image_id is None:
            return
        image = self.catalog.get(image_id)
        if image is None:
            self.notify(f"Image {image_id[7:19]} is not listed (an intermediate or deleted image)")
            return
        tag = next(t for repo in self.catalog.repositories() for t in repo.tags if t.image.id == image_id)
        self.repos.filter_text = ""
        self.tags.filter_text = ""
        self.repos.select_key(tag.repository)
        self._show_repository()
        self.tags.select_key(self.tags.item_key(tag))
        self._show_tag()
        self.tags.focus()

    def action_refresh(self) -> None:
        """Reload the whole list from the engine."""
        self._remote.clear()
        self.load_images()
        self.notify("Reloading from the engine …", timeout=2)

    MAIN_SCREEN_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {
            "remove",
            "prune",
            "tag",
            "inspect",
            "containers",
            "filter",
            "toggle_log",
            "refresh",
            "pull",
            "push",
            "save",
            "load",
            "search",
            "import",
            "login",
            "logout",
            "browse_registry",
        }
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Image actions act on the panes' selection: only while the panes are on screen."""
        if action in self.MAIN_SCREEN_ACTIONS and self.screen is not self.screen_stack[0]:
            return False
        return True

    def _mark_focused(self) -> None:
        focused = self.focused
        if isinstance(focused, ItemTable) and focused.MARKABLE:
            focused.action_toggle_mark()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Remove", "Remove or untag the selected or marked tags (d)", self.action_remove)
        yield SystemCommand("Prune", "Prune dangling images, or every unused image (D)", self.action_prune)
        yield SystemCommand("Tag", "Give the selected image another name (t)", self.action_tag)
        yield SystemCommand("Inspect", "docker inspect of the selected image (i)", self.action_inspect)
        yield SystemCommand("Containers", "docker ps -a; of the selected image from the tags pane (c)",
                            self.action_containers)  # fmt: skip
        yield SystemCommand("Pull", "Pull an image by name, with per-layer progress (p)", self.action_pull)
        yield SystemCommand("Push", "Push the selected tag, tagging a registry name first if asked (P)",
                            self.action_push)  # fmt: skip
        yield SystemCommand("Save", "Save the selected or marked tags to a tar file (S)", self.action_save)
        yield SystemCommand("Load", "Load images from a tar file (L)", self.action_load)
        yield SystemCommand("Login", "docker login to a registry (A)", self.action_login)
        yield SystemCommand("Logout", "docker logout: forget a registry's credentials", self.action_logout)
        yield SystemCommand("Search", "docker search through the engine, then pull (f)", self.action_search)
        yield SystemCommand("Browse a registry", "Repositories, tags, layers of a registry (R)",
                            self.action_browse_registry)  # fmt: skip
        yield SystemCommand(
            "Import", "docker import: a filesystem tar as a one-layer image (I)", self.action_import
        )
        yield SystemCommand(
            "Cancel job", "Cancel the running save, load, pull or push (x)", self.action_cancel_job
        )
        yield SystemCommand("Outcome log", "Show or hide what the actions did (l)", self.action_toggle_log)
        yield SystemCommand("Mark", "Mark the row for a bulk removal (space)", self._mark_focused)
        yield SystemCommand(
            "Sort tags", "Sort tags by created, size or name (s)", self.tags.action_cycle_sort
        )
        yield SystemCommand("Refresh", "Reload every image from the engine (r)", self.action_refresh)
        yield SystemCommand("Filter", "Filter the focused list as you type (/)", self.action_filter)
        yield SystemCommand("Keys", "Show every key (?)", self.action_help)
        yield SystemCommand("Focus repositories", "Move to the repositories pane", self.repos.focus)
        yield SystemCommand("Focus tags", "Move to the tags pane", self.tags.focus)
        yield SystemCommand("Focus layers", "Move to the layers pane", self.layers.focus)
