"""Containers beyond listing them: what `docker create` / `docker run` are given (checked here, before the
engine sees it), the `docker attach` and `docker exec -it` command lines that take over the terminal, and the
log stream of `docker logs -f`.

attach and exec need a terminal the engine's stream is wired to, in raw mode, with the detach keys watched:
the docker CLI does exactly that, so imgtui hands the terminal to it (with DOCKER_HOST set to the engine
imgtui talks to) rather than doing it twice. Without the CLI it says so.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from imgtui.engine.connection import Endpoint
from imgtui.record import record

NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]+"
"""A container name, as the engine accepts it."""
DETACH_KEYS = "ctrl-p,ctrl-q"
"""The docker CLI's own default, given explicitly so a user's config (`detachKeys`) cannot change it here."""
SHELL = "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"
"""What `exec` runs: bash where the image has it, else sh (busybox, alpine)."""
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class BadSpec(ValueError):
    """A create/run form the engine would refuse, worded for the user."""


def name_problem(name: str) -> str | None:
    """Why a container name would be refused, or None (empty: the engine picks one)."""
    if name and not re.fullmatch(NAME_CHARS, name):
        return "a container name is letters, digits, '_', '.' and '-', starting with a letter or digit"
    return None


@record
class RunSpec:
    """`docker create` / `docker run` of an image, as the `n` form gives it."""

    image: str
    name: str = ""
    command: tuple[str, ...] = ()
    """Empty: the image's own CMD."""
    env: tuple[str, ...] = ()
    """`KEY=value` each."""
    tty: bool = False
    """`-it`: a terminal and stdin kept open."""
    remove: bool = False
    """`--rm`: the engine removes the container when it exits."""
    network: str = ""
    """Empty: the engine's default network."""
    start: bool = True
    """run (create then start) rather than create."""

    @classmethod
    def parse(
        cls,
        image: str,
        *,
        name: str = "",
        command: str = "",
        env: str = "",
        tty: bool = False,
        remove: bool = False,
        network: str = "",
        start: bool = True,
    ) -> RunSpec:
        """The form's text fields, checked: the command and the env are split as a shell would
        (`sh -c "echo hi > /f"`, `A=1 B="two words"`). Raises BadSpec with one sentence."""
        name = name.strip()
        problem = name_problem(name)
        if problem:
            raise BadSpec(problem)
        try:
            argv = tuple(shlex.split(command))
            pairs = tuple(shlex.split(env))
        except ValueError as exc:
            raise BadSpec(
                f"could not split the command or the environment: {exc} (a quote left open?)"
            ) from exc
        for pair in pairs:
            key, eq, _ = pair.partition("=")
            if not eq or not ENV_NAME.fullmatch(key):
                raise BadSpec(f"environment entries are KEY=value, separated by spaces: {pair!r} is not one")
        network = network.strip()
        if network and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]*", network):
            raise BadSpec(f"{network!r} is not a network name (none, host, bridge or one you made)")
        if remove and not start:
            raise BadSpec("--rm needs the container to run: a created container that never starts stays")
        return cls(image, name, argv, pairs, tty, remove, network, start)

    def cli(self) -> str:
        """The docker CLI command this amounts to, for the outcome log."""
        parts = ["run" if self.start else "create"]
        if self.tty:
            parts.append("-it")
        if self.remove:
            parts.append("--rm")
        if self.name:
            parts += ["--name", self.name]
        if self.network:
            parts += ["--network", self.network]
        for pair in self.env:
            parts += ["-e", pair]
        parts.append(self.image)
        parts += list(self.command)
        return "docker " + " ".join(shlex.quote(p) for p in parts)


def create(api: Any, spec: RunSpec) -> str:
    """Create the container (not started); returns its ID."""
    host_config = api.create_host_config(auto_remove=spec.remove, network_mode=spec.network or None)
    answer = api.create_container(
        spec.image,
        command=list(spec.command) or None,
        name=spec.name or None,
        environment=list(spec.env) or None,
        tty=spec.tty,
        stdin_open=spec.tty,
        host_config=host_config,
    )
    return str(answer["Id"])


# -- taking over the terminal -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TerminalCommand:
    """A command that takes over the terminal (run while the app is suspended)."""

    argv: list[str]
    env: dict[str, str] = field(repr=False)
    what: str
    """One line for the outcome log: the command as the user would type it."""


def docker_cli() -> str | None:
    """The docker CLI on PATH, or None."""
    return shutil.which("docker")


def cli_env(endpoint: Endpoint | None, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment that points the docker CLI at `endpoint` (the engine imgtui uses) and nothing else:
    DOCKER_HOST, and the TLS variables when the endpoint uses TLS."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k != "DOCKER_CONTEXT"}
    if endpoint is None:
        return env
    env["DOCKER_HOST"] = endpoint.base_url
    tls = endpoint.tls
    if tls and getattr(tls, "ca_cert", None):
        env["DOCKER_CERT_PATH"] = os.path.dirname(str(tls.ca_cert))
        env["DOCKER_TLS_VERIFY"] = "1" if getattr(tls, "verify", True) else ""
    elif not tls:
        env.pop("DOCKER_TLS_VERIFY", None)
    return env


def attach_command(
    endpoint: Endpoint | None, container: str, running: bool, cli: str | None
) -> TerminalCommand:
    """`docker attach` (or, for a stopped container, `docker start -ai`: start it and attach, as `docker run
    -it` does); ctrl-p ctrl-q detaches and comes back. Raises BadSpec without the docker CLI."""
    if cli is None:
        raise BadSpec(
            "attach needs the docker CLI (not found on PATH): it wires the terminal to the container's tty"
        )
    verb = ["attach"] if running else ["start", "--attach", "--interactive"]
    argv = [cli, *verb, "--detach-keys", DETACH_KEYS, container]
    return TerminalCommand(argv, cli_env(endpoint), "docker " + " ".join(argv[1:]))


def exec_command(endpoint: Endpoint | None, container: str, cli: str | None) -> TerminalCommand:
    """`docker exec -it` a shell (bash if the image has it, else sh). Raises BadSpec without the CLI."""
    if cli is None:
        raise BadSpec(
            "exec needs the docker CLI (not found on PATH): it wires the terminal to the shell's tty"
        )
    argv = [cli, "exec", "--interactive", "--tty", "--detach-keys", DETACH_KEYS, container, "sh", "-c", SHELL]
    return TerminalCommand(argv, cli_env(endpoint), f"docker exec -it {container} sh")


# -- logs ---------------------------------------------------------------------------------------------------
class LogStream:
    """`docker logs -f`, line by line; `close()` from any thread ends the iteration."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._closed = threading.Event()

    def batches(self) -> Iterator[list[str]]:
        """The complete lines of each chunk the engine sends (a line split across chunks waits for its end;
        the last one, unended, comes when the stream ends)."""
        pending = b""
        try:
            for chunk in self._raw:
                if self._closed.is_set():
                    return
                pending += chunk
                *whole, pending = pending.split(b"\n")
                if whole:
                    yield [line.rstrip(b"\r").decode("utf-8", "replace") for line in whole]
        except Exception:
            if self._closed.is_set():
                return
            raise
        if pending and not self._closed.is_set():
            yield [pending.decode("utf-8", "replace")]

    def close(self) -> None:
        self._closed.set()
        try:
            self._raw.close()
        except Exception:
            pass
