"""The registry view: a registry's repositories → tags (a row per platform of an index) → layers, read
through the Registry HTTP API v2 by thread workers. The catalog comes a page at a time as the cursor nears its
end (or all of it while filtering); tag details fill in a few at a time; `d` deletes by digest after naming
every tag on that digest; `T` deletes only the selected tag and `K` applies a retention policy
(registry_retention.py); `p` pulls into the local engine through the app's job."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from imgtui.engine import OutcomeLine
from imgtui.engine.models import same_below
from imgtui.registry import AuthRequired, Registry, RegistryError, RemoteLayer, RemoteTag
from imgtui.registry.operations import (
    DeletePlan,
    PlanChanged,
    execute_delete,
    fill,
    plan_delete,
    platform_row,
)
from imgtui.ui import commands
from imgtui.ui import format as fmt
from imgtui.ui.coalesce import Coalesced
from imgtui.ui.commands import Where
from imgtui.ui.dialogs.choice import Choice, ChoiceDialog
from imgtui.ui.dialogs.login import LoginDialog
from imgtui.ui.errors import sentence
from imgtui.ui.messages import Outcome, PullRequested
from imgtui.ui.screens.registry_retention import RetentionCommands
from imgtui.ui.widgets.filter_bar import FilterBar
from imgtui.ui.widgets.fixed import FixedLines
from imgtui.ui.widgets.pane_chain import PaneChain
from imgtui.ui.widgets.remote_tables import RemoteLayerTable, RemoteRepoTable, RemoteTagTable

if TYPE_CHECKING:
    from imgtui.layers import Analysis

FOLLOW_DELAY = 0.05
"""The tags (and layers) pane follows the cursor once it rests this long."""
ROWS_DELAY = 0.03
"""Tag rows arriving within this long are painted together (a repository's tags fill in a few at a time)."""
MORE_WHEN_WITHIN = 20
"""Read the next catalog page when the cursor is this close to the last row read."""
CATALOG_BATCH = 0.25
"""While a filter reads the whole catalog, pages read one after another are shown together this often (one
repaint a page made 10,000 pages of one name take 90 s instead of 15)."""


@dataclass
class CatalogPage(Message):
    names: tuple[str, ...]
    """Of one page, or of several read in a row while filtering."""
    next_url: str | None
    first: bool
    done: bool = True
    """The worker reads no more pages after these (False: more of the same read are coming)."""


@dataclass
class TagsListed(Message):
    repository: str
    tags: list[str]
    complete: bool


@dataclass
class TagsFilled(Message):
    repository: str
    tag: str
    rows: list[RemoteTag]


@dataclass
class LayersRead(Message):
    key: str
    row: RemoteTag | None
    """The row, filled in (a platform row of an index gets its size and date this way)."""
    layers: tuple[RemoteLayer, ...]
    note: str = ""


class RegistryScreen(RetentionCommands, Screen[None]):
    WHERE = Where.REGISTRY
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]
    AUTO_FOCUS = "#remote-repos"

    def __init__(self, registry: Registry) -> None:
        super().__init__()
        self.registry = registry
        self.repos = RemoteRepoTable(id="remote-repos")
        self.tags = RemoteTagTable(id="remote-tags")
        self.layer_table = RemoteLayerTable(id="remote-layers")
        self.detail = FixedLines(id="remote-detail")
        self.status = FixedLines(id="remote-status", classes="screen-title")
        self.names: list[str] = []
        self.next_url: str | None = None
        self.catalog_done = False
        self.reading_catalog = False
        self.catalog_from_start = True
        """The catalog read under way started from the first page and no page of it came yet."""
        self.catalog_error = ""
        """Why the last catalog read failed: the title says it, and no more pages are read until `r`."""
        self._pages_asked: set[str] = set()
        """The catalog pages asked for since the first (the catalog workers' own, one runs at a time)."""
        self.rows: dict[str, RemoteTag] = {}
        self.tags_for: str | None = None
        self.tags_complete = False
        self.layers_for: str | None = None
        self.problem = ""
        self._rows = Coalesced(self, lambda: ROWS_DELAY, self._flush_rows)
        self.chain = PaneChain(self.repos, self.tags, self.layer_table, self.detail,  # type: ignore[arg-type]
                               rest=(FOLLOW_DELAY, FOLLOW_DELAY), id="remote-chain")  # fmt: skip

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        yield self.status
        yield self.chain
        yield FilterBar(id="remote-filter")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._titles()
        self._status("opening …")
        self.catalog_from_start = True
        self.read_catalog(None)

    # -- workers ---------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="registry-catalog", exit_on_error=False, description="Catalog")
    def read_catalog(self, next_url: str | None) -> None:
        """A page; while a filter is typed, every page to the end (shown every CATALOG_BATCH seconds)."""
        worker = get_current_worker()
        first = next_url is None
        if first:
            self.registry.ping()
            self._pages_asked = set()
        names: list[str] = []
        shown = time.monotonic()
        try:
            while not worker.is_cancelled:
                if next_url in self._pages_asked:  # else a filter would read the circle for ever
                    raise RegistryError(
                        f"listing repositories: {self.registry.host} links back to a page already read "
                        "(its Link headers go round in a circle)"
                    )
                self._pages_asked.add(next_url or "")
                page = self.registry.catalog(next_url)
                names.extend(page.names)
                next_url = page.next_url
                more = next_url is not None and bool(self.repos.filter_text)
                if not more or time.monotonic() - shown >= CATALOG_BATCH:
                    if worker.is_cancelled:
                        return
                    self.post_message(CatalogPage(tuple(names), next_url, first, done=not more))
                    names, first, shown = [], False, time.monotonic()
                if not more:
                    return
        except Exception:
            if names and not worker.is_cancelled:  # what was read is shown; the error follows
                self.post_message(CatalogPage(tuple(names), next_url, first, done=False))
            raise

    @work(thread=True, exclusive=True, group="registry-tags", exit_on_error=False, description="Tags")
    def read_tags(self, repository: str) -> None:
        worker = get_current_worker()
        page = self.registry.tags(repository)
        tags = sorted(page.names)
        self.post_message(TagsListed(repository, tags, page.next_url is None))
        while page.next_url and not worker.is_cancelled:
            page = self.registry.tags(repository, page.next_url)
            tags = sorted([*tags, *page.names])
            self.post_message(TagsListed(repository, tags, page.next_url is None))

        def report(tag: str, rows: list[RemoteTag]) -> None:
            self.post_message(TagsFilled(repository, tag, rows))

        fill(self.registry, repository, tags, report, lambda: worker.is_cancelled)

    @work(thread=True, exclusive=True, group="registry-layers", exit_on_error=False, description="Layers")
    def read_layers(self, row: RemoteTag) -> None:
        if row.parent:
            filled = platform_row(self.registry, row)
            if filled.error:
                self.post_message(LayersRead(row.key, filled, (), filled.error))
                return
            row = filled
        manifest = self.registry.manifest(row.repository, row.digest or row.tag)
        if manifest.is_index:
            note = f"{manifest.kind}: pick one of its platform rows"
            self.post_message(LayersRead(row.key, None, (), note))
            return
        config = self.registry.config(row.repository, manifest)
        self.post_message(LayersRead(row.key, row if row.parent else None, config.history))

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False, description="Delete")
    def prepare_delete(self, repository: str, tag: str) -> None:
        plan = plan_delete(self.registry, repository, tag)
        self.app.call_from_thread(self._confirm_delete, plan)

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False, description="Delete")
    def run_delete(self, plan: DeletePlan) -> None:
        try:
            gone = execute_delete(self.registry, plan)
        except PlanChanged as changed:
            self.app.call_from_thread(self.notify, str(changed), severity="warning")
            self.app.call_from_thread(self._confirm_delete, changed.plan)
            return
        where = f"{self.registry.host}/{plan.repository}"
        lines = [OutcomeLine("deleted", f"Deleted {where}@{plan.digest}")]
        lines += [OutcomeLine("untagged", f"Tag gone: {where}:{t}") for t in gone]
        lines.append(OutcomeLine("info", "Space comes back when the registry's garbage collection runs"))
        self.app.post_message(Outcome(lines))
        self.app.call_from_thread(self._deleted, plan, gone)

    # -- the workers' errors: the App says them; here the panes stop waiting ------------------------------
    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or not self.is_attached:
            return
        worker, error = event.worker, event.worker.error
        message = sentence(error)
        if worker.group == "registry-catalog":
            self.reading_catalog = False
            self.catalog_error = message
            if self.catalog_from_start:  # nothing listed is known to be there any more
                self.names, self.next_url = [], None
                self.repos.set_items([])
            self._titles()
        if worker.group == "registry-tags":
            self.tags_complete = True  # nothing more is coming
            self._titles()
        if worker.group == "registry-layers":
            self.layer_table.set_items([])
        self.detail.update(Text(message, style="red"))  # whole, where the status line would cut it
        self.problem = message
        self._status()
        if isinstance(error, AuthRequired):
            self.command_login_remote()

    # -- what the workers tell us ----------------------------------------------------------------------
    def on_catalog_page(self, message: CatalogPage) -> None:
        if message.first:
            self.names = []
        self.problem = ""
        self.catalog_error = ""
        self.catalog_from_start = False  # a failure from here on leaves these names listed
        self.names.extend(message.names)
        self.next_url = message.next_url
        self.catalog_done = message.next_url is None
        self.reading_catalog = not message.done
        self.repos.set_items(list(self.names))
        self._titles()
        self._status()
        if message.first:
            self._follow_repo()
        self._maybe_more()

    def on_tags_listed(self, message: TagsListed) -> None:
        if message.repository != self.tags_for:
            return
        for tag in message.tags:
            self.rows.setdefault(tag, RemoteTag(message.repository, tag))
        self.tags_complete = message.complete
        self._rows.request()

    def on_tags_filled(self, message: TagsFilled) -> None:
        if message.repository != self.tags_for:
            return
        self.rows[message.tag] = message.rows[0]
        for child in message.rows[1:]:
            self.rows.setdefault(child.key, child)
        self._rows.request()

    def on_layers_read(self, message: LayersRead) -> None:
        if message.row is not None and message.row.key in self.rows:
            self.rows[message.row.key] = message.row
            self._rows.request()
        if message.key != self.layers_for:
            return
        self.layer_table.set_items(list(message.layers))
        self._titles()
        self.detail.update(Text(message.note, style="italic") if message.note else self._tag_detail())

    # -- panes following each other --------------------------------------------------------------------
    def _flush_rows(self) -> None:
        """Paint the rows that came in; the selected row's layers follow once its details are there."""
        self._show_rows()
        current = self.tags.current
        if current is not None and current.loaded and self.layers_for != current.key:
            self._follow_tag()

    def _show_rows(self) -> None:
        ordered: list[RemoteTag] = []
        children: dict[str, list[RemoteTag]] = {}
        for row in self.rows.values():
            if row.parent:
                children.setdefault(row.parent, []).append(row)
        for key in sorted(k for k, r in self.rows.items() if not r.parent):
            ordered.append(self.rows[key])
            ordered.extend(children.get(key, ()))
        self.tags.set_items(ordered)
        self._titles()

    # -- the PaneChain's owner ---------------------------------------------------------------------------
    def chain_moved(self, pane: int) -> None:
        if pane == 0:
            self._maybe_more()
        elif pane == 1:
            self.detail.update(self._tag_detail())
        self._titles()

    def chain_ready(self, pane: int) -> bool:
        return False

    def chain_open(self, pane: int) -> None:
        """Enter on a layer: the image's layer contents, read from the registry (no pull), then cached."""
        row = self.tags.current
        if row is None or not row.loaded:
            return
        reference = row.digest if row.parent else row.tag
        layer = self.layer_table.current
        self._status(f"reading the layers of {row.reference} …")
        older = same_below(self.layer_table.items, layer)
        self.read_contents(row.repository, reference, layer.created_by if layer is not None else "", older)

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False, description="Layers")
    def read_contents(self, repository: str, reference: str, command: str, older: int) -> None:
        from imgtui.layers.cache import LayerCache
        from imgtui.layers.sources import from_registry

        def report(done: int) -> None:
            self.app.call_from_thread(self._status, f"reading the layers of {repository}: {fmt.size(done)} …")

        analysis = from_registry(
            self.registry, repository, reference, LayerCache(), report, lambda: not self.is_attached
        )
        self.app.call_from_thread(self._show_contents, analysis, command, older, repository)

    def _show_contents(self, analysis: Analysis, command: str, older: int, repository: str) -> None:
        from imgtui.layers.files import from_registry_blobs
        from imgtui.ui.screens.contents import ContentsScreen

        self._status()
        extract = from_registry_blobs(self.registry, repository, analysis.keys)
        self.app.push_screen(ContentsScreen(analysis, analysis.layer_of(command, older), extract))

    def chain_follow(self, pane: int) -> None:
        if pane == 0:
            self._follow_repo()
        else:
            self._follow_tag()

    def _follow_repo(self) -> None:
        name = self.repos.current
        if name == self.tags_for:
            return
        self.tags_for, self.rows, self.tags_complete = name, {}, False
        self.layers_for = None
        self.tags.set_items([])
        self.layer_table.set_items([])
        self.detail.update("")
        self._titles()
        if name is not None:
            self.read_tags(name)

    def _follow_tag(self) -> None:
        row = self.tags.current
        if row is None or not row.loaded and not row.parent:
            return  # its details are still coming; TagsFilled calls back
        if row.key == self.layers_for:
            return
        self.layers_for = row.key
        self.layer_table.set_items([])
        self._titles()
        if row.error:
            self.detail.update(Text(row.error, style="red"))
            return
        self.read_layers(row)

    def _maybe_more(self) -> None:
        """The catalog is read lazily: the next page when the cursor nears the end, all of it to filter."""
        if self.catalog_done or self.reading_catalog or self.next_url is None or self.catalog_error:
            return  # after a failure, `r` reads again (each try may wait the whole timeout)
        near_end = self.repos.cursor_row >= self.repos.row_count - MORE_WHEN_WITHIN
        if near_end or self.repos.filter_text or self.repos.row_count < self.repos.size.height:
            self.reading_catalog = True
            self.catalog_from_start = False
            self.read_catalog(self.next_url)

    def _tag_detail(self) -> Text:
        row = self.tags.current
        if row is None:
            return Text("")
        text = Text()
        text.append(f"{self.registry.host}/{row.reference}", style="bold")
        if row.parent:
            text.append(f"  ({row.platform} of {row.repository}:{row.parent})")
        facts = [row.digest if not row.parent else "", row.kind, row.platform if not row.parent else ""]
        if row.size is not None:
            facts.append(f"{fmt.size(row.size)} to pull (compressed)")
        if facts := [f for f in facts if f]:
            text.append("\n" + " · ".join(facts))
        if row.error:
            text.append(f"\n{row.error}", style="red")
        return text

    def _titles(self) -> None:
        if self.catalog_error:  # never "+ more": what comes next is not known
            what = "could not list the rest" if self.names else "could not list"
            listed = self.repos.title("Repositories") if self.names else "Repositories"
            self.repos.set_title(f"{listed}: {what} ({self.catalog_error})")
        else:
            more = "" if self.catalog_done else " + more as you scroll"
            self.repos.set_title(self.repos.title("Repositories") + more)
        label = f"Tags of {self.tags_for}" if self.tags_for else "Tags"
        reading = "" if self.tags_complete or self.tags_for is None else " listing …"
        self.tags.set_title(self.tags.title(label) + reading)
        row = self.tags.current
        if row is None or not self.layers_for:
            self.layer_table.set_title("Layers")
        elif row.parent:
            self.layer_table.set_title(f"Layers of {row.repository}:{row.parent} for {row.platform}")
        else:
            self.layer_table.set_title(f"Layers of {row.reference}")

    def _status(self, note: str | None = None) -> None:
        text = Text()
        text.append(f"Registry {self.registry.describe()}", style="bold")
        if note:
            text.append(f"  │ {note}")
        elif self.problem:
            text.append(f"  │ {self.problem}", style="bold red")
        self.status.update(text)

    # -- actions ---------------------------------------------------------------------------------------
    def command_filter_remote(self) -> None:
        self.chain.open_filter()

    def command_reload_remote(self) -> None:
        """Read the catalog again (and the open repository's tags)."""
        self.tags_for = None
        self.problem = ""
        self.catalog_error = ""
        self.catalog_from_start = True
        self._titles()
        self._status("reloading …")
        self.read_catalog(None)

    def command_close_remote(self) -> None:
        self.dismiss(None)

    def command_login_remote(self) -> None:
        def chosen(answer: tuple[str, str, str] | None) -> None:
            if answer is None:
                return
            _, user, password = answer
            self.registry.set_credentials(user, password)
            self.command_reload_remote()

        self.app.push_screen(
            LoginDialog(self.registry.host, title="Log in to this registry (kept in memory only)"), chosen
        )

    def command_delete_tag(self) -> None:
        row = self.tags.current
        if row is None or not row.loaded:
            self.notify("Wait for the tag's details, or pick a tag", severity="warning")
            return
        if row.parent:
            self.notify(
                f"This is one platform of the index {row.parent}: delete the index tag instead "
                "(deleting a platform's manifest would break the index)",
                severity="warning",
            )
            return
        self._status(f"finding every tag of {row.repository} on the same digest …")
        self.prepare_delete(row.repository, row.tag)

    def _confirm_delete(self, plan: DeletePlan) -> None:
        self._status()

        def chosen(go: str | None) -> None:
            if go == "digest":
                self._status(f"deleting {plan.repository}@{plan.digest[:19]} …")
                self.run_delete(plan)
            elif go == "tag":
                self.untag(plan.repository, plan.tag)

        others = [t for t in plan.siblings if t != plan.tag]
        choices = [Choice(("y",), "delete", "digest", danger=True)]
        if others:  # beside it, the way that leaves them in place
            choices.append(Choice(("t",), f"only {plan.tag} (T)", "tag", danger=True))
        warnings = [f"{fmt.count(len(others), 'more tag')} go with it"] if others else []
        if plan.in_index:
            warnings.append(f"an index uses it: {', '.join(plan.in_index)}")
        banner = "; ".join(warnings) or None
        self.app.push_screen(
            ChoiceDialog(
                f"Delete {self.registry.host}/{plan.repository}:{plan.tag}?",
                plan.lines(),
                [*choices, Choice(("n",), "keep", "")],
                banner=banner,
            ),
            chosen,
        )

    def _deleted(self, plan: DeletePlan, gone: list[str]) -> None:
        self.notify(
            f"Deleted {plan.repository}@{plan.digest[:19]}: tags {', '.join(gone)} are gone. Space comes "
            "back when the registry's garbage collection runs.",
            title="Deleted",
            timeout=10,
        )
        self._reload_tags()

    def _reload_tags(self) -> None:
        """Read the open repository's tags again (after a delete)."""
        self.tags_for = None
        self._status()
        self._follow_repo()

    def command_pull_remote(self) -> None:
        row = self.tags.current
        if row is None:
            return
        self.app.post_message(PullRequested(f"{self.registry.host}/{row.reference}"))
