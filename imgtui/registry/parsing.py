"""What a registry's answers mean: manifests of every kind, image configs and their history, as records."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from imgtui.registry.errors import RegistryError
from imgtui.registry.models import (
    INDEX_TYPES,
    SCHEMA1,
    SCHEMA1_PLAIN,
    ImageConfig,
    Manifest,
    Platform,
    RemoteLayer,
)


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:  # Go writes nanoseconds; Python reads up to microseconds
        head, _, tail = text.partition(".")
        digits = tail[: len(tail) - len(tail.lstrip("0123456789"))]
        zone = tail[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def platform_text(value: object) -> str:
    if not isinstance(value, dict):
        return "unknown"
    parts = [str(value.get("os") or "?"), str(value.get("architecture") or "?")]
    if value.get("variant"):
        parts.append(str(value["variant"]))
    return "/".join(parts)


def _items(value: object, what: str) -> list[Any]:
    """A list the JSON should hold (missing: empty); anything else is a RegistryError."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise RegistryError(f"{what} is not a list")
    return list(value)


def _object(value: object, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RegistryError(f"{what} is not an object")
    return value


def _size(value: object, what: str) -> int:
    """A size in bytes: a whole number, not negative (missing: 0)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RegistryError(f"{what} has the size {str(value)[:40]!r}, not a number of bytes")
    return value


def parse_manifest(digest: str, media: str, size: int, body: dict[str, Any]) -> Manifest:
    """A manifest's JSON as a record; a body of the wrong shape is a RegistryError that says where."""
    what = f"the manifest {digest[:19]}"
    if media in INDEX_TYPES:
        entries = tuple(
            Platform(
                str(m.get("digest", "")),
                str(m.get("mediaType", "")),
                _size(m.get("size"), f"{what}: an entry"),
                platform_text(m.get("platform")),
            )
            for m in _items(body.get("manifests"), f"{what}: its manifests")
            if isinstance(m, dict)
        )
        return Manifest(digest, media, size, platforms=entries)
    if media in (SCHEMA1, SCHEMA1_PLAIN):
        history = tuple(
            str(h.get("v1Compatibility", ""))
            for h in _items(body.get("history"), f"{what}: its history")
            if isinstance(h, dict)
        )
        layers = tuple(
            (str(fs.get("blobSum", "")), 0)
            for fs in reversed(_items(body.get("fsLayers"), f"{what}: its fsLayers"))
            if isinstance(fs, dict)
        )
        return Manifest(digest, media, size, layers=layers, schema1_history=history)
    config = _object(body.get("config"), f"{what}: its config")
    layers = tuple(
        (str(item.get("digest", "")), _size(item.get("size"), f"{what}: a layer"))
        for item in _items(body.get("layers"), f"{what}: its layers")
        if isinstance(item, dict)
    )
    return Manifest(digest, media, size, config_digest=str(config.get("digest", "")), layers=layers)


def parse_history(entries: Any, layers: tuple[tuple[str, int], ...]) -> tuple[RemoteLayer, ...]:
    """Pair each history entry that made a layer with the manifest's layers, in order."""
    out: list[RemoteLayer] = []
    pending = list(layers)
    for entry in _items(entries, "the image config's history"):
        if not isinstance(entry, dict):
            continue
        made = not entry.get("empty_layer")
        digest, size = pending.pop(0) if made and pending else ("", 0)
        out.append(
            RemoteLayer(
                parse_time(entry.get("created")),
                str(entry.get("created_by", "")),
                str(entry.get("comment", "")),
                size if made else None,
                digest,
            )
        )
    for digest, size in pending:  # layers without history (e.g. `docker import` leaves none)
        out.append(RemoteLayer(None, "", "", size, digest))
    return tuple(reversed(out))


def schema1_config(manifest: Manifest) -> ImageConfig:
    rows, created, platform = [], None, "unknown"
    for n, text in enumerate(manifest.schema1_history):
        try:
            entry = json.loads(text)
        except (ValueError, RecursionError):
            entry = {}
        if not isinstance(entry, dict):
            entry = {}
        container = entry.get("container_config")
        cmd = container.get("Cmd") if isinstance(container, dict) else None
        if n == 0:
            created = parse_time(entry.get("created"))
            platform = f"{entry.get('os', '?')}/{entry.get('architecture', '?')}"
        when, comment = parse_time(entry.get("created")), str(entry.get("comment", ""))
        command = " ".join(str(part) for part in cmd) if isinstance(cmd, list) else str(cmd or "")
        rows.append(RemoteLayer(when, command, comment, None))
    return ImageConfig(manifest.digest, created, platform, tuple(rows))
