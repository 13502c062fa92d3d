"""Reading layers and image archives as streams of tar headers: file contents are skipped as the stream
passes, never hashed, never written anywhere.

- `read_layer`: one layer tar, plain, gzip or zstd (told by its first bytes), into a LayerIndex.
- `read_archive`: a whole image archive, as `docker save`, `podman save` or an OCI layout tar give it (the
  engine's `GET /images/{name}/get` is one too): every layer read once as it passes, the small JSON files
  kept; `Archive.image()` then puts the layers in order from `manifest.json`, else from `index.json`.
"""

from __future__ import annotations

import json
import posixpath
import zlib
from collections.abc import Callable
from typing import IO, Any

from imgtui.layers.model import Entry, Kind, LayerIndex
from imgtui.layers.tarscan import BLOCK, Inflated, Reader, Stream, TarError, is_header, peek, scan

BUFFER = 1 << 20
GZIP = b"\x1f\x8b"
ZSTD = b"\x28\xb5\x2f\xfd"
JSON_LIMIT = 16 << 20
"""A manifest, index or config bigger than this is not one."""
NESTING = 8
"""An index that leads to indexes deeper than this is a loop (or no image)."""
KINDS = {
    b"0": Kind.FILE, b"\0": Kind.FILE, b"7": Kind.FILE, b"5": Kind.DIR, b"2": Kind.SYMLINK,
    b"1": Kind.HARDLINK, b"3": Kind.DEVICE, b"4": Kind.DEVICE, b"6": Kind.FIFO,
}  # fmt: skip


class LayerError(Exception):
    """A layer or archive could not be read; the message says why, in words."""


class Cancelled(Exception):
    """The reader was asked to stop."""


def _shaped(value: Any, kind: type, what: str) -> Any:
    """`value` when it is a `kind` (list or dict; missing: an empty one), else a LayerError."""
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise LayerError(f"not an image archive: {what} is not {'a list' if kind is list else 'an object'}")
    return value


def _digest(descriptor: Any, what: str) -> str:
    digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
    if not isinstance(digest, str):
        raise LayerError(f"not an image archive: {what} names no digest")
    return digest


class Counted:
    """A stream that says how far it is (`report(bytes)`, every megabyte or so) and stops when asked."""

    def __init__(self, raw: IO[bytes], report: Callable[[int], None], stop: Callable[[], bool]) -> None:
        self._raw = raw
        self._report = report
        self._stop = stop
        self.done = 0
        self._told = 0

    def seekable(self) -> bool:
        return bool(getattr(self._raw, "seekable", lambda: False)())

    def seek(self, offset: int, whence: int = 0) -> int:
        """Forward from where it is (a file whose known layers are passed without reading them)."""
        if self._stop():
            raise Cancelled()
        position = self._raw.seek(offset, whence)
        self.done += offset if whence == 1 else 0
        return position

    def read(self, size: int = -1) -> bytes:
        if self._stop():
            raise Cancelled()
        data = self._raw.read(size)
        self.done += len(data)
        if self.done - self._told >= BUFFER or not data:
            self._told = self.done
            self._report(self.done)
        return data


def _zstd() -> Any:
    """A zstd decompressor object: Python 3.14's own, else the zstandard package's."""
    try:
        from compression import zstd  # type: ignore[import-not-found]

        return zstd.ZstdDecompressor()
    except ImportError:
        pass
    try:
        import zstandard  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise LayerError("this layer is zstd-compressed: install the zstandard package to read it") from exc
    return zstandard.ZstdDecompressor().decompressobj()


def _decompressed(stream: Stream) -> Stream:
    head, whole = peek(stream, 4)
    if head.startswith(GZIP):
        return Inflated(whole)
    if head.startswith(ZSTD):
        _zstd()  # says so now if it cannot be read
        return Inflated(whole, make=_zstd)
    return whole


def relative(name: str) -> str:
    """A member name without its leading `./` (not the dot of `.bashrc`)."""
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def normal_path(name: str) -> str:
    """A tar member name as an absolute path: `./usr/bin/` -> `/usr/bin`, `.` -> `/`."""
    path = "/" + relative(name)
    if "/." in path or "//" in path:  # `.`, `..` or an empty component somewhere (or a dot file)
        return posixpath.normpath(path)
    return path[:-1] if path.endswith("/") and len(path) > 1 else path


def read_layer(raw: IO[bytes] | Stream, digest: str) -> LayerIndex:
    """Every header of one layer tar (plain, gzip or zstd): entries, whiteouts and opaque directories."""
    stream: Stream = raw if hasattr(raw, "skip") else Reader(raw)  # type: ignore[arg-type,assignment]
    entries: list[Entry] = []
    removed: list[str] = []
    opaque: list[str] = []
    try:
        for header, _ in scan(_decompressed(stream)):
            path = normal_path(header.name)
            if path == "/":
                continue
            parent, base = posixpath.split(path)
            if base == ".wh..wh..opq":
                opaque.append(parent)
            elif base.startswith(".wh."):
                removed.append(posixpath.join(parent, base[4:]))
            else:
                kind = KINDS.get(header.type, Kind.FILE)
                target = header.linkname if kind in (Kind.SYMLINK, Kind.HARDLINK) else ""
                if kind is Kind.HARDLINK:
                    target = normal_path(target)
                size = header.size if kind is Kind.FILE else 0
                entries.append(Entry(path, kind, size, header.mode, header.uid, header.gid, target))
    except (TarError, zlib.error, ValueError, OSError, EOFError) as exc:
        raise LayerError(f"layer {digest[:19]} is not a readable tar: {exc}") from exc
    return LayerIndex(digest, tuple(entries), tuple(removed), tuple(opaque))


class Archive:
    """What one pass over an image archive found: each layer's index by its member path, the JSON files."""

    def __init__(self) -> None:
        self.layers: dict[str, LayerIndex] = {}
        self.json: dict[str, Any] = {}
        self.links: dict[str, str] = {}
        """A member that is a link to another (docker save links layers it holds twice)."""
        self.known: set[str] = set()
        """Members passed unread: their layers came from the cache."""

    def layer(self, key: str) -> LayerIndex:
        key = self.links.get(key, key)
        if key not in self.layers:
            raise LayerError(f"the archive names {key} but does not hold it")
        return self.layers[key]

    def image(self, name: str | None = None) -> tuple[list[LayerIndex], dict[str, Any], list[str]]:
        """The layers of the archive's image (the one named `name`, else the first), bottom first, with
        their diff IDs as digests; the image config; and the member holding each layer (links followed)."""
        manifest = self.json.get("manifest.json")
        images = [m for m in manifest if isinstance(m, dict)] if isinstance(manifest, list) else []
        if images:
            tagged = (
                m for m in images if name and isinstance(m.get("RepoTags"), list) and name in m["RepoTags"]
            )
            chosen = next(tagged, images[0])
            keys = [str(k) for k in _shaped(chosen.get("Layers"), list, "manifest.json's Layers")]
            config = self._blob_json(str(chosen.get("Config") or ""))
        elif isinstance(self.json.get("index.json"), dict):
            target = self._pick_manifest(self.json["index.json"], name)
            layers_of = _shaped(target.get("layers"), list, "the image manifest's layers")
            keys = [self._blob_key(_digest(layer, "a layer of the image manifest")) for layer in layers_of]
            config = self._blob_json(
                self._blob_key(_digest(target.get("config"), "the image manifest's config"))
            )
        else:
            raise LayerError("not an image archive: no manifest.json and no index.json")
        layers = [self.layer(k) for k in keys]
        keys = [self.links.get(k, k) for k in keys]
        rootfs = _shaped(config.get("rootfs"), dict, "the image config's rootfs")
        diff_ids = _shaped(rootfs.get("diff_ids"), list, "the image config's diff_ids")
        if len(diff_ids) == len(layers):
            layers = [
                LayerIndex(str(d), la.entries, la.removed, la.opaque) for d, la in zip(diff_ids, layers)
            ]
        return layers, config, keys

    def _pick_manifest(self, index: dict[str, Any], name: str | None, depth: int = 0) -> dict[str, Any]:
        listed = _shaped(index.get("manifests"), list, "the index's manifests")
        entries = [m for m in listed if isinstance(m, dict)]
        if not entries:
            raise LayerError("index.json lists no image")
        if depth > NESTING:
            raise LayerError("not an image archive: its indexes lead to each other, never to an image")
        names = ("org.opencontainers.image.ref.name", "io.containerd.image.name")
        chosen = next(
            (
                m
                for m in entries
                if name
                and isinstance(m.get("annotations"), dict)
                and any(name in str(m["annotations"].get(k, "")) for k in names)
            ),
            entries[0],
        )
        body = self._blob_json(self._blob_key(_digest(chosen, "an entry of the index")))
        if "manifests" in body:  # an index: the first image manifest that is not an attestation
            return self._pick_manifest(body, None, depth + 1)
        return body

    @staticmethod
    def _blob_key(digest: str) -> str:
        algorithm, _, hexa = digest.partition(":")
        return f"blobs/{algorithm}/{hexa}"

    def _blob_json(self, key: str) -> dict[str, Any]:
        found = self.json.get(key)
        if not isinstance(found, dict):
            raise LayerError(f"the archive does not hold {key} as JSON")
        return found


def read_archive(raw: IO[bytes], known: Callable[[str], LayerIndex | None] | None = None) -> Archive:
    """One pass over an image archive: layers read as they pass, JSON files kept, everything else skipped.
    `known(member)` gives a layer indexed before (the cache): that member is passed unread (sought past in a
    file; in a stream its bytes go by without being inflated or parsed)."""
    archive = Archive()
    try:
        for header, member in scan(Reader(raw)):
            key = relative(header.name)
            if header.type in (b"1", b"2"):
                archive.links[key] = posixpath.normpath(
                    posixpath.join(posixpath.dirname(key), header.linkname)
                )
                continue
            if not header.is_file or not header.size:
                continue
            head, body = peek(member, 1)
            is_json = key.endswith(".json") or key == "repositories"
            if key.startswith("blobs/") and head == b"{":  # JSON, or a layer whose first name starts so
                head, body = peek(body, BLOCK)
                is_json = not is_header(head)
            if is_json:
                if header.size <= JSON_LIMIT:
                    try:
                        archive.json[key] = json.loads(body.read(header.size))
                    except (ValueError, RecursionError):
                        pass
            elif key.endswith(".tar") or key.startswith("blobs/"):  # docker: N/layer.tar; podman: HEX.tar
                found = known(key) if known is not None else None
                archive.layers[key] = found if found is not None else read_layer(body, key)
                if found is not None:
                    archive.known.add(key)
    except TarError as exc:
        raise LayerError(f"not a readable image archive: {exc}") from exc
    for key, target in list(archive.links.items()):
        if target in archive.layers:
            archive.layers.setdefault(key, archive.layers[target])
    return archive
