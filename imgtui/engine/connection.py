"""Find the engine the way the docker CLI does: --context, --host, DOCKER_HOST (+ TLS variables),
DOCKER_CONTEXT, the current context of `docker context use`, the default socket (Docker's, else
Podman's); and make the client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imgtui.engine import contexts
from imgtui.engine.lazy import lazy

if TYPE_CHECKING:
    import docker
else:  # imported when first used (lazy.py): a unix socket's first screen is read without docker-py
    docker = lazy("docker")

DEFAULT_UNIX_SOCKET = "unix:///var/run/docker.sock"
PODMAN_ROOTFUL_SOCKET = "/run/podman/podman.sock"


def local_sockets(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Where an engine on this machine listens when nothing names one, in the order tried: Docker's socket,
    then the Docker-compatible socket of `podman system service` (rootful, then the user's own)."""
    found = [(DEFAULT_UNIX_SOCKET, "default socket"), (f"unix://{PODMAN_ROOTFUL_SOCKET}", "Podman's socket")]
    runtime = env.get("XDG_RUNTIME_DIR") or (f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else "")
    if runtime:
        found.append((f"unix://{runtime}/podman/podman.sock", "Podman's socket (rootless)"))
    return found


def first_socket(candidates: list[tuple[str, str]]) -> Endpoint:
    """The first of `candidates` whose socket file exists (only looked at, never connected to here); the
    first one when none does, so that the error names Docker's default socket."""
    for url, source in candidates:
        if os.path.exists(url.removeprefix("unix://")):
            return Endpoint(url, source)
    return Endpoint(*candidates[0])


@dataclass(frozen=True)
class Endpoint:
    """Where to connect, and why that place (shown when it fails)."""

    base_url: str
    source: str
    tls: Any = None
    context: str | None = None
    """The docker context it comes from (`default` included), None when --host or DOCKER_HOST gave it."""

    @property
    def use_ssh_client(self) -> bool:
        return self.base_url.startswith("ssh://")

    @property
    def label(self) -> str:
        """How the status line names the engine: `context prod (ssh://prod)` or the address."""
        if self.context is not None:
            return f"context {self.context} ({self.base_url})"
        return self.base_url

    def client(self, version: str, timeout: float | None) -> docker.APIClient:
        """A docker-py client for this endpoint. An ssh:// one is made as for a unix socket that is never
        used (docker-py's own ssh transport wants paramiko, which has compiled parts: the one-file pyz
        has none), and every request goes through imgtui.engine.ssh, mounted over that socket's adapter."""
        if self.use_ssh_client:
            from imgtui.engine import ssh  # requests' and urllib3's classes: imported when first used

            target = ssh.SSHTarget.parse(self.base_url)  # a malformed address fails here, before any ssh
            api = docker.APIClient(base_url=ssh.PLACEHOLDER_SOCKET, version=version, timeout=timeout)
            ssh.attach(api, target, timeout)
            return api
        api = docker.APIClient(
            base_url=self.base_url, version=version, timeout=timeout, tls=self.tls or False
        )
        if getattr(self.tls, "ca_cert", None):
            # requests puts REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE before the session's CA: the engine's own
            # CA (DOCKER_CERT_PATH, a context's ca.pem) would lose to the system's bundle and fail.
            api.trust_env = False
        return api


def from_context(name: str, env: Mapping[str, str] | None = None) -> Endpoint:
    """The endpoint of docker context `name` (`default`: DOCKER_HOST, else the default socket)."""
    env = os.environ if env is None else env
    if name == contexts.DEFAULT:
        if env.get("DOCKER_HOST"):
            kwargs = _kwargs_from_env(env)
            return Endpoint(kwargs["base_url"], "docker context 'default': DOCKER_HOST", kwargs.get("tls"),
                            contexts.DEFAULT)  # fmt: skip
        return Endpoint(DEFAULT_UNIX_SOCKET, "docker context 'default'", None, contexts.DEFAULT)
    found = contexts.load(name, env)
    return Endpoint(found.host, f"docker context {name!r}", found.tls(), name)


def resolve_endpoint(
    host: str | None = None,
    environ: Mapping[str, str] | None = None,
    context: str | None = None,
    candidates: list[tuple[str, str]] | None = None,
) -> Endpoint:
    """As the docker CLI: --context (not with --host), --host, DOCKER_HOST, DOCKER_CONTEXT, the current
    context, then the first local socket there is: Docker's, else Podman's (`candidates`, by default
    `local_sockets`). Raises contexts.ContextError for a context named but not found."""
    env = os.environ if environ is None else environ
    if context and host:
        raise contexts.ContextError("give --host or --context, not both")
    if context:
        return from_context(context, env)
    if host:
        tls = _kwargs_from_env(env).get("tls") if host.startswith("tcp://") else None
        return Endpoint(host, "--host", tls)
    if env.get("DOCKER_HOST"):
        kwargs = _kwargs_from_env(env)
        return Endpoint(kwargs["base_url"], "DOCKER_HOST", kwargs.get("tls"))
    if env.get("DOCKER_CONTEXT"):
        endpoint = from_context(env["DOCKER_CONTEXT"], env)
        return Endpoint(endpoint.base_url, f"{endpoint.source} from DOCKER_CONTEXT", endpoint.tls,
                        endpoint.context)  # fmt: skip
    try:
        name = contexts.current_name(env)
        if name == contexts.DEFAULT:
            return first_socket(local_sockets(env) if candidates is None else candidates)
        return from_context(name, env)
    except contexts.ContextError as exc:  # a broken current context should not stop us trying the default
        return Endpoint(DEFAULT_UNIX_SOCKET, f"default (docker context unreadable: {exc})")


def _kwargs_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """docker-py's kwargs_from_env (the TLS variables), imported only when they are set: a unix socket's
    DOCKER_HOST without them is what it says (kwargs_from_env gives it back as it is)."""
    if not (env.get("DOCKER_TLS_VERIFY") or env.get("DOCKER_CERT_PATH")):
        return {"base_url": env.get("DOCKER_HOST")}
    from docker.utils import kwargs_from_env

    return dict(kwargs_from_env(dict(env)))
