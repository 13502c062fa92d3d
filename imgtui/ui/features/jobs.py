"""Long jobs in the job bar, one at a time: pull (`p`), push (`P`), save (`S`), load (`L`); `x` cancels.
Also what starts a pull or ends in one: search (`f`), and import (`I`).

A job is a typed record that says what it is and how it runs (`run(engine, report, stop, say)` returns
its outcome lines; `say` logs a line at once); one runner runs any of them in a thread worker, relays
progress to the job bar (newer progress of a layer replaces older), turns a cancel or any failure into a log
line in the engine's own words (every job ends with one), and says when it ends.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

from textual import work
from textual.message import Message

from imgtui.engine import NONE, Engine, OutcomeLine, validate
from imgtui.engine.reference import FORMAT, problem, pull_problem, resolve_repository_name
from imgtui.engine.transfer import (
    Cancelled,
    Progress,
    Report,
    SearchResult,
    Stop,
    TransferError,
    reached_registry,
    save_path_problem,
    unreachable,
)
from imgtui.ui import format as fmt
from imgtui.ui.errors import sentence
from imgtui.ui.features import Feature
from imgtui.ui.messages import Outcome, RegistryHeard


@dataclass(frozen=True)
class Finished:
    lines: list[OutcomeLine]
    summary: str
    registry_changed: bool = False
    """A pull or push may have changed how local tags compare with their registry."""
    failed: bool = False
    """The engine reported errors (a pull's or push's stream): the job did not do what was asked."""


Say = Callable[[Message], object]
"""Post a message now: an `Outcome` (what a job did before it ends, such as a tag made for a push), or
`RegistryHeard`."""


@dataclass(frozen=True)
class PullJob:
    reference: str

    @property
    def title(self) -> str:
        return f"pull {self.reference}"

    def run(self, engine: Engine, report: Report, stop: Stop, say: Say) -> Finished:
        done = _relayed("pull", self.reference, *engine.pull(self.reference, report, stop))
        if not done.failed:
            say(RegistryHeard(resolve_repository_name(self.reference.split("@")[0])[0], True))
        return done


@dataclass(frozen=True)
class PushJob:
    name: str
    tag_first: str = ""
    """The image ID to tag as `name` before pushing (a new registry/namespace/ name), if any."""

    @property
    def title(self) -> str:
        return f"push {self.name}"

    def run(self, engine: Engine, report: Report, stop: Stop, say: Say) -> Finished:
        full = self.name
        if self.tag_first:
            full = engine.tag(self.tag_first, self.name)
            say(Outcome([OutcomeLine("tagged", f"Tagged {self.tag_first[7:19]} as {full}")]))
        host = resolve_repository_name(full)[0]
        reached = False

        def relay(progress: Progress) -> None:
            nonlocal reached
            reached = reached or reached_registry(progress)
            report(progress)

        try:
            lines, errors = engine.push(full, relay, stop)
        except BaseException:  # the engine failed, or a cancel: nothing is known of the registry
            if not reached and self.tag_first:
                say(Outcome([self._untag(engine, full)]))
            raise
        done = _relayed("push", self.name, lines, errors)
        if reached or not errors:
            say(RegistryHeard(host, True))
        elif unreachable(errors):
            say(RegistryHeard(host, False))
        if done.failed and not reached and self.tag_first:
            return Finished([*done.lines, self._untag(engine, full)], done.summary, True, True)
        return done

    def _untag(self, engine: Engine, full: str) -> OutcomeLine:
        """Take back the name made for a push that sent nothing (the registry never answered)."""
        try:
            kept = engine.untag(full, self.tag_first)
        except Exception as failure:
            return OutcomeLine("error", f"The push sent nothing, and the name {full} made for it could not "
                                        f"be removed: {sentence(failure)}")  # fmt: skip
        if kept is None:
            return OutcomeLine("untagged", f"Untagged {full}: it was made for this push, which sent nothing")
        return OutcomeLine("info", f"The push sent nothing; kept the name made for it: {kept}")


@dataclass(frozen=True)
class SaveJob:
    names: tuple[str, ...]
    path: Path

    @property
    def title(self) -> str:
        return f"save {', '.join(self.names)} to {self.path}"

    def run(self, engine: Engine, report: Report, stop: Stop, say: Say) -> Finished:
        written = engine.save(list(self.names), self.path, report, stop)
        said = f"Saved {', '.join(self.names)} to {self.path} ({fmt.size(written)})"
        return Finished([OutcomeLine("info", said)], said)


@dataclass(frozen=True)
class LoadJob:
    path: Path

    @property
    def title(self) -> str:
        return f"load {self.path}"

    def run(self, engine: Engine, report: Report, stop: Stop, say: Say) -> Finished:
        lines = engine.load(str(self.path), report, stop)
        said = f"Loaded {self.path}"
        return Finished([OutcomeLine("tagged", line) for line in lines] or [OutcomeLine("info", said)], said)


Job = Union[PullJob, PushJob, SaveJob, LoadJob]


def _relayed(kind: str, target: str, lines: list[str], errors: list[str]) -> Finished:
    summary = f"{kind} {target}: " + (fmt.count(len(errors), "error") if errors else "done")
    out = [OutcomeLine("info", line) for line in lines] + [OutcomeLine("error", e) for e in errors]
    out.append(OutcomeLine("error" if errors else "reclaimed", summary))
    return Finished(out, summary, True, bool(errors))


GERUNDS = {"pull": "pulling", "push": "pushing", "save": "saving", "load": "loading"}


def _failed(title: str, said: str) -> str:
    """`save x to y failed: <the engine's words>`, without the engine layer's own `saving: ` in front."""
    gerund = GERUNDS.get(title.split()[0], "")
    if gerund and said.startswith(gerund) and ": " in said:
        said = said.split(": ", 1)[1]
    return f"{title} failed: {said}"


PACE = 0.1
"""Seconds between two progress messages of the same layer: at most 10 a second reach the job bar."""


class Paced:
    """Passes on a job's progress reports, at most one per layer every `every` seconds: a save reports
    each chunk the engine sends (tens of thousands for 1 GB), and a message each would keep the event loop
    busy and repaint the job bar for nothing. A layer's first report, a change of its status, and the report
    that completes it always go."""

    def __init__(self, post: Callable[[Progress], object], every: float = PACE,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.post = post
        self.every = every
        self.clock = clock
        self.last: dict[str, tuple[float, str, bool]] = {}
        """Per layer: when its last report went, its status, whether it went complete."""

    def __call__(self, progress: Progress) -> None:
        now = self.clock()
        seen = self.last.get(progress.layer)
        # Complete once: a save's total is an estimate its stream passes (tar headers, configs), and every
        # report after would count as completing it.
        complete = progress.total > 0 and progress.done >= progress.total and not (seen and seen[2])
        if seen is None or seen[1] != progress.status or complete or now - seen[0] >= self.every:
            self.last[progress.layer] = (now, progress.status, complete or bool(seen and seen[2]))
            self.post(progress)


class Jobs(Feature):
    """The job runner, and the commands that start jobs."""

    @dataclass
    class Progressed(Message, bubble=False):
        """High-frequency: a newer report of the same layer replaces an older one still queued."""

        progress: Progress

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, Jobs.Progressed) and message.progress.layer == self.progress.layer

    @dataclass
    class Ended(Message, bubble=False):
        summary: str = ""
        raised: bool = False
        """The job failed with an error, which the App's worker-error handler notifies."""

    # -- the runner ----------------------------------------------------------------------------------------
    def start(self, job: Job) -> bool:
        """Run `job` in the job bar, unless one is running (then say so)."""
        stop = self.view.job_bar.begin(job.title)
        if stop is None:
            self.notify("A job is running; x cancels it", severity="warning")
            return False
        self.view.log_lines(OutcomeLine("action", job.title))
        self.run(job, stop)
        if self.app.screen is not self.screen:
            self.notify(f"{job.title}: its progress shows in the images view (escape)", timeout=5)
        return True

    @work(thread=True, group="job", exit_on_error=False, description="Job")
    def run(self, job: Job, stop: threading.Event) -> None:
        post = self.post_message
        summary = f"{job.title} ended"
        raised = False
        try:
            report = Paced(lambda progress: post(self.Progressed(progress)))
            done = job.run(self.view.engine, report, stop.is_set, post)
            summary = done.summary
            post(Outcome(done.lines))
            if done.registry_changed:
                self.app.call_from_thread(self.view.remote_changed)
        except Cancelled:
            summary = f"Cancelled {job.title.split()[0]}; nothing partial was kept"
            post(Outcome([OutcomeLine("info", summary)]))
        except Exception as failure:
            # Every failure ends the job's log with the engine's words; the App notifies it (the one place).
            summary, raised = _failed(job.title, sentence(failure)), True
            post(Outcome([OutcomeLine("error", summary)]))
            raise
        finally:
            post(self.Ended(summary, raised))

    def on_jobs_progressed(self, message: Progressed) -> None:
        self.view.job_bar.show(message.progress)

    def on_jobs_ended(self, message: Ended) -> None:
        self.view.job_bar.end()
        if self.app.screen is not self.screen and message.summary and not message.raised:
            self.notify(message.summary, title="Job finished", timeout=6)

    # -- p / P ---------------------------------------------------------------------------------------------
    def command_pull(self) -> None:
        """Pull an image by name, with per-layer progress."""

        from imgtui.ui.dialogs.name import NameDialog  # imported when first used

        def chosen(name: str | None) -> None:
            if name:
                self.start(PullJob(name))

        hint = f"Image to pull: {FORMAT} or NAME@sha256:… (no registry means Docker Hub, no tag means latest)"
        self.app.push_screen(NameDialog("Pull", hint, "", pull_problem), chosen)

    def command_push(self) -> None:
        """Push the selected tag; a new name (registry/namespace/...) is tagged first."""
        from imgtui.ui.dialogs.name import NameDialog  # imported when first used

        tag = self.view.selected_tag()
        if tag is None:
            return

        def chosen(name: str | None) -> None:
            if name:
                repo, version = validate(name)
                full = f"{repo}:{version}"
                self.start(PushJob(full, tag.image.id if full not in tag.image.names else ""))

        hint = (f"Push {tag.image.short_id} as: {FORMAT}. Put a registry[:port]/namespace/ in front to push "
                "there: the image is tagged with that name first.")  # fmt: skip
        start = tag.ref if tag.repository != NONE else ""
        self.app.push_screen(NameDialog("Push", hint, start, problem), chosen)

    # -- S / L ---------------------------------------------------------------------------------------------
    def command_save(self) -> None:
        """Save the selected (or marked) tags to a tar file, by name so the tags survive."""
        from imgtui.ui.dialogs.choice import Choice, ChoiceDialog  # imported when first used
        from imgtui.ui.dialogs.name import NameDialog  # imported when first used

        view = self.view
        view.sync_panes()
        marked = view.marked_tags()  # every marked name, in any repository
        tags = marked or ([view.tags.current] if view.tags.current is not None else [])
        names = tuple(t.ref for t in tags)
        if not names:
            self.notify("Select a tag first", severity="warning")
            return
        default = f"./{names[0].replace('/', '_').replace(':', '_')}.tar"

        def start(path: str) -> None:
            self.start(SaveJob(names, Path(path).expanduser()))

        def chosen(path: str | None) -> None:
            if not path:
                return
            if not Path(path).expanduser().exists():
                start(path)
                return
            lines = [f"Saving {', '.join(names)} replaces it."]
            yes = [Choice(("y", "enter"), "overwrite", True, True)]
            question = ChoiceDialog(f"{path} exists. Overwrite it?", lines, yes)
            self.app.push_screen(question, lambda answer: start(path) if answer else None)

        hint = f"Save {', '.join(names)} (all layers, tags and history) to:"
        check = lambda path: save_path_problem(path, overwrite=True)  # noqa: E731
        self.app.push_screen(NameDialog("Save", hint, default, check), chosen)

    def command_load(self) -> None:
        """Load images from a tar file made by docker save."""

        from imgtui.ui.dialogs.name import NameDialog  # imported when first used

        def chosen(path: str | None) -> None:
            if path:
                self.start(LoadJob(Path(path).expanduser()))

        self.app.push_screen(NameDialog("Load", "Tar file made by docker save:", "./", _file_problem), chosen)

    # -- f: search, I: import -------------------------------------------------------------------------------
    def command_search(self) -> None:
        """docker search through the engine; enter on a result pulls it."""

        from imgtui.ui.dialogs.name import NameDialog  # imported when first used

        def chosen(term: str | None) -> None:
            if term:
                self.run_search(term)

        hint = "Search Docker Hub (or put a registry host in front: 127.0.0.1:5000/name):"
        check = lambda t: None if t.strip() else "type a term"  # noqa: E731
        self.app.push_screen(NameDialog("Search", hint, "", check), chosen)

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Searching")
    def run_search(self, term: str) -> None:
        try:
            results = self.view.engine.search(term)
        except TransferError as failure:
            self.post_message(Outcome([OutcomeLine("error", str(failure))]))
            return
        self.app.call_from_thread(self._show_search, term, results)

    def _show_search(self, term: str, results: list[SearchResult]) -> None:
        def chosen(name: str | None) -> None:
            if name:
                self.start(PullJob(name))

        from imgtui.ui.screens.search import SearchScreen

        self.app.push_screen(SearchScreen(term, results), chosen)

    def command_import(self) -> None:
        """docker import: a tar of files becomes a one-layer image (no history, no config)."""

        from imgtui.ui.dialogs.name import NameDialog  # imported when first used

        def named(path: str, name: str | None) -> None:
            if name:
                self.run_import(path, name)

        def chosen(path: str | None) -> None:
            if path:
                source = str(Path(path).expanduser())
                dialog = NameDialog("Import as", f"Name for {path}: {FORMAT}", "", problem)
                self.app.push_screen(dialog, lambda name: named(source, name))

        hint = (
            "Tar of a filesystem (docker export makes one). Import keeps only the files: the image gets "
            "one layer, no history and no config (CMD, ENV...)."
        )
        self.app.push_screen(NameDialog("Import", hint, "./", _file_problem), chosen)

    @work(thread=True, group="action", exit_on_error=False, description="Importing")
    def run_import(self, path: str, name: str) -> None:
        try:
            image_id = self.view.engine.import_(path, name)
        except TransferError as failure:
            self.post_message(Outcome([OutcomeLine("error", str(failure))]))
            return
        said = f"Imported {path} as {name} ({image_id[7:19]}): one layer, no history"
        self.post_message(Outcome([OutcomeLine("tagged", said)]))


def _file_problem(path: str) -> str | None:
    source = Path(path).expanduser()
    if not source.exists():
        return f"{source} does not exist"
    if not source.is_file():
        return f"{source} is not a file"
    return None
