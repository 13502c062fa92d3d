"""Where an image's layers come from: the engine (its `docker save` stream, after the cache), an archive
file, or (registry.py) a registry. Each returns an Analysis; each reads as little as the source allows."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from imgtui.layers.analysis import analyze, commands_of
from imgtui.layers.cache import LayerCache
from imgtui.layers.model import Analysis, LayerIndex
from imgtui.layers.reading import Cancelled, Counted, LayerError, read_archive, read_layer

if TYPE_CHECKING:
    from imgtui.registry import Registry

Report = Callable[[int], None]
"""Bytes of the source read so far."""
Stop = Callable[[], bool]


def _never() -> bool:
    return False


def _quiet(done: int) -> None:
    pass


def _after(report: Report, before: int, done: int) -> None:
    """Progress within one of several blobs, as bytes of them all."""
    report(before + done)


def from_stream(
    raw: IO[bytes],
    name: str | None = None,
    report: Report = _quiet,
    stop: Stop = _never,
    cache: LayerCache | None = None,
) -> tuple[list[LayerIndex], dict[str, Any], list[str]]:
    """One pass over an archive stream: the named image's layers (bottom first), its config, and the member
    holding each layer. With a cache, layers it holds are passed unread and the ones read are kept."""
    archive = read_archive(Counted(raw, report, stop), cache.known if cache else None)  # type: ignore[arg-type]
    layers, config, keys = archive.image(name)
    if cache is not None:
        for key, layer in zip(keys, layers):
            if key not in archive.known:
                cache.put(layer.digest, layer)
            if layer.digest.startswith("sha256:"):
                cache.put_member(key, layer.digest)
    return layers, config, keys


def from_file(
    path: str | Path,
    name: str | None = None,
    report: Report = _quiet,
    stop: Stop = _never,
    cache: LayerCache | None = None,
) -> Analysis:
    """An archive file: `docker save`, `podman save`, or an OCI layout tar. Layers the cache holds are
    sought past, not read."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise LayerError(f"{source} does not exist" if not source.exists() else f"{source} is not a file")
    with source.open("rb") as raw:
        layers, config, keys = from_stream(raw, name, report, stop, cache)
    return analyze(name or source.name, layers, commands_of(config, len(layers)), keys)


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
    keys = cache.get_keys(image_id) if cache and config is not None else None
    if cache and config is not None and keys is not None and diff_ids:
        commands = commands_of(config, len(diff_ids))
        stored = cache.get_analysis(image_id, name, diff_ids, commands, keys)
        if stored is not None:
            return stored
    cached = [cache.get(d) for d in diff_ids] if cache and keys is not None else []
    if config is not None and keys is not None and diff_ids and all(layer is not None for layer in cached):
        layers = [layer for layer in cached if layer is not None]
    else:
        raw = open_save()
        try:
            layers, config, keys = from_stream(raw, name if name != image_id else None, report, stop, cache)
        finally:
            raw.close()
        if cache is not None:
            cache.put_config(image_id, config)
            cache.put_keys(image_id, keys)
    analysis = analyze(name, layers, commands_of(config, len(layers)), keys)
    if cache is not None and len(layers) == len(diff_ids):
        cache.put_analysis(image_id, analysis)
    return analysis


def from_registry(
    registry: Registry,
    repository: str,
    reference: str,
    cache: LayerCache | None = None,
    report: Report = _quiet,
    stop: Stop = _never,
) -> Analysis:
    """An image in a registry, without pulling it into any engine: its manifest and config, then each layer
    blob streamed and decompressed on the fly, unless the cache has that layer (by diff ID) already, from
    this registry or from an engine. `reference` is a tag or a manifest digest (one platform of an index)."""
    from imgtui.registry import RegistryError

    name = f"{registry.host}/{repository}{'@' if reference.startswith('sha256:') else ':'}{reference}"
    try:
        manifest = registry.manifest(repository, reference)
        if manifest.is_index:
            raise LayerError(f"{name} is an index of platforms: pick one of them")
        if manifest.schema1_history or not manifest.config_digest:
            raise LayerError(f"{name} is a schema 1 manifest: its layers cannot be told apart")
        config = registry.config_body(repository, manifest)
        rootfs = config.get("rootfs")
        listed = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        diff_ids = [str(d) for d in listed] if isinstance(listed, list) else []
        if len(diff_ids) != len(manifest.layers):
            raise LayerError(
                f"{name}: the config names {len(diff_ids)} layers, the manifest {len(manifest.layers)}"
            )
        found = [cache.get(diff_id) if cache else None for diff_id in diff_ids]
        wanted = [(n, diff_id, blob) for n, (diff_id, (blob, _)) in enumerate(zip(diff_ids, manifest.layers))
                  if found[n] is None]  # fmt: skip
        already = sum(size for n, (_, size) in enumerate(manifest.layers) if found[n] is not None)
        keep = cache.put if cache is not None else None
        for n, layer in _read_blobs(registry, repository, wanted, keep, partial(_after, report, already),
                                    stop).items():  # fmt: skip
            found[n] = layer
        if cache is not None:  # the same blob in an engine's OCI-layout save is then passed unread
            for diff_id, (blob, _) in zip(diff_ids, manifest.layers):
                cache.put_member("blobs/" + blob.replace(":", "/", 1), diff_id)
        layers = [layer for layer in found if layer is not None]
    except RegistryError as exc:
        raise LayerError(str(exc)) from exc
    return analyze(name, layers, commands_of(config, len(layers)), [blob for blob, _ in manifest.layers])


BLOB_READERS = 4
"""Layer blobs read at once from a registry: inflating gzip is the work (the fetch is quick on a near
registry), and zlib lets other threads run while it inflates, so each core gets a layer."""


def _read_blobs(registry: Registry, repository: str, wanted: list[tuple[int, str, str]],
                keep: Callable[[str, LayerIndex], None] | None, report: Report,
                stop: Stop) -> dict[int, LayerIndex]:  # fmt: skip
    """Read the `wanted` (position, diff ID, blob digest) layers, up to BLOB_READERS at once (no more than
    the cores), each given to `keep` (the cache) as it is done; progress is the bytes of them all. The first
    failure stops the others and is raised."""
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor

    done: dict[int, int] = {}
    lock = threading.Lock()
    failed = threading.Event()

    def progressed(n: int, count: int) -> None:
        with lock:
            done[n] = count
            total = sum(done.values())
        report(total)

    def stopped() -> bool:
        return failed.is_set() or stop()

    def read(n: int, diff_id: str, blob: str) -> LayerIndex:
        try:
            raw = registry.blob(repository, blob)
            try:
                layer = read_layer(Counted(raw, partial(progressed, n), stopped), diff_id)  # type: ignore[arg-type]
            finally:
                raw.close()
            if keep is not None:
                keep(diff_id, layer)
            return layer
        except BaseException:
            failed.set()
            raise

    if len(wanted) <= 1:
        return {n: read(n, diff_id, blob) for n, diff_id, blob in wanted}
    workers = max(1, min(BLOB_READERS, len(wanted), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="imgtui-blob") as pool:
        futures = {n: pool.submit(read, n, diff_id, blob) for n, diff_id, blob in wanted}
    errors = [f.exception() for f in futures.values() if f.exception() is not None]
    first = next((e for e in errors if not isinstance(e, Cancelled)), errors[0] if errors else None)
    if first is not None:
        raise first
    return {n: f.result() for n, f in futures.items()}
