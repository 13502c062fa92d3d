"""The registry view's retention commands (a part of RegistryScreen, kept apart to keep that file readable):
`T` deletes only the selected tag (the other tags on its digest stay; imgtui/registry/retention.py says
how), `K` applies a retention policy to the open repository. Each shows a preview first, `y` applies it in
a thread worker, and every registry answer becomes one line of the outcome log."""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from imgtui.engine import OutcomeLine
from imgtui.registry import RegistryError
from imgtui.registry.retention import (
    RetentionChanged,
    RetentionPlan,
    RetentionPolicy,
    Step,
    UntagChanged,
    UntagPlan,
    apply_retention,
    execute_untag,
    plan_retention,
    plan_untag,
)
from imgtui.ui import format as fmt
from imgtui.ui.dialogs.choice import Choice, ChoiceDialog
from imgtui.ui.dialogs.retention import RetentionDialog
from imgtui.ui.messages import Outcome

if TYPE_CHECKING:
    from textual.screen import Screen

    from imgtui.registry import Registry, RemoteTag
    from imgtui.ui.widgets.remote_tables import RemoteTagTable

    Base = Screen[None]
else:
    Base = object


class Answer(str, Enum):
    APPLY = "apply"
    EDIT = "edit"


class RetentionCommands(Base):
    """Mixed into RegistryScreen: needs its registry, its tags pane, `_status` and `_reload_tags`."""

    if TYPE_CHECKING:
        registry: Registry
        tags: RemoteTagTable
        tags_for: str | None

        def _status(self, note: str | None = None) -> None: ...
        def _reload_tags(self) -> None: ...

    retention_policy: RetentionPolicy | None = None
    """The policy last previewed (the form starts from it)."""

    # -- T: delete only this tag ------------------------------------------------------------------------
    def command_only_tag(self) -> None:
        row: RemoteTag | None = self.tags.current
        if row is None or not row.loaded:
            self.notify("Wait for the tag's details, or pick a tag", severity="warning")
            return
        if row.parent:
            self.notify(
                f"This is one platform of the index {row.parent}: a platform has no tag of its own",
                severity="warning",
            )
            return
        self.untag(row.repository, row.tag)

    def untag(self, repository: str, tag: str) -> None:
        self._status(f"finding the other tags of {repository} on the digest of {tag} …")
        self.prepare_untag(repository, tag)

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False, description="Delete tag")
    def prepare_untag(self, repository: str, tag: str) -> None:
        plan = plan_untag(self.registry, repository, tag)
        self.app.call_from_thread(self._confirm_untag, plan, None)

    def _confirm_untag(self, plan: UntagPlan, banner: str | None) -> None:
        self._status()

        def chosen(go: bool | None) -> None:
            if go:
                self._status(f"deleting only {plan.repository}:{plan.tag} …")
                self.run_untag(plan)

        self.app.push_screen(
            ChoiceDialog(
                f"Delete only the tag {self.registry.host}/{plan.repository}:{plan.tag}?",
                plan.lines(),
                [Choice(("y",), "delete only this tag", True, danger=True), Choice(("n",), "keep", False)],
                banner=banner,
                id="untag-plan",
            ),
            chosen,
        )

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False, description="Delete tag")
    def run_untag(self, plan: UntagPlan) -> None:
        what = f"delete only {self.registry.host}/{plan.repository}:{plan.tag}"
        try:
            self._log_steps(what, execute_untag(self.registry, plan))
        except UntagChanged as changed:
            self.app.call_from_thread(self._confirm_untag, changed.plan, f"{changed}. The new preview:")
            return
        self.app.call_from_thread(
            self.notify, f"Tag {plan.tag} deleted; {', '.join(plan.stay) or 'its manifest'} stays", timeout=8
        )
        self.app.call_from_thread(self._reload_tags)

    # -- K: retention policy ----------------------------------------------------------------------------
    def command_retention(self) -> None:
        repository = self.tags_for
        if repository is None:
            self.notify("Open a repository first (enter on it)", severity="warning")
            return

        def chosen(policy: RetentionPolicy | None) -> None:
            if policy is not None:
                self.retention_policy = policy
                self._status(f"reading the tags of {repository} and their created times …")
                self.plan_retention(repository, policy)

        self.app.push_screen(RetentionDialog(repository, self.retention_policy), chosen)

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False, description="Retention")
    def plan_retention(self, repository: str, policy: RetentionPolicy) -> None:
        plan = plan_retention(self.registry, repository, policy)
        self.app.call_from_thread(self._confirm_retention, plan, None)

    def _confirm_retention(self, plan: RetentionPlan, banner: str | None) -> None:
        self._status()
        choices: list[Choice[Answer]] = []
        if plan.doomed:
            choices.append(Choice(("y",), "yes, apply this plan", Answer.APPLY, danger=True))
        choices.append(Choice(("e",), "edit the policy", Answer.EDIT))

        def chosen(answer: Answer | None) -> None:
            if answer is Answer.APPLY:
                self._status(f"applying the retention plan to {plan.repository} …")
                self.run_retention(plan)
            elif answer is Answer.EDIT:
                self.command_retention()

        lines: list[str | Text] = [Text(plan.lines()[0], style="dim"), Text(plan.lines()[1], style="bold")]
        for line in plan.lines()[2:]:
            style = "bold" if line.startswith("delete") else "dim" if line.startswith("keep") else ""
            lines.append(Text(line, style=style))
        title = f"Apply retention to {self.registry.host}/{plan.repository}?" if plan.doomed else (
            "Nothing to delete")  # fmt: skip
        self.app.push_screen(ChoiceDialog(title, lines, choices, banner=banner, id="retention-plan"), chosen)

    @work(thread=True, exclusive=True, group="registry-action", exit_on_error=False, description="Retention")
    def run_retention(self, plan: RetentionPlan) -> None:
        what = f"retention of {self.registry.host}/{plan.repository}: {plan.policy.describe()}"
        try:
            self._log_steps(what, apply_retention(self.registry, plan))
        except RetentionChanged as changed:
            self.app.call_from_thread(self._confirm_retention, changed.plan, f"{changed}. The new plan:")
            return
        finally:
            self.app.call_from_thread(self._reload_tags)
        gone = fmt.count(len(plan.doomed), "tag")
        self.app.call_from_thread(
            self.notify,
            f"Retention applied to {plan.repository}: {gone} deleted, {len(plan.kept)} kept. Space comes "
            "back when the registry's garbage collection runs.",
            title="Retention",
            timeout=10,
        )

    # -- both -------------------------------------------------------------------------------------------
    def _log_steps(self, what: str, steps: Iterator[Step]) -> None:
        """(In a worker.) One log line per registry answer as it comes, the progress in the status line; a
        failure is logged too (the App's handler then says it), with what was done before it."""
        self.app.post_message(Outcome([OutcomeLine("action", what)]))
        try:
            for kind, text in steps:
                self.app.post_message(Outcome([OutcomeLine(kind, text)]))
                self.app.call_from_thread(self._status, f"{text[:60]} …")
        except (UntagChanged, RetentionChanged) as changed:
            self.app.post_message(Outcome([OutcomeLine("error", f"Called off: {changed}")]))
            raise
        except RegistryError as failed:
            self.app.post_message(Outcome([OutcomeLine("error", str(failed))]))
            raise
