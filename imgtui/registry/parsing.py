"""What a registry's answers mean: manifests of every kind, image configs and their history, as records."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

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


def parse_manifest(digest: str, media: str, size: int, body: dict[str, Any]) -> Manifest:
    if media in INDEX_TYPES:
        entries = tuple(
            Platform(
                str(m.get("digest", "")),
                str(m.get("mediaType", "")),
                int(m.get("size") or 0),
                platform_text(m.get("platform")),
            )
            for m in body.get("manifests") or ()
            if isinstance(m, dict)
        )
        return Manifest(digest, media, size, platforms=entries)
    if media in (SCHEMA1, SCHEMA1_PLAIN):
        history = tuple(str(h.get("v1Compatibility", "")) for h in body.get("history") or ())
        layers = tuple((str(fs.get("blobSum", "")), 0) for fs in reversed(body.get("fsLayers") or ()))
        return Manifest(digest, media, size, layers=layers, schema1_history=history)
    config = body.get("config") or {}
    layers = tuple(
        (str(item.get("digest", "")), int(item.get("size") or 0))
        for item in body.get("layers") or ()
        if isinstance(item, dict)
    )
    return Manifest(digest, media, size, config_digest=str(config.get("digest", "")), layers=layers)


def parse_history(entries: Any, layers: tuple[tuple[str, int], ...]) -> tuple[RemoteLayer, ...]:
    """Pair each history entry that made a layer with the manifest's layers, in order."""
    out: list[RemoteLayer] = []
    pending = list(layers)
    for entry in entries:
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
        except ValueError:
            entry = {}
        cmd = (entry.get("container_config") or {}).get("Cmd") or []
        if n == 0:
            created = parse_time(entry.get("created"))
            platform = f"{entry.get('os', '?')}/{entry.get('architecture', '?')}"
        when, comment = parse_time(entry.get("created")), str(entry.get("comment", ""))
        rows.append(RemoteLayer(when, " ".join(cmd), comment, None))
    return ImageConfig(manifest.digest, created, platform, tuple(rows))
