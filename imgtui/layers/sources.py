"""Where an image's layers come from: the engine (its `docker save` stream, after the cache), an archive
file, or (registry.py) a registry. Each returns an Analysis; each reads as little as the source allows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from imgtui.layers.analysis import analyze, commands_of
from imgtui.layers.cache import LayerCache
from imgtui.layers.model import Analysis, LayerIndex
from imgtui.layers.reading import Counted, LayerError, read_archive

Report = Callable[[int], None]
"""Bytes of the source read so far."""
Stop = Callable[[], bool]


def _never() -> bool:
    return False


def _quiet(done: int) -> None:
    pass


def from_stream(
    raw: IO[bytes], name: str | None = None, report: Report = _quiet, stop: Stop = _never
) -> tuple[list[LayerIndex], dict[str, Any]]:
    """One pass over an archive stream: the named image's layers (bottom first) and its config."""
    return read_archive(Counted(raw, report, stop)).image(name)  # type: ignore[arg-type]


def from_file(
    path: str | Path, name: str | None = None, report: Report = _quiet, stop: Stop = _never
) -> Analysis:
    """An archive file: `docker save`, `podman save`, or an OCI layout tar."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise LayerError(f"{source} does not exist" if not source.exists() else f"{source} is not a file")
    with source.open("rb") as raw:
        layers, config = from_stream(raw, name, report, stop)
    return analyze(name or source.name, layers, commands_of(config, len(layers)))


def from_engine(
    name: str,
    image: dict[str, Any],
    open_save: Callable[[], IO[bytes]],
    cache: LayerCache | None = None,
    report: Report = _quiet,
    stop: Stop = _never,
) -> Analysis:
    """An image of the engine: from the cache when every layer (by diff ID) and the config are there, else
    from the engine's save stream, read once and kept. `image` is the engine's inspect of it."""
    image_id = str(image.get("Id") or name)
    diff_ids = [str(d) for d in (image.get("RootFS") or {}).get("Layers") or ()]
    config = cache.get_config(image_id) if cache else None
    cached = [cache.get(d) for d in diff_ids] if cache and config is not None else []
    if config is not None and diff_ids and all(layer is not None for layer in cached):
        layers = [layer for layer in cached if layer is not None]
    else:
        raw = open_save()
        try:
            layers, config = from_stream(raw, name if name != image_id else None, report, stop)
        finally:
            raw.close()
        if cache is not None:
            for layer in layers:
                cache.put(layer.digest, layer)
            cache.put_config(image_id, config)
    return analyze(name, layers, commands_of(config, len(layers)))
