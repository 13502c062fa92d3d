"""`F`: the fleet view: several engines at once (imgtui/fleet). One row an engine: its status, images,
dangling images and what pruning them frees; each row fills in as its engine answers, and an engine that
does not answer says why in its row while the others keep their figures. `/` finds an image on every
engine (by name, ID or digest); `D` previews the prune of every engine's dangling images, each with its
bytes, and applies it engine by engine, one log line per engine's answer; `r` asks every engine again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from imgtui.engine import NONE, OutcomeLine
from imgtui.fleet import Applied, EngineSpec, Fleet, Report, find, same_engines
from imgtui.ui import commands
from imgtui.ui import format as fmt
from imgtui.ui.commands import Where
from imgtui.ui.dialogs.choice import Choice, ChoiceDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.messages import Outcome
from imgtui.ui.widgets.tables import Cell, ItemTable, right

LOG_LINES = 200


@dataclass(frozen=True)
class Row:
    """An engine's row: its last report, and whether it is being asked again."""

    report: Report
    asking: bool = False


class EngineTable(ItemTable[Row]):
    COLUMNS = (
        ("engine", "Engine", 0),
        ("status", "Status", 0),
        ("images", "Images", 6),
        ("dangling", "Dangling", 8),
        ("reclaim", "Reclaimable", 11),
    )
    FLEX = {"engine": (1, 12), "status": (1, 10)}
    NOUN = "engines"

    def item_key(self, item: Row) -> str:
        return item.report.spec.address

    def cells(self, item: Row) -> tuple[Cell, ...]:
        report = item.report
        name = fmt.cut_middle(report.label, self.width_of("engine"))
        if report.error is not None and report.info is None and item.asking:
            return (name, Text("asking …", style="dim"), "", "", "")
        if report.error is not None:
            style = "yellow" if report.error.startswith("timed out") else "red"
            status = Text(fmt.cut(report.error, self.width_of("status")), style=style)
            return (name, status, right("-", 6), right("-", 8), right("-", 11))
        shown = report.status + (" …" if item.asking else "")
        about = "~" if report.about else ""
        return (
            name,
            Text(fmt.cut(shown, self.width_of("status")), style="green"),
            right(str(len(report.images)), 6),
            right(str(report.dangling), 8),
            right(about + fmt.size(report.reclaimable), 11),
        )

    def haystack(self, item: Row) -> str:
        return f"{item.report.label} {item.report.error or ''}"


class FleetScreen(Screen[None]):
    """Several engines; every question goes to all of them through the fleet's bounded pool."""

    WHERE = Where.FLEET
    BINDINGS: ClassVar[list[BindingType]] = commands.bindings(WHERE)  # type: ignore[assignment]

    @dataclass
    class Polled(Message):
        """One engine answered a poll (or did not, and its report says why)."""

        report: Report

    @dataclass
    class PollDone(Message):
        """Every engine answered or was given up on."""

    @dataclass
    class Cleaned(Message):
        """One engine's answer to the prune of its dangling images."""

        applied: Applied

    @dataclass
    class CleanDone(Message):
        """Every engine answered the prune or was given up on."""

    def __init__(self, fleet: Fleet) -> None:
        super().__init__()
        self.fleet = fleet
        self.reports: dict[EngineSpec, Report] = {s: Report(s, error="asking …") for s in fleet.specs}
        self.asking: set[EngineSpec] = set()
        self.table = EngineTable(id="fleet-engines")
        self.detail = Static("", id="fleet-detail")
        self.detail_text = ""
        """The highlighted engine's status in full (a row cuts it to its column)."""
        self.found = Static("", id="fleet-found")
        self.log_view = Static("", id="fleet-log")
        self.log_text: list[str] = []
        self.polls = 0
        """Polls finished (tests wait on it)."""
        self.cleans = 0
        """Cleanups finished (every engine answered or was given up on)."""

    def action_run(self, name: str) -> None:
        commands.run(self, name)

    def compose(self) -> ComposeResult:
        yield Static(f"Fleet: {fmt.count(len(self.fleet.specs), 'engine')}", id="fleet-title",
                     classes="screen-title")  # fmt: skip
        yield self.table
        yield self.detail
        with VerticalScroll(id="fleet-below"):
            yield self.found
            yield self.log_view
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self.command_reload_fleet()

    # -- the engines' figures -----------------------------------------------------------------------------
    def listed(self) -> list[Report]:
        """The last report of every engine, in the fleet's order, one engine under two addresses marked."""
        return same_engines([self.reports[s] for s in self.fleet.specs])

    def _show(self) -> None:
        listed = self.listed()
        rows = [Row(r, r.spec in self.asking) for r in listed]
        self.table.set_items(rows)
        answered = [r for r in listed if r.counted]
        dangling = sum(r.dangling for r in answered)
        freed = sum(r.reclaimable for r in answered)
        down = sum(1 for r in listed if not r.ok and r.spec not in self.asking)
        title = (f"Engines ({len(self.fleet.specs)}): {fmt.count(dangling, 'dangling image')}, "
                 f"{fmt.size(freed)} reclaimable")  # fmt: skip
        if down > 0:
            title += f" · {down} not answering"
        self.table.set_title(title + " · r asks again")
        self._show_detail()

    @on(DataTable.RowHighlighted, "#fleet-engines")
    def _show_detail(self) -> None:
        row = self.table.current
        if row is None:
            return
        report = row.report
        if report.spec in self.asking:
            text = f"{report.label}: asking …"
        elif report.same_as is not None:
            text = f"{report.label}: the same engine as {report.same_as} (ID, host, data-root, images)"
        elif report.ok and report.info is not None:
            info = report.info
            where = "" if info.host == report.label else f" at {info.host}"
            text = f"{report.label}: {info.product} {info.version}{where}, {info.store} image store"
        else:
            text = f"{report.label}: {report.error}"
        self.detail_text = text
        self.detail.update(Text(text, style="dim" if report.ok or report.spec in self.asking else "red"))

    def command_reload_fleet(self) -> None:
        self.asking = set(self.fleet.specs)
        self._show()
        self.poll()

    @work(thread=True, exclusive=True, group="fleet", exit_on_error=False, description="Asking the engines")
    def poll(self) -> None:
        self.fleet.poll(report=lambda r: self.post_message(self.Polled(r)))
        self.post_message(self.PollDone())

    def on_fleet_screen_polled(self, message: Polled) -> None:
        report = message.report
        self.asking.discard(report.spec)
        self.reports[report.spec] = report
        self._show()

    def on_fleet_screen_poll_done(self, message: PollDone) -> None:
        self.asking.clear()
        self.polls += 1
        self._show()

    def command_close_fleet(self) -> None:
        self.dismiss(None)

    # -- finding an image -----------------------------------------------------------------------------------
    def command_find_image(self) -> None:
        def chosen(text: str | None) -> None:
            if text:
                self.show_found(text)

        hint = ("An image's name (or part of it), its ID or a digest (a prefix of 4 hex digits or more), "
                "looked up in what every engine listed at the last refresh.")  # fmt: skip
        self.app.push_screen(NameDialog("Find an image on every engine", hint, "", lambda _: None), chosen)

    def show_found(self, query: str) -> None:
        hits, unsearched = find(self.listed(), query)
        engines = {h.engine for h in hits}
        lines = [Text(f"{query!r}: {fmt.count(len(hits), 'image')} on {fmt.count(len(engines), 'engine')}",
                      style="bold")]  # fmt: skip
        for hit in hits:
            names = ", ".join(hit.image.names) or NONE
            lines.append(Text(f"{hit.engine}: {hit.image.short_id}  {fmt.size(hit.image.size)}  {names}"
                              f"  ({hit.matched})"))  # fmt: skip
        for report in unsearched:
            lines.append(Text(f"{report.label}: not searched ({report.error})", style="yellow"))
        self.found.update(Text("\n").join(lines))
        self.found_text = "\n".join(line.plain for line in lines)

    found_text: str = ""

    # -- cleaning up every engine ---------------------------------------------------------------------------
    def preview_lines(self) -> list[str | Text]:
        """The combined preview: each engine's dangling images with their bytes, what each engine frees."""
        lines: list[str | Text] = []
        for report in self.listed():
            if not report.ok or report.plan is None:
                lines.append(Text(f"{report.label}: left alone ({report.error})", style="yellow"))
                continue
            if report.same_as is not None:
                lines.append(Text(f"{report.label}: the same engine as {report.same_as}: pruned there, once"))
                continue
            plan = report.plan
            about = "about " if plan.containerd else ""
            if not plan.images:
                lines.append(Text(f"{report.label}: no dangling images to prune", style="bold"))
            else:
                head = f"{report.label}: {fmt.count(len(plan.images), 'dangling image')}, frees "
                lines.append(Text(f"{head}{about}{fmt.size(plan.freed)} ({plan.freed} bytes)", style="bold"))
            for image in plan.images:
                own = report.image_bytes(image)
                lines.append(f"  {image.short_id}  {fmt.ago(image.created):>15}  frees {own} bytes")
            for image, why in plan.skipped:
                lines.append(Text(f"  {image.short_id}  left in place: {why}", style="yellow"))
        return lines

    def command_clean_fleet(self) -> None:
        if self.asking:
            self.notify("Some engines are still answering; try again in a moment", severity="warning")
            return
        reports = self.listed()
        going = [r for r in reports if r.counted and r.plan is not None and r.plan.images]
        freed = sum(r.reclaimable for r in going)
        lines = self.preview_lines()
        choices: list[Choice[bool]] = []
        if going:
            count = sum(len(r.plan.images) for r in going if r.plan is not None)
            lines.append(Text(f"In all: {fmt.count(count, 'image')} on {fmt.count(len(going), 'engine')}, "
                              f"frees {fmt.size(freed)} ({freed} bytes). Each engine prunes only what is "
                              "listed here (if its dangling images changed, it prunes nothing).",
                              style="bold"))  # fmt: skip
            choices.append(
                Choice(("y", "enter"), f"yes, prune on {fmt.count(len(going), 'engine')}", True, True)
            )
        else:
            lines.append("Nothing to prune on any engine.")

        def chosen(answer: bool | None) -> None:
            if answer:
                self.clean(reports)
            else:
                self.add_log(OutcomeLine("info", "Cancelled: nothing pruned on any engine"))

        self.app.push_screen(
            ChoiceDialog("Prune the dangling images of every engine?", lines, choices), chosen
        )

    @work(
        thread=True, exclusive=True, group="action", exit_on_error=False, description="Pruning every engine"
    )
    def clean(self, reports: list[Report]) -> None:
        self.fleet.clean(reports, report=lambda a: self.post_message(self.Cleaned(a)))
        self.post_message(self.CleanDone())

    def on_fleet_screen_cleaned(self, message: Cleaned) -> None:
        self.add_log(message.applied.log_line())

    def on_fleet_screen_clean_done(self, message: CleanDone) -> None:
        self.cleans += 1
        self.command_reload_fleet()

    def add_log(self, line: OutcomeLine) -> None:
        self.log_text = [*self.log_text, line.text][-LOG_LINES:]
        self.log_view.update(Text("\n".join(self.log_text)))
        self.app.post_message(Outcome([line]))
