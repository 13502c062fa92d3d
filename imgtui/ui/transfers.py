"""The App's long jobs: pull (`p`), push (`P`), save (`S`), load (`L`), and commit from the containers view.

One job at a time runs in a thread worker that posts progress (replacing older progress of the same layer)
to the job bar; `x` cancels it; its outcome goes to the outcome log.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.message import Message

from imgtui.engine import NONE, OutcomeLine, credentials, validate
from imgtui.engine.reference import FORMAT, problem, pull_problem
from imgtui.engine.transfer import Cancelled, Progress, SearchResult, TransferError, save_path_problem
from imgtui.ui import format as fmt
from imgtui.ui.actions import ImageActions
from imgtui.ui.dialogs.choice import Choice, ChoiceDialog
from imgtui.ui.dialogs.login import LoginDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.messages import Outcome
from imgtui.ui.screens.search import SearchScreen
from imgtui.ui.widgets.job import JobBar


@dataclass
class JobProgress(Message):
    """High-frequency: a newer report of the same layer replaces an older one still queued."""

    progress: Progress
    bubble = False

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobProgress) and message.progress.layer == self.progress.layer


@dataclass
class JobFinished(Message):
    summary: str = ""
    bubble = False


class TransferActions(ImageActions):
    """Mixed into the App; needs its job bar."""

    job_bar: JobBar
    _job_stop: threading.Event | None = None

    # -- the job machinery ------------------------------------------------------------------------------
    def _begin(self, what: str) -> threading.Event | None:
        if self._job_stop is not None:
            self.notify("A job is running; x cancels it", severity="warning")
            return None
        self._job_stop = threading.Event()
        self.job_bar.start(what)
        self.log_lines(OutcomeLine("action", what))
        return self._job_stop

    def start_pull(self, reference: str) -> bool:
        """Pull in the job bar (from the pull dialog, a search result, or the registry view)."""
        stop = self._begin(f"pull {reference}")
        if stop is None:
            return False
        self.run_job("pull", stop, reference)
        return True

    def on_job_progress(self, message: JobProgress) -> None:
        self.job_bar.show(message.progress)

    def on_job_finished(self, message: JobFinished) -> None:
        self._job_stop = None
        self.job_bar.stop()
        if self.screen is not self.screen_stack[0] and message.summary:
            self.notify(message.summary, title="Job finished", timeout=6)

    def remote_changed(self) -> None:
        """A push or pull may have changed how local tags compare with their registry (the App forgets)."""
        raise NotImplementedError

    def action_cancel_job(self) -> None:
        """Cancel the running save, load, pull or push."""
        if self._job_stop is None:
            self.notify("No job is running")
            return
        self._job_stop.set()
        self.log_lines(OutcomeLine("info", "Cancelling …"))

    @work(thread=True, group="job", exit_on_error=False, description="Job")
    def run_job(self, kind: str, stop: threading.Event, target: str, extra: str = "") -> None:
        post = self.post_message

        def report(p: Progress) -> None:
            post(JobProgress(p))

        summary = f"{kind} ended"
        try:
            if kind == "save":
                written = self.engine.save(target.split("\n"), Path(extra), report, stop.is_set)
                post(Outcome([OutcomeLine("info", f"Saved {target.replace(chr(10), ', ')} to {extra} "
                                                  f"({fmt.size(written)})")]))  # fmt: skip
            elif kind == "load":
                lines = self.engine.load(target, report, stop.is_set)
                post(Outcome([OutcomeLine("tagged", line) for line in lines] or
                             [OutcomeLine("info", f"Loaded {target}")]))  # fmt: skip
            else:
                if kind == "push" and extra:
                    full = self.engine.tag(extra, target)
                    post(Outcome([OutcomeLine("tagged", f"Tagged {extra[7:19]} as {full}")]))
                run = self.engine.pull if kind == "pull" else self.engine.push
                lines, errors = run(target, report, stop.is_set)
                post(Outcome([OutcomeLine("info", line) for line in lines]))
                summary = f"{kind} {target}: " + (f"{len(errors)} error(s)" if errors else "done")
                self.remote_changed()
                post(Outcome([OutcomeLine("error", e) for e in errors] +
                             [OutcomeLine("error" if errors else "reclaimed", summary)]))  # fmt: skip
        except Cancelled:
            summary = f"Cancelled {kind}; nothing partial was kept"
            post(Outcome([OutcomeLine("info", summary)]))
        except TransferError as problem:
            summary = str(problem)
            post(Outcome([OutcomeLine("error", summary)]))
        finally:
            post(JobFinished(summary))

    # -- f: search, I: import -------------------------------------------------------------------------
    def action_search(self) -> None:
        """docker search through the engine; enter on a result pulls it."""

        def chosen(term: str | None) -> None:
            if term:
                self.run_search(term)

        hint = "Search Docker Hub (or put a registry host in front: 127.0.0.1:5000/name):"
        self.push_screen(
            NameDialog("Search", hint, "", lambda t: None if t.strip() else "type a term"), chosen
        )

    @work(thread=True, exclusive=True, group="action", exit_on_error=False, description="Searching")
    def run_search(self, term: str) -> None:
        try:
            results = self.engine.search(term)
        except TransferError as problem:
            self.post_message(Outcome([OutcomeLine("error", str(problem))]))
            return
        self.call_from_thread(self._show_search, term, results)

    def _show_search(self, term: str, results: list[SearchResult]) -> None:
        def chosen(name: str | None) -> None:
            if name:
                self.start_pull(name)

        self.push_screen(SearchScreen(term, results), chosen)

    def action_import(self) -> None:
        """docker import: a tar of files becomes a one-layer image (no history, no config)."""
        paths: list[str] = []

        def check_path(path: str) -> str | None:
            source = Path(path).expanduser()
            return None if source.is_file() else f"{source} is not a file"

        def named(name: str | None) -> None:
            if name:
                self.run_import(paths[0], name)

        def chosen(path: str | None) -> None:
            if path:
                paths.append(str(Path(path).expanduser()))
                self.push_screen(NameDialog("Import as", f"Name for {path}: {FORMAT}", "", problem), named)

        hint = (
            "Tar of a filesystem (docker export makes one). Import keeps only the files: the image gets "
            "one layer, no history and no config (CMD, ENV...)."
        )
        self.push_screen(NameDialog("Import", hint, "./", check_path), chosen)

    @work(thread=True, group="action", exit_on_error=False, description="Importing")
    def run_import(self, path: str, name: str) -> None:
        try:
            image_id = self.engine.import_(path, name)
        except TransferError as problem:
            self.post_message(Outcome([OutcomeLine("error", str(problem))]))
            return
        self.post_message(Outcome([OutcomeLine("tagged", f"Imported {path} as {name} ({image_id[7:19]}): "
                                                         "one layer, no history")]))  # fmt: skip

    # -- A: login, logout ---------------------------------------------------------------------------------
    def action_login(self) -> None:
        """docker login through the engine; credentials stored as the docker CLI stores them."""
        known = credentials.known_registries()
        self.push_screen(LoginDialog(known[0] if known else ""), self._login_chosen)

    def _login_chosen(self, answer: tuple[str, str, str] | None) -> None:
        if answer is not None:
            self.run_login(*answer)

    @work(thread=True, group="action", exit_on_error=False, description="Logging in")
    def run_login(self, server: str, user: str, password: str) -> None:
        try:
            where = self.engine.login(server, user, password)
        except credentials.LoginError as problem:
            self.post_message(Outcome([OutcomeLine("error", str(problem))]))
            return
        self.post_message(
            Outcome([OutcomeLine("tagged", f"Login Succeeded: {user} at {server} (kept in {where})")])
        )

    def action_logout(self) -> None:
        """docker logout: forget the stored credentials of a registry."""
        known = credentials.known_registries()

        def chosen(server: str | None) -> None:
            if server:
                self.run_logout(server)

        hint = f"Registry to log out of{' (known: ' + ', '.join(known) + ')' if known else ''}:"
        self.push_screen(NameDialog("Logout", hint, known[0] if known else "", lambda s: None), chosen)

    @work(thread=True, group="action", exit_on_error=False, description="Logging out")
    def run_logout(self, server: str) -> None:
        found = self.engine.logout(server)
        text = f"Removed login credentials for {server}" if found else f"Not logged in to {server}"
        self.post_message(Outcome([OutcomeLine("info", text)]))

    # -- p / P: pull and push ----------------------------------------------------------------------------
    def action_pull(self) -> None:
        """Pull an image by name, with per-layer progress."""

        def chosen(name: str | None) -> None:
            if name:
                self.start_pull(name)

        hint = f"Image to pull: {FORMAT} or NAME@sha256:… (no registry means Docker Hub, no tag means latest)"
        self.push_screen(NameDialog("Pull", hint, "", pull_problem), chosen)

    def action_push(self) -> None:
        """Push the selected tag; a new name (registry/namespace/...) is tagged first."""
        tag = self._selected_tag()
        if tag is None:
            return
        start = tag.ref if tag.repository != NONE else ""

        def chosen(name: str | None) -> None:
            if not name:
                return
            repo, version = validate(name)
            full = f"{repo}:{version}"
            stop = self._begin(f"push {full}")
            if stop is not None:
                self.run_job("push", stop, full, tag.image.id if full not in tag.image.names else "")

        hint = (f"Push {tag.image.short_id} as: {FORMAT}. Put a registry[:port]/namespace/ in front to push "
                "there: the image is tagged with that name first.")  # fmt: skip
        self.push_screen(NameDialog("Push", hint, start, problem), chosen)

    # -- S / L: save and load ------------------------------------------------------------------------------
    def action_save(self) -> None:
        """Save the selected (or marked) tags to a tar file, by name so the tags survive."""
        self.sync_panes()
        marked = self.tags.marked_items()
        tags = marked or ([self.tags.current] if self.tags.current is not None else [])
        names = [t.ref for t in tags]
        if not names:
            self.notify("Select a tag first", severity="warning")
            return
        default = f"./{names[0].replace('/', '_').replace(':', '_')}.tar"

        def check(path: str) -> str | None:
            return save_path_problem(path, overwrite=True)

        def start(path: str) -> None:
            stop = self._begin(f"save {', '.join(names)} to {path}")
            if stop is not None:
                self.run_job("save", stop, "\n".join(names), str(Path(path).expanduser()))

        def chosen(path: str | None) -> None:
            if not path:
                return
            if Path(path).expanduser().exists():
                lines = [f"Saving {', '.join(names)} replaces it."]
                question = ChoiceDialog(
                    f"{path} exists. Overwrite it?", lines, [Choice(("y", "enter"), "overwrite", "yes", True)]
                )
                self.push_screen(question, lambda answer: start(path) if answer == "yes" else None)
            else:
                start(path)

        hint = f"Save {', '.join(names)} (all layers, tags and history) to:"
        self.push_screen(NameDialog("Save", hint, default, check), chosen)

    def action_load(self) -> None:
        """Load images from a tar file made by docker save."""

        def check(path: str) -> str | None:
            source = Path(path).expanduser()
            if not source.exists():
                return f"{source} does not exist"
            if not source.is_file():
                return f"{source} is not a file"
            return None

        def chosen(path: str | None) -> None:
            stop = self._begin(f"load {path}") if path else None
            if path and stop is not None:
                self.run_job("load", stop, str(Path(path).expanduser()))

        self.push_screen(NameDialog("Load", "Tar file made by docker save:", "./", check), chosen)
