"""Which engines make up a fleet: `--host` given more than once, a fleet file (one engine a line: an address
or `context:NAME`, `#` comments), every docker context; each turned into an Endpoint the way a single
engine's address or context is (imgtui/engine/connection.py)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from imgtui.engine import contexts
from imgtui.engine.connection import Endpoint, from_context, resolve_endpoint

CONTEXT = "context:"
SCHEMES = ("unix://", "tcp://", "ssh://", "http://", "https://")


class FleetError(Exception):
    """A fleet list that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class EngineSpec:
    """One engine of the fleet, as the user wrote it."""

    address: str
    """An engine address (unix://, tcp://, ssh://) or `context:NAME`."""

    @property
    def context(self) -> str | None:
        return self.address[len(CONTEXT) :] if self.address.startswith(CONTEXT) else None

    @property
    def label(self) -> str:
        """How the fleet view and `imgtui clean` name it."""
        return f"context {self.context}" if self.context is not None else self.address

    def endpoint(self, env: Mapping[str, str] | None = None) -> Endpoint:
        """Where to connect (raises contexts.ContextError for a context that is not there)."""
        if self.context is not None:
            return from_context(self.context, os.environ if env is None else env)
        return resolve_endpoint(host=self.address, environ=env)


def parse(text: str, where: str = "") -> EngineSpec:
    """One engine: an address with its scheme, a socket path (`/run/docker.sock`), or `context:NAME`."""
    given = text.strip()
    at = f"{where}: " if where else ""
    if given.startswith(CONTEXT):
        if not given[len(CONTEXT) :].strip():
            raise FleetError(f"{at}`context:` names no context (context:NAME)")
        return EngineSpec(CONTEXT + given[len(CONTEXT) :].strip())
    if given.startswith("/"):
        return EngineSpec(f"unix://{given}")
    if given.startswith(SCHEMES) and len(given.split("://", 1)[1]) > 0:
        return EngineSpec(given)
    raise FleetError(
        f"{at}{given!r} is not an engine: give unix:///path, tcp://host:port, ssh://[user@]host[:port] "
        "or context:NAME"
    )


def read_file(path: Path) -> list[EngineSpec]:
    """A fleet file: one engine a line, blank lines and `#` comments left out."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise FleetError(f"the fleet file {path} cannot be read: {exc.strerror or exc}") from exc
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            found.append(parse(line, f"{path} line {number}"))
    if not found:
        raise FleetError(f"the fleet file {path} lists no engine (one address or context:NAME a line)")
    return found


def all_contexts(env: Mapping[str, str] | None = None) -> list[EngineSpec]:
    """Every docker context (`default` first), as `docker context ls` lists them."""
    try:
        return [EngineSpec(CONTEXT + c.name) for c in contexts.list_contexts(env)]
    except contexts.ContextError as exc:
        raise FleetError(str(exc)) from exc


def gather(
    hosts: Iterable[str] = (),
    fleet_file: Path | None = None,
    every_context: bool = False,
    env: Mapping[str, str] | None = None,
) -> list[EngineSpec]:
    """The engines named by flags, in the order given, each once."""
    specs = [parse(h, "--host") for h in hosts]
    if fleet_file is not None:
        specs += read_file(fleet_file)
    if every_context:
        specs += all_contexts(env)
    return list(dict.fromkeys(specs))
