"""The App's image actions: remove/untag (`d`), prune (`D`), tag (`t`), inspect (`i`), containers (`c`).

Each one: a thread worker reads what the action will do, a dialog says it, and only a confirmed answer
runs, in another worker that posts the engine's answers line by line to the outcome log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import App
from textual.message import Message

from imgtui.engine import (
    NONE,
    Engine,
    OutcomeLine,
    PlanChanged,
    PrunePlan,
    RemovalPlan,
    Tag,
)
from imgtui.engine.reference import FORMAT, problem
from imgtui.ui import format as fmt
from imgtui.ui.dialogs.choice import Choice, ChoiceDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.messages import DiskUsageRead, ImagesChanged, ImagesLoaded, Outcome
from imgtui.ui.screens.containers import ContainersScreen
from imgtui.ui.screens.inspect import InspectScreen
from imgtui.ui.widgets.outcome import OutcomeLog

RELIST_OVER = 50
"""More images touched than this at once: one list request beats an inspect each."""

if TYPE_CHECKING:
    from imgtui.ui.widgets.tables import ItemTable, RepositoryTable, TagTable


@dataclass
class RemovalPlanned(Message):
    plan: RemovalPlan
    banner: str | None = None


@dataclass
class BulkPlanned(Message):
    pairs: list[tuple[str, str]]
    lines: list[str]


@dataclass
class PrunePlanned(Message):
    plan: PrunePlan
    banner: str | None = None


@dataclass
class InspectLoaded(Message):
    title: str
    data: dict[str, Any]


def _size_line(plan: RemovalPlan) -> str:
    line = (
        f"Size {fmt.size(plan.unique_size + plan.shared_size)}: {fmt.size(plan.unique_size)} only this image "
        f"has, {fmt.size(plan.shared_size)} shared with other images"
    )
    if plan.containerd:
        line += " (about: the containerd image store keeps each layer unpacked and compressed)"
    return line


class ImageActions(App[None]):
    """The App's actions on images; the App proper (ui/app.py) builds the panes and the outcome log."""

    engine: Engine
    repos: RepositoryTable
    tags: TagTable
    outcome: OutcomeLog

    # -- the outcome log ------------------------------------------------------------------------------
    def log_lines(self, *lines: OutcomeLine) -> None:
        self.outcome.add_class("shown")
        for line in lines:
            self.outcome.add(line)

    def on_outcome(self, message: Outcome) -> None:
        self.log_lines(*message.lines)

    def action_toggle_log(self) -> None:
        """Show or hide the outcome log."""
        self.outcome.toggle_class("shown")

    def sync_panes(self) -> None:
        """Bring the tags pane up to the repositories cursor (keys typed ahead can outrun its messages)."""
        raise NotImplementedError

    def _selected_tag(self) -> Tag | None:
        self.sync_panes()
        tag = self.tags.current
        if tag is None:
            self.notify("Select a tag first", severity="warning")
        return tag

    # -- d: remove / untag -------------------------------------------------------------------------------
    def action_remove(self) -> None:
        """Remove the selected tag (or the marked rows, or every tag of the selected repository)."""
        self.sync_panes()
        focused = self.focused
        table: ItemTable[Any] = self.repos if focused is self.repos else self.tags
        if table.marked:
            tags = self._tags_of(table.marked_items())
            self._plan_bulk(tags)
            return
        if focused is self.repos and self.repos.current is not None and len(self.repos.current.tags) > 1:
            self._plan_bulk(list(self.repos.current.tags))
            return
        tag = self._selected_tag()
        if tag is not None:
            self.plan_removal(tag.ref, tag.image.id, "tag")

    @staticmethod
    def _tags_of(items: list[Any]) -> list[Tag]:
        tags: list[Tag] = []
        for item in items:
            tags.extend(item.tags if hasattr(item, "tags") else [item])
        return tags

    @work(
        thread=True, exclusive=True, group="plan", exit_on_error=False, description="Previewing the removal"
    )
    def plan_removal(self, target: str, image_id: str, mode: str, banner: str | None = None) -> None:
        plan = self.engine.plan_removal(target, image_id, "image" if mode == "image" else "tag")
        self.post_message(RemovalPlanned(plan, banner))

    def on_removal_planned(self, message: RemovalPlanned) -> None:
        plan = message.plan
        lines: list[str | Text] = [*plan.summary(), _size_line(plan)]
        choices: list[Choice[str]] = []
        if not plan.blocked:
            verb = "delete" if plan.deletes else "untag"
            choices.append(Choice(("y", "enter"), f"yes, {verb}", "remove", danger=plan.deletes))
        if plan.mode == "tag" and len(plan.image.names) > 1:
            choices.append(
                Choice(("a",), f"instead remove the image with all {len(plan.image.names)} names", "mode")
            )
        elif plan.mode == "image" and plan.target in plan.image.names:
            choices.append(Choice(("t",), f"instead untag only {plan.target}", "mode"))
        if plan.blocked:
            names = ", ".join(c.name for c in plan.containers)
            choices.append(Choice(("s",), f"stop and remove {names}, then remove", "stop_and_remove", True))
            if plan.force_allowed:
                choices.append(Choice(("f",), "force", "force", True))
            lines.append(Text(plan.force_outcome(), style="yellow"))
        title = "Remove the image with all its names?" if plan.mode == "image" else f"Remove {plan.target}?"
        if plan.target == plan.image.id:
            title = f"Remove dangling image {plan.image.short_id}?"

        def chosen(value: str | None) -> None:
            if value is None:
                self.log_lines(OutcomeLine("info", f"Cancelled: nothing removed ({plan.target})"))
            elif value == "mode":
                self.plan_removal(plan.target, plan.image.id, "tag" if plan.mode == "image" else "image")
            else:
                self.run_removal(plan, value)

        dialog = ChoiceDialog(title, lines, choices, banner=message.banner, id="remove-dialog")
        self.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Removing")
    def run_removal(self, plan: RemovalPlan, action: str) -> None:
        post = self.post_message
        post(Outcome([OutcomeLine("action", f"rmi {'-f ' if action == 'force' else ''}{plan.target}")]))
        try:
            for line in self.engine.remove(plan, action):  # type: ignore[arg-type]
                post(Outcome([line]))
        except PlanChanged as changed:
            post(Outcome([OutcomeLine("error", str(changed))]))
            if changed.plan is not None:
                post(RemovalPlanned(changed.plan, f"{changed}. The new preview:"))  # type: ignore[arg-type]
            return
        finally:
            post(ImagesChanged([(plan.image.id, self.engine.inspect_image(plan.image.id))]))
        after = self.engine.disk_usage()
        freed = max(plan.disk_before - after, 0)
        post(DiskUsageRead(after))
        post(Outcome([OutcomeLine("reclaimed", f"Reclaimed {fmt.size(freed)} ({freed} bytes) of disk")]))

    # -- bulk ---------------------------------------------------------------------------------------------
    def _plan_bulk(self, tags: list[Tag]) -> None:
        pairs = [(t.ref, t.image.id) for t in tags]
        self.plan_bulk(pairs)

    @work(
        thread=True, exclusive=True, group="plan", exit_on_error=False, description="Previewing the removal"
    )
    def plan_bulk(self, pairs: list[tuple[str, str]]) -> None:
        self.post_message(BulkPlanned(pairs, self.engine.plan_bulk(pairs)))

    def on_bulk_planned(self, message: BulkPlanned) -> None:
        def chosen(value: str | None) -> None:
            if value is None:
                self.log_lines(
                    OutcomeLine("info", f"Cancelled: nothing removed ({len(message.pairs)} marked)")
                )
            else:
                self.run_bulk(message.pairs)

        title = f"Remove {len(message.pairs)} names?"
        choices = [Choice(("y", "enter"), "yes, remove them in this order", "remove", True)]
        dialog = ChoiceDialog(title, message.lines, choices, id="bulk-dialog")
        self.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Removing")
    def run_bulk(self, pairs: list[tuple[str, str]]) -> None:
        post = self.post_message
        before = self.engine.disk_usage()
        post(Outcome([OutcomeLine("action", f"rmi of {len(pairs)} names")]))
        errors = 0
        for line in self.engine.remove_each(pairs):
            errors += line.kind == "error"
            post(Outcome([line]))
        self.reread_images(sorted({image_id for _, image_id in pairs}))
        self.call_from_thread(self._clear_marks)
        after = self.engine.disk_usage()
        post(DiskUsageRead(after))
        tail = f"; {errors} failed" if errors else ""
        freed = max(before - after, 0)
        post(Outcome([OutcomeLine("reclaimed", f"Reclaimed {fmt.size(freed)} ({freed} bytes){tail}")]))

    def reread_images(self, refs: list[str]) -> None:
        """(In a worker) the engine's current view of these images, for the panes: an inspect each for a
        few, one list request for many. Used after events and after the app's own actions."""
        if len(refs) > RELIST_OVER:
            self.post_message(ImagesLoaded(self.engine.catalog()))
        else:
            self.post_message(ImagesChanged([(ref, self.engine.inspect_image(ref)) for ref in refs]))

    def _clear_marks(self) -> None:
        self.repos.clear_marks()
        self.tags.clear_marks()

    # -- D: prune -----------------------------------------------------------------------------------------
    def action_prune(self) -> None:
        """Preview pruning dangling images (and offer every unused image)."""
        self.plan_prune(False)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, description="Previewing the prune")
    def plan_prune(self, all_unused: bool, banner: str | None = None) -> None:
        self.post_message(PrunePlanned(self.engine.plan_prune(all_unused), banner))

    def on_prune_planned(self, message: PrunePlanned) -> None:
        plan = message.plan
        what = "every image no container uses (prune -a)" if plan.all_unused else "dangling images"
        lines: list[str | Text] = []
        for image in plan.images:
            names = ", ".join(image.names) or NONE
            lines.append(
                f"{image.short_id}  {fmt.size(image.size):>8}  {fmt.ago(image.created):>15}  {names}"
                f"  (frees {fmt.size(plan.unique.get(image.id, 0))})"
            )
        if not plan.images:
            lines.append(f"No {what}: nothing to prune.")
        else:
            lines.append(
                Text(f"{len(plan.images)} images, frees {fmt.size(plan.freed)} ({plan.freed} bytes)")
            )
        choices: list[Choice[str]] = []
        if plan.images:
            choices.append(Choice(("y", "enter"), f"yes, prune these {len(plan.images)}", "prune", True))
        if plan.all_unused:
            choices.append(Choice(("g",), "back to dangling images only", "dangling"))
        else:
            choices.append(Choice(("a",), "bigger hammer: every unused image, tagged ones too", "all", True))

        def chosen(value: str | None) -> None:
            if value == "prune":
                self.run_prune(plan)
            elif value in ("all", "dangling"):
                self.plan_prune(value == "all")
            else:
                self.log_lines(OutcomeLine("info", "Cancelled: nothing pruned"))

        dialog = ChoiceDialog(f"Prune {what}?", lines, choices, banner=message.banner, id="prune-dialog")
        self.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Pruning")
    def run_prune(self, plan: PrunePlan) -> None:
        post = self.post_message
        post(Outcome([OutcomeLine("action", "image prune" + (" -a" if plan.all_unused else ""))]))
        try:
            lines, reclaimed = self.engine.prune(plan)
        except PlanChanged as changed:
            post(Outcome([OutcomeLine("error", str(changed))]))
            if isinstance(changed.plan, PrunePlan):
                post(PrunePlanned(changed.plan, f"{changed}. The new preview:"))
            return
        post(Outcome(lines))
        self.reread_images([i.id for i in plan.images])
        post(DiskUsageRead(self.engine.disk_usage()))
        said = f"SpaceReclaimed: {reclaimed} bytes ({fmt.size(reclaimed)})"
        if plan.containerd:
            said += (
                ", as the containerd image store counts it: the manifests and configs it deleted, not the "
                f"layers; the preview's estimate of the disk freed was {plan.freed} bytes"
            )
        else:
            said += f"; the preview said {plan.freed} bytes"
        post(Outcome([OutcomeLine("reclaimed", said)]))

    # -- t: tag -------------------------------------------------------------------------------------------
    def action_tag(self) -> None:
        """Give the selected image another name."""
        tag = self._selected_tag()
        if tag is None:
            return

        def chosen(name: str | None) -> None:
            if name:
                self.run_tag(tag.image.id, name)

        start = tag.ref if tag.repository != NONE else ""
        hint = f"New name for {tag.image.short_id}: {FORMAT} (no tag means latest)"
        self.push_screen(NameDialog(f"Tag {tag.image.short_id}", hint, start, problem), chosen)

    @work(thread=True, group="action", exit_on_error=False, description="Tagging")
    def run_tag(self, image_id: str, name: str) -> None:
        full = self.engine.tag(image_id, name)
        self.post_message(Outcome([OutcomeLine("tagged", f"Tagged {image_id[7:19]} as {full}")]))
        self.post_message(ImagesChanged([(image_id, self.engine.inspect_image(image_id))]))

    # -- i: inspect ---------------------------------------------------------------------------------------
    def action_inspect(self) -> None:
        """docker inspect of the selected image, as a tree."""
        tag = self._selected_tag()
        if tag is not None:
            self.load_inspect(tag.ref if tag.repository != NONE else tag.image.id, tag.image.id)

    @work(thread=True, exclusive=True, group="inspect-one", exit_on_error=False, description="Inspecting")
    def load_inspect(self, title: str, image_id: str) -> None:
        self.post_message(InspectLoaded(title, self.engine.inspect_raw(image_id)))

    def on_inspect_loaded(self, message: InspectLoaded) -> None:
        self.push_screen(InspectScreen(message.title, message.data))

    # -- c: containers ------------------------------------------------------------------------------------
    def action_containers(self) -> None:
        """Containers: all of them, or those of the selected image when the tags or layers pane has focus."""
        focused = self.focused
        tag = self.tags.current if focused is not self.repos else None
        if tag is not None:
            screen = ContainersScreen(
                self.engine, tag.image.id, tag.ref if tag.repository != NONE else tag.image.short_id
            )
        else:
            screen = ContainersScreen(self.engine)
        self.push_screen(screen, self.select_image)

    def select_image(self, image_id: str | None) -> None:
        raise NotImplementedError
