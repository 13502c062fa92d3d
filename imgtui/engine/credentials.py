"""`docker login` / `docker logout` semantics: the engine checks the credentials (`POST /auth`), then they are
stored where the docker CLI keeps them: a credential helper (`credHelpers` / `credsStore` in config.json,
through docker-py's `docker.credentials.Store`) or, without one, base64 in `auths` of config.json.
`DOCKER_CONFIG` is honoured. imgtui keeps no password in files of its own and never shows one."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imgtui.engine.errors import engine_words
from imgtui.engine.lazy import lazy

if TYPE_CHECKING:
    import docker
    import docker.credentials
    import docker.errors
else:
    docker = lazy("docker")  # imported when first used (lazy.py)


class LoginError(Exception):
    """Login or logout failed; the message never contains the password."""


def config_path() -> Path:
    folder = os.environ.get("DOCKER_CONFIG")
    return (Path(folder) if folder else Path.home() / ".docker") / "config.json"


def _read() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text() or "{}"))
    except (OSError, ValueError) as exc:
        raise LoginError(f"{path} is not readable JSON: {exc}") from exc


def _write(config: dict[str, Any]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    import tempfile  # off the path to the first screen

    handle, temp = tempfile.mkstemp(prefix=".config.json.", dir=path.parent)
    with os.fdopen(handle, "w") as out:
        json.dump(config, out, indent="\t")
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def _helper(config: dict[str, Any], server: str) -> str | None:
    return (config.get("credHelpers") or {}).get(server) or config.get("credsStore") or None


def known_registries() -> list[str]:
    """Registries the docker config has credentials (or a helper) for."""
    try:
        config = _read()
    except LoginError:
        return []
    return sorted(set(config.get("auths") or {}) | set(config.get("credHelpers") or {}))


def login(api: docker.APIClient, server: str, username: str, password: str) -> str:
    """Check the credentials through the engine, then store them as the CLI does; returns where."""
    if not server.strip() or not username.strip():
        raise LoginError("give the registry and the user name")
    try:
        api.login(username=username, password=password, registry=server, reauth=True)
    except docker.errors.APIError as exc:
        text = engine_words(exc).replace(password, "***") if password else engine_words(exc)
        raise LoginError(f"login to {server} failed: {text}") from None
    config = _read()
    helper = _helper(config, server)
    auths = config.setdefault("auths", {})
    if helper:
        try:
            docker.credentials.Store(helper).store(server=server, username=username, secret=password)
        except docker.credentials.StoreError as exc:
            raise LoginError(f"credential helper docker-credential-{helper} failed: {exc}") from None
        auths[server] = {}
        where = f"credential helper docker-credential-{helper}"
    else:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        auths[server] = {"auth": token}
        where = str(config_path())
    _write(config)
    return where


def logout(server: str) -> bool:
    """Forget the credentials for `server`; False if there were none."""
    config = _read()
    helper = _helper(config, server)
    found = server in (config.get("auths") or {})
    if helper:
        try:
            docker.credentials.Store(helper).erase(server)
            found = True
        except docker.credentials.StoreError:
            pass
    if server in (config.get("auths") or {}):
        del config["auths"][server]
        _write(config)
    return found
