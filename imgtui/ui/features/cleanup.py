"""Cleaning up by a policy (`C`): the policy form, a preview of the whole plan (what goes and why, the bytes
it frees, what is skipped and why), `y` applies it with one log line per engine answer. Also keeps the
last-used times: the engine's container and image events, while imgtui runs, written to the state folder a
little after each burst (imgtui/cleanup/state.py) and when the app closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rich.text import Text
from textual import work
from textual.message import Message

from imgtui.cleanup import Plan, Policy, UsageLog, plan_for, run_plan, used_ref
from imgtui.engine import EngineError, EngineEvent, OutcomeLine, PlanChanged
from imgtui.ui import format as fmt
from imgtui.ui.coalesce import Coalesced
from imgtui.ui.features import Feature
from imgtui.ui.messages import DiskUsageRead, Outcome

SAVE_DELAY = 2.0
"""Seconds after a use is seen before the last-used file is written (once for a burst of events)."""


class Answer(str, Enum):
    APPLY = "apply"
    EDIT = "edit"


def plan_lines(plan: Plan) -> list[str | Text]:
    """The preview, as the dialog shows it: the totals first (seen at once at 80x24), then each image."""
    about = "about " if plan.about else ""
    lines: list[str | Text] = [
        Text(f"Policy: {plan.policy.describe()}", style="dim"),
        Text(plan.summary(), style="bold"),
    ]
    for item in plan.items:
        verb = "delete" if item.deletes else "untag"
        frees = f"frees {about}{fmt.size(item.freed)}" if item.deletes else "frees nothing"
        lines.append(Text(f"{verb} {item.image.short_id}  {item.label}  ({frees})", style="bold"))
        lines += [f"  {reason}" for reason in item.reasons]
        if not any(item.last_used in reason for reason in item.reasons):
            lines.append(f"  {item.last_used}")
    for skip in plan.skipped:
        names = ", ".join(skip.names) or "<none>"
        lines.append(Text(f"skip {skip.image.short_id}  {names}: {skip.why}", style="yellow"))
    protected = [k for k in plan.kept if k.why.startswith("protected")]
    for kept in plan.kept:
        if kept not in protected:
            lines.append(Text(f"keep {kept.name}: {kept.why}", style="dim"))
    if protected:
        lines.append(Text(f"{fmt.count(len(protected), 'name')} protected", style="dim"))
    return lines


class Cleanup(Feature):
    """C: clean up by a policy; and the last-used times."""

    @dataclass
    class Planned(Message):
        plan: Plan
        banner: str | None = None

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.policy = Policy()
        """The policy last previewed (the form starts from it); the default: dangling images only."""
        self.usage: UsageLog | None = None
        self._unresolved: list[tuple[str, float]] = []
        self._save = Coalesced(self, lambda: SAVE_DELAY, self._flush_usage)
        self._save_failed = False

    def on_mount(self) -> None:
        self.usage = UsageLog(self.view.engine.info.host)

    def on_unmount(self) -> None:
        self._save.cancel()
        if self.usage is not None and (self.usage.pending or self._unresolved):
            try:
                self.usage.save()  # a few hundred bytes, as the app closes
            except OSError:
                pass

    # -- last used ------------------------------------------------------------------------------------
    def event_seen(self, event: EngineEvent) -> None:
        """An engine event: if it says an image was used, remember when."""
        ref = used_ref(event.type, event.action, event.actor_id, event.attributes)
        if ref is None or self.usage is None:
            return
        image_id = self.view.catalog.resolve(ref)
        if image_id is not None:
            self.usage.note(image_id, event.time)
        else:
            self._unresolved.append((ref, event.time))  # a pull or load not listed yet: asked in the worker
        self._save.request()

    def _flush_usage(self) -> None:
        refs, self._unresolved = self._unresolved, []  # here, in the thread that adds to it
        self.save_usage(refs)

    @work(thread=True, group="usage", exit_on_error=False, description="Keeping last-used times")
    def save_usage(self, refs: list[tuple[str, float]]) -> None:
        usage = self.usage
        if usage is None:
            return
        for ref, when in refs:
            try:
                image = self.view.engine.inspect_image(ref)
            except EngineError:
                continue  # the engine went away (the status line says so): that use is lost, nothing else
            if image is not None:
                usage.note(image.id, when)
        try:
            usage.save()
        except OSError as exc:
            if not self._save_failed:
                self._save_failed = True
                said = f"Could not keep last-used times in {usage.path}: {exc.strerror or exc}"
                self.post_message(Outcome([OutcomeLine("error", said)]))

    # -- C ------------------------------------------------------------------------------------------------
    def command_cleanup(self) -> None:
        """Ask for the policy, then preview its plan."""

        from imgtui.ui.dialogs.policy import PolicyDialog  # imported when first used

        def chosen(policy: Policy | None) -> None:
            if policy is not None:
                self.policy = policy
                self.plan_cleanup(policy)

        self.app.push_screen(PolicyDialog(self.policy), chosen)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, description="Planning the cleanup")
    def plan_cleanup(self, policy: Policy, banner: str | None = None) -> None:
        uses = self.usage.load() if self.usage is not None else {}
        self.post_message(self.Planned(plan_for(self.view.engine, policy, uses), banner))

    def on_cleanup_planned(self, message: Planned) -> None:
        from imgtui.ui.dialogs.choice import Choice, ChoiceDialog  # imported when first used

        plan = message.plan
        choices: list[Choice[Answer]] = []
        if plan.items:
            choices.append(Choice(("y", "enter"), "yes, apply this plan", Answer.APPLY, danger=True))
        choices.append(Choice(("e",), "edit the policy", Answer.EDIT))

        def chosen(answer: Answer | None) -> None:
            if answer is Answer.APPLY:
                self.run_cleanup(plan)
            elif answer is Answer.EDIT:
                self.command_cleanup()
            else:
                self.view.log_lines(OutcomeLine("info", "Cancelled: nothing removed (cleanup)"))

        title = "Clean up?" if plan.items else "Nothing to clean up"
        dialog = ChoiceDialog(title, plan_lines(plan), choices, banner=message.banner, id="cleanup-plan")
        self.app.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Cleaning up")
    def run_cleanup(self, plan: Plan) -> None:
        post, view = self.post_message, self.view
        post(Outcome([OutcomeLine("action", f"clean: {plan.policy.describe()}")]))
        before = view.engine.disk_usage()
        failed = 0
        try:
            for line in run_plan(view.engine, plan):
                failed += line.kind == "error"
                post(Outcome([line]))
        except PlanChanged as changed:
            post(Outcome([OutcomeLine("error", f"Cleanup called off: {changed}")]))
            if isinstance(changed.plan, Plan):
                post(self.Planned(changed.plan, f"{changed}. The new plan:"))
            return
        finally:
            view.reread_images([i.image.id for i in plan.items])
        after = view.engine.disk_usage()
        post(DiskUsageRead(after))
        freed = max(before - after, 0)
        said = f"the plan said {'about ' if plan.about else ''}{plan.freed} bytes"
        tail = f"; {failed} failed" if failed else ""
        text = f"Reclaimed {fmt.size(freed)} ({freed} bytes); {said}{tail}"
        post(Outcome([OutcomeLine("reclaimed", text)]))
