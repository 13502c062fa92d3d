"""Check an image name the way the engine will (distribution's reference grammar), before sending it, so a
bad name gets a sentence instead of an engine error. docker-py only splits names; it does not validate."""

from __future__ import annotations

import re
from collections.abc import Callable

from imgtui.engine.models import parse_repository_tag

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN = re.compile(
    r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"(?::[0-9]+)?"
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")  # ASCII, as the engine's (Go's) \w
_ID = re.compile(r"[a-f0-9]{64}")
FORMAT = "[registry[:port]/][namespace/]name[:tag]"


def _shown(text: str, most: int = 40) -> str:
    """Part of the input, quoted, in a complaint: cut short so that the reason after it stays on screen."""
    return repr(text if len(text) <= most else text[: most - 1] + "…")


class BadReference(ValueError):
    """The name is not one the engine accepts; the message says why, in words."""


def validate(text: str) -> tuple[str, str]:
    """`(repository, tag)` for a name the engine will accept; no tag means `latest`."""
    name = text.strip()
    if not name:
        raise BadReference(f"type a name: {FORMAT}")
    if any(ch.isspace() for ch in name):
        raise BadReference("a name cannot contain spaces")
    if "@" in name:
        raise BadReference("a digest (@sha256:...) cannot be used as a new name; give a tag instead")
    repo, tag = parse_repository_tag(name)
    if tag == "":
        raise BadReference("the tag after ':' is empty (leave out the ':' to mean latest)")
    if tag is not None and len(tag) > 128:
        raise BadReference(f"the tag is {len(tag)} characters long: at most 128")
    if tag is not None and not _TAG.fullmatch(tag):
        raise BadReference(
            f"tag {_shown(tag)} is not valid: use letters, digits, '_', '.' and '-' (not first), "
            "at most 128 characters"
        )
    if not repo:
        raise BadReference(f"the repository part is empty: {FORMAT}")
    if len(repo) > 255:
        raise BadReference("the repository name is longer than 255 characters")
    if _ID.fullmatch(repo):
        raise BadReference(
            "a repository name of 64 hex digits reads as an image ID: add a namespace or a letter"
        )
    parts = repo.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        if not _DOMAIN.fullmatch(first):
            raise BadReference(f"registry {_shown(first)} is not a valid host[:port]")
        parts = parts[1:]
    for part in parts:
        if not part:
            raise BadReference(
                f"{_shown(repo)} has an empty path component (two '/' in a row, or one at an end)"
            )
        if part != part.lower() and _COMPONENT.fullmatch(part.lower()):
            raise BadReference(f"repository names must be lowercase: {_shown(part)}")
        if not _COMPONENT.fullmatch(part):
            raise BadReference(
                f"{_shown(part)} is not a valid name component: use lowercase letters and digits, "
                "separated by '.', '_', '__' or '-'"
            )
    return repo, tag or "latest"


_DIGEST = re.compile(r"sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}")
"""The digests the engine takes: a known algorithm and exactly its number of lowercase hex digits."""


def validate_pull(text: str) -> tuple[str, str]:
    """`(repository, tag or digest)` of something to pull: a name as `validate` takes it, or
    `NAME@sha256:...` (one platform of a multi-platform image, as the registry view offers it)."""
    name = text.strip()
    if "@" not in name:
        return validate(name)
    repo, _, digest = name.rpartition("@")
    if not _DIGEST.fullmatch(digest):
        raise BadReference(f"{_shown(digest)} is not a digest (sha256: and 64 lowercase hex digits)")
    if ":" in repo.rsplit("/", 1)[-1]:
        raise BadReference("give a tag or a digest, not both")
    return validate(repo)[0], digest


def problem(text: str, check: Callable[[str], object] = validate) -> str | None:
    """The check's complaint (validate's by default) as a sentence for a dialog, or None when it will do."""
    try:
        check(text)
    except BadReference as bad:
        return str(bad)
    return None


def pull_problem(text: str) -> str | None:
    return problem(text, validate_pull)


def resolve_repository_name(name: str) -> tuple[str, str]:
    """docker-py's `docker.auth.resolve_repository_name`: (the registry's host, the rest of the name), with
    `docker.io` for Docker Hub. docker-py is imported when this is first called (imgtui/engine/lazy.py)."""
    from docker.auth import resolve_repository_name as resolve

    host, rest = resolve(name)
    return str(host), str(rest)


def names_a_registry(repository: str) -> bool:
    """Whether a repository's name starts with a registry's host (`127.0.0.1:5000/app`, `ghcr.io/x/y`,
    `localhost/app`) rather than naming one on Docker Hub: docker-py's rule (split_repo_name), without
    importing docker-py, for a check made on every cursor move (tests/test_properties.py: the same answer
    as resolve_repository_name for any name)."""
    first, slash, _ = repository.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")
