"""Find the engine the way the docker CLI does: --host, DOCKER_HOST (+ TLS variables), context, default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from docker.context import ContextAPI
from docker.utils import kwargs_from_env

DEFAULT_UNIX_SOCKET = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class Endpoint:
    """Where to connect, and why that place (shown when it fails)."""

    base_url: str
    source: str
    tls: Any = None

    @property
    def use_ssh_client(self) -> bool:
        return self.base_url.startswith("ssh://")


def resolve_endpoint(host: str | None = None, environ: dict[str, str] | None = None) -> Endpoint:
    env = os.environ if environ is None else environ
    if host:
        tls = kwargs_from_env(env).get("tls") if host.startswith("tcp://") else None
        return Endpoint(host, "--host", tls)
    if env.get("DOCKER_HOST"):
        kwargs = kwargs_from_env(env)
        return Endpoint(kwargs["base_url"], "DOCKER_HOST", kwargs.get("tls"))
    try:
        context = ContextAPI.get_context(env.get("DOCKER_CONTEXT") or None)
    except Exception as exc:  # a broken context file should not stop us from trying the default
        return Endpoint(DEFAULT_UNIX_SOCKET, f"default (docker context unreadable: {exc})")
    if context is not None and context.Name != "default" and context.Host:
        return Endpoint(context.Host, f"docker context {context.Name!r}", context.TLSConfig or None)
    return Endpoint(DEFAULT_UNIX_SOCKET, "default socket")
