"""`u`: disk usage, `docker system df -v` as a view. The kinds above (images, containers, volumes, build
cache: count, size, share of the whole, reclaimable), the selected kind's objects below, each with a bar
for its share; `p` prunes the selected kind after a preview that names what goes (imgtui/engine/usage.py).
Read with one `/system/df`; images are pruned by the images view's own prune (`D`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from imgtui.engine import Engine, OutcomeLine
from imgtui.engine.usage import (
    CacheRecord,
    ContainerUse,
    DiskUsage,
    ImageUse,
    Kind,
    KindUse,
    PruneResult,
    UsageChanged,
    UsagePrunePlan,
    VolumeUse,
    age_text,
    parse_age,
)
from imgtui.ui import commands
from imgtui.ui import format as fmt
from imgtui.ui.commands import Where
from imgtui.ui.dialogs.choice import Choice, ChoiceDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.messages import Outcome
from imgtui.ui.widgets.tables import Cell, ItemTable, right

T = TypeVar("T")
DEFAULT_AGE = "24h"


def bar(part: int, whole: int, width: int, style: str = "cyan") -> Text:
    """`█████·····`: part's share of whole in `width` cells (an eighth of a cell at most off)."""
    width = max(width, 1)
    if whole <= 0 or part <= 0:
        return Text("·" * width, style="dim")
    eighths = round(min(part / whole, 1.0) * width * 8)
    full, rest = divmod(eighths, 8)
    text = Text("█" * full, style=style)
    if rest and full < width:
        text.append(" ▏▎▍▌▋▊▉"[rest], style=style)
    text.append("·" * (width - len(text)), style="dim")
    return text


class ShareTable(ItemTable[T], Generic[T]):
    """An ItemTable whose rows carry a bar: each item's share of `whole`."""

    whole: int = 0

    def show(self, items: list[T], whole: int) -> None:
        self.whole = whole
        self.set_items(items)


class KindTable(ShareTable[KindUse]):
    COLUMNS = (
        ("kind", "Kind", 11),
        ("count", "Count", 15),
        ("size", "Size", 9),
        ("share", "Share", 0),
        ("reclaim", "Reclaimable", 11),
        ("rbar", "of it", 0),
    )
    FLEX = {"share": (1, 6), "rbar": (1, 6)}
    NOUN = "kinds"
    ACTIVE = {"images": "used", "containers": "running", "volumes": "used", "build cache": "in use"}

    def item_key(self, item: KindUse) -> str:
        return item.kind

    def cells(self, item: KindUse) -> tuple[Cell, ...]:
        about = "~" if item.about else ""
        return (
            item.kind,
            f"{item.count} ({item.active} {self.ACTIVE[item.kind]})",
            right(about + fmt.size(item.size), 9),
            bar(item.size, self.whole, self.width_of("share")),
            right(about + fmt.size(item.reclaimable), 11),
            bar(item.reclaimable, item.size, self.width_of("rbar"), "yellow"),
        )

    def haystack(self, item: KindUse) -> str:
        return item.kind


class ImageUseTable(ShareTable[ImageUse]):
    COLUMNS = (
        ("name", "Image", 0),
        ("created", "Created", 14),
        ("size", "Size", 9),
        ("unique", "Only its", 9),
        ("ctrs", "Ctrs", 4),
        ("bar", "Share", 0),
    )
    FLEX = {"name": (3, 12), "bar": (1, 6)}
    NOUN = "images"

    def item_key(self, item: ImageUse) -> str:
        return item.id

    def cells(self, item: ImageUse) -> tuple[Cell, ...]:
        about = "~" if item.about else ""
        return (
            fmt.cut(item.label, self.width_of("name")),
            fmt.ago(item.created),
            right(about + fmt.size(item.size), 9),
            right(about + fmt.size(item.unique), 9),
            right(str(item.containers), 4),
            bar(item.unique, self.whole, self.width_of("bar")),
        )

    def haystack(self, item: ImageUse) -> str:
        return f"{item.id} {item.label}"


class ContainerUseTable(ShareTable[ContainerUse]):
    COLUMNS = (
        ("name", "Container", 0),
        ("image", "Image", 0),
        ("status", "Status", 0),
        ("size", "Writable", 9),
        ("bar", "Share", 0),
    )
    FLEX = {"name": (2, 8), "image": (2, 8), "status": (2, 8), "bar": (1, 6)}
    NOUN = "containers"

    def item_key(self, item: ContainerUse) -> str:
        return item.id

    def cells(self, item: ContainerUse) -> tuple[Cell, ...]:
        status = Text(fmt.cut(item.status, self.width_of("status")), style="green" if item.running else "")
        return (
            fmt.cut(item.name, self.width_of("name")),
            fmt.cut(item.image, self.width_of("image")),
            status,
            right(fmt.size(item.size_rw), 9),
            bar(item.size_rw, self.whole, self.width_of("bar")),
        )

    def haystack(self, item: ContainerUse) -> str:
        return f"{item.id} {item.name} {item.image} {item.status}"


class VolumeUseTable(ShareTable[VolumeUse]):
    COLUMNS = (
        ("name", "Volume", 0),
        ("size", "Size", 9),
        ("users", "Used by", 0),
        ("bar", "Share", 0),
    )
    FLEX = {"name": (3, 12), "users": (2, 10), "bar": (1, 6)}
    NOUN = "volumes"

    def item_key(self, item: VolumeUse) -> str:
        return item.name

    def cells(self, item: VolumeUse) -> tuple[Cell, ...]:
        users = (
            ", ".join(item.users) if item.users else ("-" if item.unused else f"{item.links} container(s)")
        )
        return (
            fmt.cut_middle(item.name, self.width_of("name")),
            right(fmt.size(item.size) if item.size >= 0 else "?", 9),
            Text(fmt.cut(users, self.width_of("users")), style="" if item.users else "yellow"),
            bar(max(item.size, 0), self.whole, self.width_of("bar")),
        )

    def haystack(self, item: VolumeUse) -> str:
        return f"{item.name} {' '.join(item.users)}"


class CacheTable(ShareTable[CacheRecord]):
    COLUMNS = (
        ("id", "Cache ID", 12),
        ("type", "Type", 10),
        ("size", "Size", 9),
        ("used", "Last used", 14),
        ("shared", "Shared", 6),
        ("what", "Description", 0),
        ("bar", "Share", 0),
    )
    FLEX = {"what": (3, 8), "bar": (1, 6)}
    NOUN = "build cache records"

    def item_key(self, item: CacheRecord) -> str:
        return item.id

    def cells(self, item: CacheRecord) -> tuple[Cell, ...]:
        what = ("(in use) " if item.in_use else "") + item.description
        return (
            item.id[:12],
            item.type,
            right(fmt.size(item.size), 9),
            fmt.ago(item.last_used),
            "yes" if item.shared else "no",
            fmt.cut(what, self.width_of("what")),
            bar(0 if item.shared else item.size, self.whole, self.width_of("bar")),
        )

    def haystack(self, item: CacheRecord) -> str:
        return f"{item.id} {item.type} {item.description}"


class UsageScreen(Screen[None]):
    """`docker system df -v`, kept fresh by the engine's image and container events while it is shown."""

    WHERE = Where.USAGE
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]

    @dataclass
    class Read(Message):
        usage: DiskUsage

    @dataclass
    class Planned(Message):
        plan: UsagePrunePlan
        banner: str | None = None

    @dataclass
    class Pruned(Message):
        plan: UsagePrunePlan
        result: PruneResult

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.usage: DiskUsage | None = None
        self.kinds = KindTable(id="usage-kinds")
        self.details: dict[Kind, ShareTable[Any]] = {
            "images": ImageUseTable(id="usage-images"),
            "containers": ContainerUseTable(id="usage-containers"),
            "volumes": VolumeUseTable(id="usage-volumes"),
            "build cache": CacheTable(id="usage-cache"),
        }
        self.result = Static("", id="usage-result")
        self.last_result = ""

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        yield Static("Disk usage (docker system df -v)", id="usage-title", classes="screen-title")
        yield self.kinds
        yield from self.details.values()
        yield self.result
        yield Footer()

    def on_mount(self) -> None:
        self.kinds.border_title = "Kinds: reading /system/df …"
        for table in self.details.values():
            table.display = False
        self.details["images"].display = True
        self.kinds.focus()
        self.command_reload_usage()

    @property
    def kind(self) -> Kind:
        current = self.kinds.current
        return current.kind if current is not None else "images"

    @property
    def detail(self) -> ShareTable[Any]:
        return self.details[self.kind]

    # -- reading ------------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="usage", exit_on_error=False, description="Reading disk usage")
    def command_reload_usage(self) -> None:
        self.post_message(self.Read(self.engine.read_usage()))

    def on_usage_screen_read(self, message: Read) -> None:
        usage = self.usage = message.usage
        kinds = usage.kinds()
        self.kinds.show(kinds, usage.total)
        store = "imgtui's sizes (containerd image store)" if usage.containerd else "the engine's figures"
        self.kinds.border_title = f"Kinds: {fmt.size(usage.total)} in all; images from {store}"
        by_kind = {k.kind: k for k in kinds}
        self.details["images"].show(list(usage.images), by_kind["images"].size)
        self.details["containers"].show(list(usage.containers), by_kind["containers"].size)
        self.details["volumes"].show(list(usage.volumes), by_kind["volumes"].size)
        self.details["build cache"].show(list(usage.cache), by_kind["build cache"].size)
        self._show_detail()

    @on(DataTable.RowHighlighted, "#usage-kinds")
    def _kind_moved(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        if self.usage is None:
            return
        kind = self.kind
        for name, table in self.details.items():
            table.display = name == kind
        use = next(k for k in self.usage.kinds() if k.kind == kind)
        table = self.details[kind]
        noun = table.NOUN
        table.set_title(
            f"{noun[:1].upper()}{noun[1:]} ({len(table.items)}): {fmt.size(use.size)}, "
            f"{fmt.size(use.reclaimable)} reclaimable · p prunes"
        )

    def command_close_usage(self) -> None:
        self.dismiss(None)

    # -- prune ------------------------------------------------------------------------------------------
    def command_prune_kind(self) -> None:
        kind = self.kind
        if kind == "images":
            # The images view's own prune (D): dangling first, `a` for every unused image.
            images = self.app.images  # type: ignore[attr-defined]
            images.query_one("#removal-feature").plan_prune(False)
            return
        if kind == "build cache":

            def check(text: str) -> str | None:
                try:
                    parse_age(text)
                except ValueError as bad:
                    return str(bad)
                return None

            def chosen(text: str | None) -> None:
                if text is not None:
                    self.plan_prune("build cache", parse_age(text))

            hint = ("Prune build cache unused for at least this long (until): 24h, 7d, 1h30m; 0 takes every "
                    "age. Records shared with an image or in use are kept.")  # fmt: skip
            self.app.push_screen(NameDialog("Prune the build cache", hint, DEFAULT_AGE, check), chosen)
            return
        self.plan_prune(kind, 0)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, description="Previewing the prune")
    def plan_prune(self, kind: Kind, until: int, banner: str | None = None) -> None:
        self.post_message(self.Planned(self.engine.plan_usage_prune(kind, until), banner))

    def on_usage_screen_planned(self, message: Planned) -> None:
        plan = message.plan
        lines: list[str | Text] = []
        noun = {"containers": "stopped container", "volumes": "unused volume", "build cache": "record"}[
            plan.kind
        ]
        for ident, what, size in plan.items:
            shown = ident if plan.kind == "volumes" else ident[:12]
            lines.append(f"{shown}  {fmt.size(size):>8}  {what}")
        for ident, why in plan.kept:
            shown = ident if plan.kind == "volumes" else ident[:12]
            lines.append(Text(f"{shown}  stays: {why}", style="yellow"))
        if plan.items:
            lines.append(Text(f"{fmt.count(len(plan.items), noun)}, frees {fmt.size(plan.freed)} "
                              f"({plan.freed} bytes)", style="bold"))  # fmt: skip
        else:
            lines.append(
                f"No {noun}s to prune" + (f" unused for {age_text(plan.until)}" if plan.until else "")
            )
        if plan.kind == "volumes" and plan.items:
            lines.append("Each volume above is removed by its name, and only those: a volume made after this "
                         "preview stays. Its files are gone for good.")  # fmt: skip
        choices: list[Choice[str]] = []
        if plan.items:
            choices.append(Choice(("y", "enter"), f"yes, remove these {len(plan.items)}", "prune", True))
        if plan.kind == "build cache":
            choices.append(Choice(("u",), "another age", "age"))
        title = f"Prune {plan.kind}?"
        if plan.kind == "build cache":
            title = f"Prune build cache unused for {age_text(plan.until)}?"

        def chosen(answer: str | None) -> None:
            if answer == "prune":
                self.run_prune(plan)
            elif answer == "age":
                self.command_prune_kind()
            else:
                self.app.post_message(Outcome([OutcomeLine("info", f"Cancelled: no {plan.kind} pruned")]))

        self.app.push_screen(ChoiceDialog(title, lines, choices, banner=message.banner), chosen)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Pruning")
    def run_prune(self, plan: UsagePrunePlan) -> None:
        post = self.app.post_message
        cli = {"containers": "container prune", "volumes": "volume rm " + " ".join(plan.ids),
               "build cache": f"builder prune --filter until={plan.until}s"}[plan.kind]  # fmt: skip
        post(Outcome([OutcomeLine("action", cli)]))
        try:
            for item in self.engine.usage_prune(plan):
                if isinstance(item, PruneResult):
                    self.post_message(self.Pruned(plan, item))
                else:
                    post(Outcome([OutcomeLine("deleted", item)]))
        except UsageChanged as changed:
            post(Outcome([OutcomeLine("error", str(changed))]))
            self.post_message(self.Planned(changed.usage_plan, f"{changed}. The new preview:"))
            return
        self.post_message(self.Read(self.engine.read_usage()))

    def on_usage_screen_pruned(self, message: Pruned) -> None:
        plan, result = message.plan, message.result
        if plan.kind == "volumes":
            engine = f"the engine's /system/df: the removed volumes took {fmt.size(result.reclaimed)} " \
                     f"({result.reclaimed} bytes)"  # fmt: skip
        else:
            engine = f"the engine reclaimed {fmt.size(result.reclaimed)} ({result.reclaimed} bytes)"
        noun = {"containers": "container", "volumes": "volume", "build cache": "build cache record"}[
            plan.kind
        ]
        text = (f"Pruned {fmt.count(len(result.deleted), noun)}: {engine}; the preview said "
                f"{fmt.size(plan.freed)} ({plan.freed} bytes)")  # fmt: skip
        if result.unexpected:
            text += f". Also deleted, not in the preview: {', '.join(i[:12] for i in result.unexpected)}"
        if result.missed:
            text += f". Not deleted: {', '.join(i[:12] for i in result.missed)}"
        self.last_result = text
        self.result.update(text)
        self.app.post_message(Outcome([OutcomeLine("reclaimed", text)]))
        self.notify(text, timeout=8)
