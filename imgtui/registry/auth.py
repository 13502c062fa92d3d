"""Credentials and challenges: what the docker config (and its credential helpers) holds for a registry, and
the `WWW-Authenticate` challenges of the distribution spec (Basic, and Bearer with a token service)."""

from __future__ import annotations

from dataclasses import dataclass

import docker.auth
import docker.errors
from requests.utils import parse_dict_header


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    source: str
    """Where they came from, for the status line: "docker config", "typed" …"""

    def __repr__(self) -> str:  # never print the password, even in a traceback
        return f"Credentials(username={self.username!r}, source={self.source!r})"


@dataclass(frozen=True)
class Challenge:
    scheme: str
    """"basic" or "bearer" (lower case)."""
    params: dict[str, str]

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer realm="https://auth",service="registry",scope="repository:a:pull"` → Challenge."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    return Challenge(scheme.lower(), {k: v or "" for k, v in parse_dict_header(rest).items()})


def from_docker_config(host: str) -> Credentials | None:
    """The user's `docker login` for `host`, through docker-py (auths, credsStore, credHelpers)."""
    try:
        config = docker.auth.load_config()
        entry = docker.auth.resolve_authconfig(config, registry=host)
    except (docker.errors.DockerException, OSError, ValueError):
        return None
    if not entry:
        return None
    user = entry.get("username") or entry.get("Username") or ""
    password = entry.get("password") or entry.get("Password") or ""
    if not user or not password:
        return None
    return Credentials(user, password, "docker config")
