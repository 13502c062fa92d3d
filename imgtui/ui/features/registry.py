"""Registries from the images view: browse one (`R`, screens/registry.py), log in and out through the engine
(`A`, logout in the palette), and, for a tag named after a registry, whether that registry has it up to
date, differs, or not at all (shown in the layers title; asked once per tag and image).

`R` offers the registries that answered in this session first (a status check, a push or a pull that reached
them), newest first, then those the docker config and the local image names know; one that was tried and
did not answer (a push to a registry that is down) is not offered until it answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from imgtui.engine import NONE, OutcomeLine, Tag, credentials
from imgtui.engine.reference import names_a_registry, resolve_repository_name
from imgtui.ui.features import Feature
from imgtui.ui.messages import Outcome

if TYPE_CHECKING:  # the registry side is imported when first used, off the path to the first screen
    from imgtui.registry.operations import RemoteStatus


class Registries(Feature):
    """`R`, `A`, logout, and the registry status of the selected tag (asked by the images screen)."""

    @dataclass
    class Checked(Message):
        ref: str
        image_id: str
        status: RemoteStatus
        host: str = ""

    @dataclass
    class Answered(Message):
        """A registry being browsed answered (posted from the registry view's workers)."""

        host: str

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._status: dict[tuple[str, str], RemoteStatus] = {}
        self._answered: list[str] = []
        """Registries that answered in this session, newest first."""
        self._silent: set[str] = set()
        """Registries tried in this session that did not answer (since they last did)."""
        self._listening: set[int] = set()
        """The registry clients (ids) whose answers are heard (`Answered`)."""

    # -- R --------------------------------------------------------------------------------------------------
    def command_browse_registry(self) -> None:
        """Browse a registry: pick a known one or type an address."""
        from imgtui.ui.dialogs.registry import RegistryDialog

        catalog = self.view.catalog
        hosts = {resolve_repository_name(t.repository)[0] for r in catalog.repositories() for t in r.tags
                 if t.repository != NONE}  # fmt: skip
        others = sorted(set(credentials.known_registries()) | hosts)
        known = [
            k
            for k in dict.fromkeys(self._answered + others)
            if "docker.io" not in k and k not in self._silent
        ]

        def chosen(answer: tuple[str, bool] | None) -> None:
            if answer is not None:
                self.browse(*answer)

        self.app.push_screen(RegistryDialog(known, self.view.insecure_registries), chosen)

    def browse(self, address: str, insecure: bool) -> None:
        from imgtui.registry import RegistryError
        from imgtui.ui.screens.registry import RegistryScreen

        try:
            registry = self.view.registry(address, insecure)
        except RegistryError as exc:
            self.notify(str(exc), title="Registry", severity="error", timeout=8)
            return
        if id(registry) not in self._listening:  # the session's client: one hook for the session
            self._listening.add(id(registry))

            def answered(response: object, *args: object, **kwargs: object) -> None:
                """Any answer at all, in a worker thread of the registry view."""
                self.post_message(self.Answered(registry.host))

            registry.session.hooks["response"].append(answered)
        self.app.push_screen(RegistryScreen(registry))

    def on_registries_answered(self, message: Answered) -> None:
        if self._answered[:1] != [message.host] or message.host in self._silent:
            self.heard_from(message.host, True)

    # -- local vs remote -------------------------------------------------------------------------------------
    def status_of(self, tag: Tag) -> RemoteStatus | None:
        return self._status.get((tag.ref, tag.image.id))

    def check(self, tag: Tag | None) -> None:
        """A tag named after a registry (not Docker Hub) is compared with that registry's tag, once."""
        if tag is None or tag.repository == NONE or (tag.ref, tag.image.id) in self._status:
            return
        if not names_a_registry(tag.repository):
            return  # Docker Hub: not asked on every cursor move (rate limits; and no network here)
        self.check_remote(tag)

    def heard_from(self, host: str, answered: bool) -> None:
        """A registry answered (it becomes the first one `R` offers), or was tried and did not."""
        if host in ("docker.io", "index.docker.io"):
            return
        if host in self._answered:
            self._answered.remove(host)
        if answered:
            self._answered.insert(0, host)
            self._silent.discard(host)
        else:
            self._silent.add(host)

    def forget(self) -> None:
        """A push, pull or reload may have changed how local tags compare with their registries."""
        self._status.clear()

    @work(thread=True, exclusive=True, group="remote", exit_on_error=False, description="Registry status")
    def check_remote(self, tag: Tag) -> None:
        from imgtui.registry import RegistryError
        from imgtui.registry.operations import RemoteStatus, remote_status

        host, path = resolve_repository_name(tag.repository)  # here: it imports docker-py when first used
        if host in ("docker.io", "index.docker.io"):
            return
        try:
            registry = self.view.registry(host)
        except RegistryError as exc:
            status = RemoteStatus("unknown", str(exc))
        else:
            digests = [d.split("@", 1)[1] for d in tag.image.digests if d.split("@", 1)[0] == tag.repository]
            status = remote_status(registry, path, tag.tag, digests)
        self.post_message(self.Checked(tag.ref, tag.image.id, status, host))

    def on_registries_checked(self, message: Checked) -> None:
        self._status[(message.ref, message.image_id)] = message.status
        if message.host and message.status.state != "unknown":
            self.heard_from(message.host, True)
        self.view.update_titles()

    # -- A: login, logout ---------------------------------------------------------------------------------
    def command_login(self) -> None:
        """docker login through the engine; credentials stored as the docker CLI stores them."""
        from imgtui.ui.dialogs.login import LoginDialog  # imported when first used

        known = credentials.known_registries()

        def chosen(answer: tuple[str, str, str] | None) -> None:
            if answer is not None:
                self.run_login(*answer)

        self.app.push_screen(LoginDialog(known[0] if known else ""), chosen)

    @work(thread=True, group="action", exit_on_error=False, description="Logging in")
    def run_login(self, server: str, user: str, password: str) -> None:
        try:
            where = self.view.engine.login(server, user, password)
        except credentials.LoginError as failure:
            self.post_message(Outcome([OutcomeLine("error", str(failure))]))
            return
        said = f"Login Succeeded: {user} at {server} (kept in {where})"
        self.post_message(Outcome([OutcomeLine("tagged", said)]))

    def command_logout(self) -> None:
        """docker logout: forget the stored credentials of a registry."""
        from imgtui.ui.dialogs.name import NameDialog  # imported when first used

        known = credentials.known_registries()

        def chosen(server: str | None) -> None:
            if server:
                self.run_logout(server)

        hint = f"Registry to log out of{' (known: ' + ', '.join(known) + ')' if known else ''}:"
        self.app.push_screen(NameDialog("Logout", hint, known[0] if known else "", lambda s: None), chosen)

    @work(thread=True, group="action", exit_on_error=False, description="Logging out")
    def run_logout(self, server: str) -> None:
        found = self.view.engine.logout(server)
        text = f"Removed login credentials for {server}" if found else f"Not logged in to {server}"
        self.post_message(Outcome([OutcomeLine("info", text)]))
