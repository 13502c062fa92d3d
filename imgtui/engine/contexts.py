"""Docker contexts, read as the docker CLI stores them: `$DOCKER_CONFIG` (else ~/.docker)`/contexts/meta/
<sha256 of the name>/meta.json` for the endpoint, `contexts/tls/<sha256>/docker/{ca,cert,key}.pem` for its TLS
material, `config.json`'s `currentContext` for the one `docker context use` chose.

docker-py's `docker.context.ContextAPI` reads the same files but finds the folder from where config.json is
(a DOCKER_CONFIG folder without config.json makes it read `./contexts`, or ~/.docker's), and ignores TLS
material without a client certificate; so the files are read here, and docker-py's TLSConfig is used.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docker.tls import TLSConfig

DEFAULT = "default"


class ContextError(Exception):
    """A context that is not there or cannot be read; the message says which and why."""


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The docker CLI's configuration folder: $DOCKER_CONFIG, else ~/.docker."""
    env = os.environ if env is None else env
    given = env.get("DOCKER_CONFIG")
    return Path(given).expanduser() if given else Path(env.get("HOME") or Path.home()) / ".docker"


def current_name(env: Mapping[str, str] | None = None) -> str:
    """The context `docker context use` chose (config.json's currentContext), else `default`."""
    path = config_dir(env) / "config.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return DEFAULT
    except (OSError, ValueError) as exc:
        raise ContextError(f"{path} cannot be read: {exc}") from exc
    name = data.get("currentContext") if isinstance(data, dict) else None
    return str(name) if name else DEFAULT


@dataclass(frozen=True)
class DockerContext:
    name: str
    host: str
    """The engine address (`unix://…`, `tcp://…`, `ssh://…`); empty for `default` (DOCKER_HOST or the
    default socket decide)."""
    description: str = ""
    skip_tls_verify: bool = False
    tls_dir: Path | None = None
    """The folder with the endpoint's ca.pem, cert.pem, key.pem (any of them), if it has one."""

    def tls(self) -> TLSConfig | bool | None:
        """TLS for a tcp:// endpoint as the docker CLI sets it up: the context's CA and client certificate;
        no material and SkipTLSVerify: TLS without verification; neither: plain HTTP (None)."""
        if not self.host.startswith("tcp://"):
            return None
        files = {}
        if self.tls_dir is not None:
            files = {p.stem: str(p) for p in self.tls_dir.glob("*.pem") if p.stem in ("ca", "cert", "key")}
        if not files:
            from docker.tls import TLSConfig  # docker-py imported when first used (lazy.py)

            return TLSConfig(verify=False) if self.skip_tls_verify else None
        cert = (files["cert"], files["key"]) if "cert" in files and "key" in files else None
        verify = not self.skip_tls_verify
        from docker.tls import TLSConfig

        return TLSConfig(client_cert=cert, ca_cert=files.get("ca") if verify else None, verify=verify)


def _meta_root(env: Mapping[str, str] | None) -> Path:
    return config_dir(env) / "contexts" / "meta"


def context_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _from_meta(path: Path, env: Mapping[str, str] | None) -> DockerContext:
    try:
        data = json.loads(path.read_text())
        name = str(data["Name"])
        endpoint = data.get("Endpoints", {}).get("docker") or {}
        meta = data.get("Metadata") or {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ContextError(f"the docker context file {path} cannot be read: {exc}") from exc
    tls_dir = config_dir(env) / "contexts" / "tls" / context_id(name) / "docker"
    return DockerContext(
        name=name,
        host=str(endpoint.get("Host") or ""),
        description=str(meta.get("Description") or "") if isinstance(meta, dict) else "",
        skip_tls_verify=bool(endpoint.get("SkipTLSVerify", False)),
        tls_dir=tls_dir if tls_dir.is_dir() else None,
    )


def default_context() -> DockerContext:
    return DockerContext(DEFAULT, "", "Current DOCKER_HOST based configuration")


def load(name: str, env: Mapping[str, str] | None = None) -> DockerContext:
    """The context called `name`; raises ContextError when there is none."""
    if name == DEFAULT:
        return default_context()
    path = _meta_root(env) / context_id(name) / "meta.json"
    if not path.exists():
        raise ContextError(f"there is no docker context {name!r} (in {config_dir(env) / 'contexts'})")
    found = _from_meta(path, env)
    if not found.host:
        raise ContextError(f"the docker context {name!r} has no Docker endpoint")
    return found


def list_contexts(env: Mapping[str, str] | None = None) -> list[DockerContext]:
    """`default` first, then every context by name (unreadable ones are left out)."""
    found = []
    root = _meta_root(env)
    for path in sorted(root.glob("*/meta.json")) if root.is_dir() else []:
        try:
            context = _from_meta(path, env)
        except ContextError:
            continue
        if context.host:
            found.append(context)
    return [default_context(), *sorted(found, key=lambda c: c.name)]
