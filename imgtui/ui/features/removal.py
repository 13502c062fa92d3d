"""Cleaning up: remove or untag (`d`), marks for a bulk removal (`space`), prune (`D`).

Each one: a thread worker reads what the action will do, a dialog says it, and only a confirmed answer runs,
in another worker that posts the engine's answers line by line to the outcome log.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rich.text import Text
from textual import work
from textual.message import Message

from imgtui.engine import NONE, OutcomeLine, PlanChanged, PrunePlan, RemovalPlan, Tag
from imgtui.ui import format as fmt
from imgtui.ui.features import Feature
from imgtui.ui.messages import DiskUsageRead, ImagesChanged, Outcome
from imgtui.ui.widgets.tables import ItemTable


class Answer(str, Enum):
    """What the removal, bulk and prune dialogs can answer (besides cancel)."""

    REMOVE = "remove"
    STOP_AND_REMOVE = "stop_and_remove"
    FORCE = "force"
    OTHER_MODE = "mode"
    PRUNE = "prune"
    PRUNE_ALL = "all"
    PRUNE_DANGLING = "dangling"


def size_line(plan: RemovalPlan) -> str:
    line = (
        f"Size {fmt.size(plan.unique_size + plan.shared_size)}: {fmt.size(plan.unique_size)} only this image "
        f"has, {fmt.size(plan.shared_size)} shared with other images"
    )
    if plan.containerd:
        line += " (about: the containerd image store keeps each layer unpacked and compressed)"
    return line


class Removal(Feature):
    """d, space, D."""

    @dataclass
    class Planned(Message):
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

    # -- d ------------------------------------------------------------------------------------------------
    def command_remove(self) -> None:
        """Remove the selected tag (or the marked rows, or every tag of the selected repository)."""
        view = self.view
        view.sync_panes()
        repos = view.repos
        focused = self.screen.focused
        marked = view.marked_tags()
        if marked:
            self._plan_bulk(marked)
            return
        if focused is repos and repos.current is not None and len(repos.current.tags) > 1:
            self._plan_bulk(list(repos.current.tags))
            return
        tag = view.selected_tag()
        if tag is not None:
            self.plan_removal(tag.ref, tag.image.id, "tag")

    def command_mark(self) -> None:
        """Mark the row for a bulk removal."""
        focused = self.screen.focused
        if isinstance(focused, ItemTable) and focused.MARKABLE:
            focused.action_toggle_mark()

    @work(
        thread=True, exclusive=True, group="plan", exit_on_error=False, description="Previewing the removal"
    )
    def plan_removal(self, target: str, image_id: str, mode: str, banner: str | None = None) -> None:
        plan = self.view.engine.plan_removal(target, image_id, "image" if mode == "image" else "tag")
        self.post_message(self.Planned(plan, banner))

    def on_removal_planned(self, message: Planned) -> None:
        from imgtui.ui.dialogs.choice import Choice, ChoiceDialog  # imported when first used

        plan = message.plan
        lines: list[str | Text] = [*plan.summary(), size_line(plan)]
        choices: list[Choice[Answer]] = []
        if not plan.blocked:
            verb = "delete" if plan.deletes else "untag"
            choices.append(Choice(("y", "enter"), f"yes, {verb}", Answer.REMOVE, danger=plan.deletes))
        if plan.mode == "tag" and len(plan.image.names) > 1:
            label = f"instead remove the image with all {len(plan.image.names)} names"
            choices.append(Choice(("a",), label, Answer.OTHER_MODE))
        elif plan.mode == "image" and plan.target in plan.image.names:
            choices.append(Choice(("t",), f"instead untag only {plan.target}", Answer.OTHER_MODE))
        if plan.blocked:
            names = ", ".join(c.name for c in plan.containers)
            label = f"stop and remove {names}, then remove"
            choices.append(Choice(("s",), label, Answer.STOP_AND_REMOVE, True))
            if plan.force_allowed:
                choices.append(Choice(("f",), "force", Answer.FORCE, True))
            lines.append(Text(plan.force_outcome(), style="yellow"))
        title = "Remove the image with all its names?" if plan.mode == "image" else f"Remove {plan.target}?"
        if plan.target == plan.image.id:
            title = f"Remove dangling image {plan.image.short_id}?"

        def chosen(answer: Answer | None) -> None:
            if answer is None:
                self.view.log_lines(OutcomeLine("info", f"Cancelled: nothing removed ({plan.target})"))
            elif answer is Answer.OTHER_MODE:
                self.plan_removal(plan.target, plan.image.id, "tag" if plan.mode == "image" else "image")
            else:
                self.run_removal(plan, answer)

        dialog = ChoiceDialog(title, lines, choices, banner=message.banner)
        self.app.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Removing")
    def run_removal(self, plan: RemovalPlan, answer: Answer) -> None:
        post, engine = self.post_message, self.view.engine
        try:
            # The first line is the command, once the engine's state is checked against the preview.
            for line in engine.remove(plan, answer.value):  # type: ignore[arg-type]
                post(Outcome([line]))
        except PlanChanged as changed:
            post(Outcome([OutcomeLine("error", f"Called off {plan.target}: {changed}")]))
            if isinstance(changed.plan, RemovalPlan):
                post(self.Planned(changed.plan, f"{changed}. The new preview:"))
            return
        finally:
            post(ImagesChanged([(plan.image.id, engine.inspect_image(plan.image.id))]))
        after = engine.disk_usage()
        freed = max(plan.disk_before - after, 0)
        post(DiskUsageRead(after))
        post(Outcome([OutcomeLine("reclaimed", f"Reclaimed {fmt.size(freed)} ({freed} bytes) of disk")]))

    # -- marks: bulk ------------------------------------------------------------------------------------
    def _plan_bulk(self, tags: list[Tag]) -> None:
        self.plan_bulk([(t.ref, t.image.id) for t in tags])

    @work(
        thread=True, exclusive=True, group="plan", exit_on_error=False, description="Previewing the removal"
    )
    def plan_bulk(self, pairs: list[tuple[str, str]]) -> None:
        self.post_message(self.BulkPlanned(pairs, self.view.engine.plan_bulk(pairs)))

    def on_removal_bulk_planned(self, message: BulkPlanned) -> None:
        from imgtui.ui.dialogs.choice import Choice, ChoiceDialog  # imported when first used

        def chosen(answer: Answer | None) -> None:
            if answer is None:
                note = f"Cancelled: nothing removed ({fmt.count(len(message.pairs), 'name')} kept)"
                self.view.log_lines(OutcomeLine("info", note))
            else:
                self.run_bulk(message.pairs)

        title = f"Remove {fmt.count(len(message.pairs), 'name')}?"
        choices = [Choice(("y", "enter"), "yes, remove them in this order", Answer.REMOVE, True)]
        self.app.push_screen(ChoiceDialog(title, message.lines, choices), chosen)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Removing")
    def run_bulk(self, pairs: list[tuple[str, str]]) -> None:
        post, view = self.post_message, self.view
        before = view.engine.disk_usage()
        post(Outcome([OutcomeLine("action", f"rmi of {fmt.count(len(pairs), 'name')}")]))
        errors = 0
        for line in view.engine.remove_each(pairs):
            errors += line.kind == "error"
            post(Outcome([line]))
        view.reread_images(sorted({image_id for _, image_id in pairs}))
        self.app.call_from_thread(self._clear_marks)
        after = view.engine.disk_usage()
        post(DiskUsageRead(after))
        tail = f"; {errors} failed" if errors else ""
        freed = max(before - after, 0)
        post(Outcome([OutcomeLine("reclaimed", f"Reclaimed {fmt.size(freed)} ({freed} bytes){tail}")]))

    def _clear_marks(self) -> None:
        self.view.repos.clear_marks()
        self.view.tags.clear_marks()

    # -- D: prune -------------------------------------------------------------------------------------------
    def command_prune(self) -> None:
        """Preview pruning dangling images (and offer every unused image)."""
        self.plan_prune(False)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, description="Previewing the prune")
    def plan_prune(self, all_unused: bool, banner: str | None = None) -> None:
        self.post_message(self.PrunePlanned(self.view.engine.plan_prune(all_unused), banner))

    def on_removal_prune_planned(self, message: PrunePlanned) -> None:
        from imgtui.ui.dialogs.choice import Choice, ChoiceDialog  # imported when first used

        plan = message.plan
        what = "every image no container uses (prune -a)" if plan.all_unused else "dangling images"
        lines: list[str | Text] = []
        for image in plan.images:
            names = ", ".join(image.names) or NONE
            lines.append(
                f"{image.short_id}  {fmt.size(image.size):>8}  {fmt.ago(image.created):>15}  {names}"
                f"  (frees {fmt.size(plan.unique.get(image.id, 0))})"
            )
        for image, why in plan.skipped:
            names = ", ".join(image.names) or NONE
            lines.append(Text(f"{image.short_id}  left in place: {why}  ({names})", style="yellow"))
        if not plan.images:
            lines.append(f"No {what} to prune." if plan.skipped else f"No {what}: nothing to prune.")
        else:
            lines.append(
                Text(
                    f"{fmt.count(len(plan.images), 'image')}, frees {fmt.size(plan.freed)} "
                    f"({plan.freed} bytes)"
                )  # fmt: skip
            )
        choices: list[Choice[Answer]] = []
        if plan.images:
            these = "it" if len(plan.images) == 1 else f"these {len(plan.images)}"
            choices.append(Choice(("y", "enter"), f"yes, prune {these}", Answer.PRUNE, True))
        if plan.all_unused:
            choices.append(Choice(("g",), "back to dangling images only", Answer.PRUNE_DANGLING))
        else:
            label = "bigger hammer: every unused image, tagged ones too"
            choices.append(Choice(("a",), label, Answer.PRUNE_ALL, True))

        def chosen(answer: Answer | None) -> None:
            if answer is Answer.PRUNE:
                self.run_prune(plan)
            elif answer in (Answer.PRUNE_ALL, Answer.PRUNE_DANGLING):
                self.plan_prune(answer is Answer.PRUNE_ALL)
            else:
                self.view.log_lines(OutcomeLine("info", "Cancelled: nothing pruned"))

        dialog = ChoiceDialog(f"Prune {what}?", lines, choices, banner=message.banner)
        self.app.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Pruning")
    def run_prune(self, plan: PrunePlan) -> None:
        post, view = self.post_message, self.view
        post(Outcome([OutcomeLine("action", "image prune" + (" -a" if plan.all_unused else ""))]))
        try:
            lines, reclaimed = view.engine.prune(plan)
        except PlanChanged as changed:
            post(Outcome([OutcomeLine("error", str(changed))]))
            if isinstance(changed.plan, PrunePlan):
                post(self.PrunePlanned(changed.plan, f"{changed}. The new preview:"))
            return
        post(Outcome(lines))
        view.reread_images([i.id for i in plan.images])
        post(DiskUsageRead(view.engine.disk_usage()))
        said = f"SpaceReclaimed: {reclaimed} bytes ({fmt.size(reclaimed)})"
        if plan.containerd:
            said += (
                ", as the containerd image store counts it: the manifests and configs it deleted, not the "
                f"layers; the preview's estimate of the disk freed was {plan.freed} bytes"
            )
        elif plan.podman:
            said += (
                ", as Podman counts it: the pruned images' whole sizes, layers other images still use "
                f"included; the preview said {plan.freed} bytes (the layers only they had)"
            )
        else:
            said += f"; the preview said {plan.freed} bytes"
        post(Outcome([OutcomeLine("reclaimed", said)]))
