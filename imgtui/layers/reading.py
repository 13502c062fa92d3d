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
import tarfile
from collections.abc import Callable
from typing import IO, Any

from imgtui.layers.model import Entry, Kind, LayerIndex

BUFFER = 1 << 20
GZIP = b"\x1f\x8b"
ZSTD = b"\x28\xb5\x2f\xfd"
JSON_LIMIT = 16 << 20
"""A manifest, index or config bigger than this is not one."""
KINDS = {
    tarfile.REGTYPE: Kind.FILE,
    tarfile.AREGTYPE: Kind.FILE,
    tarfile.CONTTYPE: Kind.FILE,
    tarfile.DIRTYPE: Kind.DIR,
    tarfile.SYMTYPE: Kind.SYMLINK,
    tarfile.LNKTYPE: Kind.HARDLINK,
    tarfile.CHRTYPE: Kind.DEVICE,
    tarfile.BLKTYPE: Kind.DEVICE,
    tarfile.FIFOTYPE: Kind.FIFO,
}


class LayerError(Exception):
    """A layer or archive could not be read; the message says why, in words."""


class Cancelled(Exception):
    """The reader was asked to stop."""


class _Prefixed:
    """A stream with its first bytes read ahead and given back first."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            if len(data) < size:
                data += self._rest.read(size - len(data))
            return data
        return self._rest.read(size)


class Counted:
    """A stream that says how far it is (`report(bytes)`, every megabyte or so) and stops when asked."""

    def __init__(self, raw: IO[bytes], report: Callable[[int], None], stop: Callable[[], bool]) -> None:
        self._raw = raw
        self._report = report
        self._stop = stop
        self.done = 0
        self._told = 0

    def read(self, size: int = -1) -> bytes:
        if self._stop():
            raise Cancelled()
        data = self._raw.read(size)
        self.done += len(data)
        if self.done - self._told >= BUFFER or not data:
            self._told = self.done
            self._report(self.done)
        return data


def _decompressed(raw: IO[bytes]) -> IO[bytes]:
    head = raw.read(4)
    stream = _Prefixed(head, raw)
    if head.startswith(ZSTD):
        try:
            from compression import zstd  # type: ignore[import-not-found]  # Python 3.14

            return zstd.ZstdFile(stream)  # type: ignore[no-any-return]
        except ImportError:
            pass
        try:
            import zstandard  # type: ignore[import-not-found,import-untyped,unused-ignore]
        except ImportError as exc:
            raise LayerError(
                "this layer is zstd-compressed: install the zstandard package to read it"
            ) from exc
        return zstandard.ZstdDecompressor().stream_reader(stream)  # type: ignore[no-any-return]
    return stream  # type: ignore[return-value]


def relative(name: str) -> str:
    """A member name without its leading `./` (not the dot of `.bashrc`)."""
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def normal_path(name: str) -> str:
    """A tar member name as an absolute path: `./usr/bin/` -> `/usr/bin`, `.` -> `/`."""
    return posixpath.normpath("/" + relative(name))


def read_layer(raw: IO[bytes], digest: str) -> LayerIndex:
    """Every header of one layer tar (plain, gzip or zstd): entries, whiteouts and opaque directories."""
    entries: list[Entry] = []
    removed: list[str] = []
    opaque: list[str] = []
    try:
        with tarfile.open(fileobj=_decompressed(raw), mode="r|*", bufsize=BUFFER) as tar:  # type: ignore[call-overload]
            for member in tar:
                path = normal_path(member.name)
                if path == "/":
                    continue
                parent, base = posixpath.split(path)
                if base == ".wh..wh..opq":
                    opaque.append(parent)
                elif base.startswith(".wh."):
                    removed.append(posixpath.join(parent, base[4:]))
                else:
                    kind = KINDS.get(member.type, Kind.FILE)
                    target = member.linkname if kind in (Kind.SYMLINK, Kind.HARDLINK) else ""
                    if kind is Kind.HARDLINK:
                        target = normal_path(target)
                    size = member.size if kind is Kind.FILE else 0
                    entries.append(Entry(path, kind, size, member.mode, member.uid, member.gid, target))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LayerError(f"layer {digest[:19]} is not a readable tar: {exc}") from exc
    return LayerIndex(digest, tuple(entries), tuple(removed), tuple(opaque))


class Archive:
    """What one pass over an image archive found: each layer's index by its member path, the JSON files."""

    def __init__(self) -> None:
        self.layers: dict[str, LayerIndex] = {}
        self.json: dict[str, Any] = {}
        self.links: dict[str, str] = {}
        """A member that is a link to another (docker save links layers it holds twice)."""

    def layer(self, key: str) -> LayerIndex:
        key = self.links.get(key, key)
        if key not in self.layers:
            raise LayerError(f"the archive names {key} but does not hold it")
        return self.layers[key]

    def image(self, name: str | None = None) -> tuple[list[LayerIndex], dict[str, Any]]:
        """The layers of the archive's image (the one named `name`, else the first), bottom first, with
        their diff IDs as digests, and the image config."""
        manifest = self.json.get("manifest.json")
        if isinstance(manifest, list) and manifest:
            chosen = next((m for m in manifest if name and name in (m.get("RepoTags") or ())), manifest[0])
            keys = [str(k) for k in chosen.get("Layers") or ()]
            config = self._blob_json(str(chosen.get("Config") or ""))
        elif isinstance(self.json.get("index.json"), dict):
            target = self._pick_manifest(self.json["index.json"], name)
            keys = [self._blob_key(layer["digest"]) for layer in target.get("layers") or ()]
            config = self._blob_json(self._blob_key(target.get("config", {}).get("digest", "")))
        else:
            raise LayerError("not an image archive: no manifest.json and no index.json")
        layers = [self.layer(k) for k in keys]
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        if len(diff_ids) == len(layers):
            layers = [
                LayerIndex(str(d), la.entries, la.removed, la.opaque) for d, la in zip(diff_ids, layers)
            ]
        return layers, config

    def _pick_manifest(self, index: dict[str, Any], name: str | None) -> dict[str, Any]:
        entries = [m for m in index.get("manifests") or () if isinstance(m, dict)]
        if not entries:
            raise LayerError("index.json lists no image")
        names = ("org.opencontainers.image.ref.name", "io.containerd.image.name")
        chosen = next(
            (
                m
                for m in entries
                if name and any(name in str((m.get("annotations") or {}).get(k, "")) for k in names)
            ),
            entries[0],
        )
        body = self._blob_json(self._blob_key(chosen["digest"]))
        if "manifests" in body:  # an index: the first image manifest that is not an attestation
            return self._pick_manifest(body, None)
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


def read_archive(raw: IO[bytes]) -> Archive:
    """One pass over an image archive: layers read as they pass, JSON files kept, everything else skipped."""
    archive = Archive()
    try:
        with tarfile.open(fileobj=raw, mode="r|", bufsize=BUFFER) as tar:  # type: ignore[call-overload]
            for member in tar:
                key = relative(member.name)
                if member.issym() or member.islnk():
                    archive.links[key] = posixpath.normpath(
                        posixpath.join(posixpath.dirname(key), member.linkname)
                    )
                    continue
                if not member.isfile():
                    continue
                body = tar.extractfile(member)
                if body is None:
                    continue
                head = body.read(1) if member.size else b""
                if (
                    key.endswith(".json")
                    or (key.startswith("blobs/") and head == b"{")
                    or key == "repositories"
                ):
                    if member.size > JSON_LIMIT:
                        continue
                    try:
                        archive.json[key] = json.loads(head + body.read())
                    except ValueError:
                        continue
                elif key.endswith("layer.tar") or key.startswith("blobs/"):
                    archive.layers[key] = read_layer(_Prefixed(head, body), key)  # type: ignore[arg-type]
    except (tarfile.TarError, EOFError) as exc:
        raise LayerError(f"not a readable image archive: {exc}") from exc
    for key, target in list(archive.links.items()):
        if target in archive.layers:
            archive.layers.setdefault(key, archive.layers[target])
    return archive
