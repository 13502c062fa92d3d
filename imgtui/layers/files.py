"""One file out of one layer, streamed: the layer's tar is read until that member and only its bytes are
written out (never held whole); the rest of the source is not read.

Where the layer is depends on the source: a member of an archive stream (the engine's `docker save`, an
archive file: `Analysis.keys` names it, as the read found it) or a registry blob (its digest).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Optional

from imgtui.layers.reading import Cancelled, LayerError, _decompressed, normal_path, relative
from imgtui.layers.tarscan import Reader, Stream, TarError, scan

if TYPE_CHECKING:
    from imgtui.registry import Registry

CHUNK = 1 << 20
Stop = Callable[[], bool]
Extract = Callable[[int, str, IO[bytes], Stop, Optional[int]], int]
"""(layer index, path, out, stop, limit) -> the file's size: copies that file of that layer into `out` (at
most `limit` bytes when given). Made for an analysis by `from_archive_source` or `from_registry_blobs`."""


def _never() -> bool:
    return False


class NotFound(LayerError):
    """The layer holds no regular file at that path."""


def file_from_layer(raw: IO[bytes] | Stream, path: str, out: IO[bytes], stop: Stop = _never,
                    limit: int | None = None) -> int:  # fmt: skip
    """Copy the regular file at `path` (absolute) out of one layer tar (plain, gzip or zstd) into `out`;
    returns its size. With `limit`, at most that many bytes are copied (a preview)."""
    stream: Stream = raw if hasattr(raw, "skip") else Reader(raw)  # type: ignore[arg-type,assignment]
    try:
        for header, body in scan(_decompressed(stream)):
            if normal_path(header.name) != path:
                continue
            if not header.is_file:
                raise NotFound(f"{path} is not a regular file in this layer")
            left = header.size if limit is None else min(limit, header.size)
            while left > 0:
                if stop():
                    raise Cancelled()
                data = body.read(min(CHUNK, left))
                if not data:
                    raise LayerError(f"the layer ends inside {path}")
                out.write(data)
                left -= len(data)
            return header.size
    except TarError as exc:
        raise LayerError(f"the layer is not a readable tar: {exc}") from exc
    raise NotFound(f"{path} is not in this layer")


def file_from_archive(raw: IO[bytes], key: str, path: str, out: IO[bytes], stop: Stop = _never,
                      limit: int | None = None) -> int:  # fmt: skip
    """The same out of the layer that is member `key` of an image archive stream (`docker save`, OCI
    layout): the archive is read up to that member, no further."""
    try:
        for header, body in scan(Reader(raw)):
            if stop():
                raise Cancelled()
            if relative(header.name) == key and header.is_file:
                return file_from_layer(body, path, out, stop, limit)
    except TarError as exc:
        raise LayerError(f"not a readable image archive: {exc}") from exc
    raise LayerError(f"the image archive no longer holds layer {key}")


def from_archive_source(open_archive: Callable[[], IO[bytes]], keys: tuple[str, ...]) -> Extract:
    """Files out of an image archive opened anew for each (the engine's save stream, an archive file)."""

    def extract(layer: int, path: str, out: IO[bytes], stop: Stop, limit: int | None) -> int:
        if not 0 <= layer < len(keys):
            raise LayerError("where this layer is in its image was not recorded: open the contents again")
        raw = open_archive()
        try:
            return file_from_archive(raw, keys[layer], path, out, stop, limit)
        finally:
            raw.close()

    return extract


def from_registry_blobs(registry: Registry, repository: str, keys: tuple[str, ...]) -> Extract:
    """Files out of a registry's layer blobs: only the one blob is fetched, and only up to that file."""

    def extract(layer: int, path: str, out: IO[bytes], stop: Stop, limit: int | None) -> int:
        from imgtui.registry import RegistryError

        if not 0 <= layer < len(keys):
            raise LayerError(f"the image has no layer {layer}")
        try:
            raw = registry.blob(repository, keys[layer])
            try:
                return file_from_layer(raw, path, out, stop, limit)
            finally:
                raw.close()
        except RegistryError as exc:
            raise LayerError(str(exc)) from exc

    return extract
