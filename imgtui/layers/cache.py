"""Layer indexes kept on disk by digest, so that an image whose layers were read once opens without reading
them again, and an image on the same base reads only its own layers where the source allows it.

One file per layer under `$XDG_CACHE_HOME/imgtui/layers` (or `IMGTUI_CACHE`), gzip'd JSON in columns, and
one per image config.
A file is written beside its final name and renamed into place, so readers never see half of one and a
killed write leaves only a temporary file (swept later); two runs writing the same layer write the same
bytes. The folder is kept under a size (`IMGTUI_CACHE_MB`, default 1024): least recently used go first.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
import time
from collections.abc import Sequence
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

from imgtui.layers.model import (
    COUNTED,
    Analysis,
    Change,
    Changed,
    Changes,
    Entry,
    Kind,
    Layer,
    LayerIndex,
    Wasted,
)
from imgtui.layers.reading import LayerError

KIND_CODES = {Kind.FILE: "f", Kind.DIR: "d", Kind.SYMLINK: "s", Kind.HARDLINK: "h", Kind.DEVICE: "c",
              Kind.FIFO: "p"}  # fmt: skip
CODE_KINDS = {v: k for k, v in KIND_CODES.items()}
STALE_TEMP = 3600.0
ADDRESSED = re.compile(r"(^|/)[0-9a-f]{64}(/|\.|$)")


def default_folder() -> Path:
    if os.environ.get("IMGTUI_CACHE"):
        return Path(os.environ["IMGTUI_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "imgtui" / "layers"


class LayerCache:
    def __init__(self, folder: Path | None = None, limit_bytes: int | None = None) -> None:
        self.folder = folder or default_folder()
        megabytes = int(os.environ.get("IMGTUI_CACHE_MB") or 1024)
        self.limit = limit_bytes if limit_bytes is not None else megabytes << 20

    def _path(self, key: str, kind: str = "layer") -> Path:
        return self.folder / f"{kind}-{key.replace(':', '-').replace('/', '_')}.json.gz"

    def _read(self, path: Path) -> Any:
        try:
            data = json.loads(gzip.decompress(path.read_bytes()))
            os.utime(path)  # recently used
        except (OSError, ValueError, EOFError, RecursionError):
            return None
        return data

    def _write(self, path: Path, value: Any) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            body = gzip.compress(json.dumps(value, separators=(",", ":")).encode(), compresslevel=3)
            handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.replace(temp, path)
        except OSError:
            return  # a cache that cannot be written is a slower run, not a failed one
        self.prune()

    def has(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str) -> LayerIndex | None:
        data = self._read(self._path(key))
        try:
            return _decode(data) if isinstance(data, dict) else None
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            return None  # damaged, or written by another version: read the layer again

    def put(self, key: str, layer: LayerIndex) -> None:
        self._write(self._path(key), _encode(layer))

    def get_config(self, image_id: str) -> dict[str, Any] | None:
        """An image's config (its history gives each layer's command), kept beside its layers."""
        data = self._read(self._path(image_id, "config"))
        return data if isinstance(data, dict) else None

    def put_config(self, image_id: str, config: dict[str, Any]) -> None:
        self._write(self._path(image_id, "config"), config)

    def get_keys(self, image_id: str) -> list[str] | None:
        """Where each of an image's layers is in the engine's save stream (Analysis.keys)."""
        data = self._read(self._path(image_id, "keys"))
        return [str(k) for k in data] if isinstance(data, list) else None

    def put_keys(self, image_id: str, keys: list[str]) -> None:
        self._write(self._path(image_id, "keys"), keys)

    def put_analysis(self, image_id: str, analysis: Analysis) -> None:
        """What stacking an image's layers found (each entry added or modified, what each layer removed,
        the wasted versions), so that opening the image again reads only the layers looked at."""
        self._write(self._path(image_id, "analysis"), _encode_analysis(analysis))

    def get_analysis(self, image_id: str, name: str, diff_ids: Sequence[str], commands: Sequence[str],
                     keys: Sequence[str]) -> Analysis | None:  # fmt: skip
        """The analysis put for this image, its layers' changes decoded when first asked for; None unless
        it and every layer are here."""
        data = self._read(self._path(image_id, "analysis"))
        if not isinstance(data, dict) or data.get("version") != ANALYSIS_VERSION:
            return None  # none, damaged, or made by another version of the analysis
        if len(data.get("layers") or ()) != len(diff_ids):
            return None
        now = time.time()
        for diff_id in diff_ids:  # each layer's file is as recently used as the analysis that needs it
            try:
                os.utime(self._path(diff_id), (now, now))
            except OSError:
                return None
        try:
            layers = []
            for index, (diff_id, stored) in enumerate(zip(diff_ids, data["layers"])):
                command = commands[index] if index < len(commands) else ""
                added, modified, removed = (int(n) for n in stored["counts"])
                if not isinstance(stored["codes"], str):
                    return None
                source = Changes(make=partial(self._changes, diff_id, stored))
                size = int(stored["size"])
                layers.append(Layer(index, diff_id, command, source, size, (added, modified, removed)))
            w = data["wasted"]
            columns = (w["paths"], w["bytes"], w["written"], w["hidden"])
            if len({len(c) for c in columns}) != 1:
                return None
            wasted = tuple(map(Wasted, *columns))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        return Analysis(name, tuple(layers), wasted, tuple(keys))

    def _changes(self, diff_id: str, stored: dict[str, Any]) -> tuple[Changed, ...]:
        layer = self.get(diff_id)
        try:
            codes = stored["codes"]
            if layer is None or len(codes) != len(layer.entries):
                raise ValueError("the layer is gone, or another")
            removed = [Changed(e, Change.REMOVED) for e in _decode_entries(stored["removed"])]
            changes = zip(layer.entries, map(CODE_CHANGES.__getitem__, codes))
            return (*removed, *map(_changed, changes))
        except (KeyError, TypeError, ValueError) as exc:
            raise LayerError(
                f"layer {diff_id.split(':')[-1][:12]} is no longer in the cache ({self.folder}): "
                "open the image again to read it"
            ) from exc

    @staticmethod
    def addressed(key: str) -> bool:
        """A member name that holds a content address (a component of 64 hex digits): only those are
        remembered, since a name like `0/layer.tar` means another layer in every archive that uses it."""
        return bool(ADDRESSED.search(key))

    def get_member(self, key: str) -> str | None:
        """The diff ID of the layer an archive member held (`blobs/sha256/HEX`, `V1ID/layer.tar`, `HEX.tar`)
        when it was read before: the member names are content addresses, in an engine's saves and in
        archives alike."""
        if not self.addressed(key):
            return None
        data = self._read(self._path(key, "member"))
        return str(data) if isinstance(data, str) else None

    def put_member(self, key: str, diff_id: str) -> None:
        if self.addressed(key) and self.get_member(key) != diff_id:
            self._write(self._path(key, "member"), diff_id)

    def known(self, key: str) -> LayerIndex | None:
        """The layer an archive member holds, if it was indexed before (read_archive's `known`)."""
        diff_id = self.get_member(key)
        if diff_id is None and key.startswith("blobs/sha256/"):
            diff_id = "sha256:" + key.rsplit("/", 1)[1]  # an uncompressed blob: its digest is its diff ID
        return self.get(diff_id) if diff_id else None

    def prune(self) -> None:
        """Sweep temporaries left by killed writes, then the least recently used files over the limit."""
        now = time.time()
        files = []
        for path in self.folder.iterdir():
            try:
                stat = path.stat()
            except OSError:
                continue
            if path.name.startswith(".tmp-"):
                if now - stat.st_mtime > STALE_TEMP:
                    path.unlink(missing_ok=True)
                continue
            files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.limit:
                break
            path.unlink(missing_ok=True)
            total -= size


CODE_CHANGES = {"a": Change.ADDED, "m": Change.MODIFIED}
ANALYSIS_VERSION = 1
"""Raised when what analysis.py finds changes: an analysis file of another version is not used."""


def _encode_analysis(analysis: Analysis) -> dict[str, Any]:
    layers = []
    for layer in analysis.layers:
        changes = layer.changes
        removed = [c.entry for c in changes if c.change is Change.REMOVED]
        codes = "".join(
            "a" if c.change is Change.ADDED else "m" for c in changes if c.change is not Change.REMOVED
        )
        layers.append({"codes": codes, "removed": _encode_entries(removed), "size": layer.size_bytes,
                       "counts": [layer.count(c) for c in COUNTED]})  # fmt: skip
    w = analysis.wasted
    wasted = {"paths": [x.path for x in w], "bytes": [x.bytes for x in w],
              "written": [x.written_by for x in w], "hidden": [x.hidden_by for x in w]}  # fmt: skip
    return {"version": ANALYSIS_VERSION, "layers": layers, "wasted": wasted}


def _encode(layer: LayerIndex) -> dict[str, Any]:
    return {
        "digest": layer.digest,
        **_encode_entries(layer.entries),
        "removed": list(layer.removed),
        "opaque": list(layer.opaque),
    }


def _encode_entries(entries: Sequence[Entry]) -> dict[str, Any]:
    return {
        "paths": [e.path for e in entries],
        "kinds": "".join(KIND_CODES[e.kind] for e in entries),
        "sizes": [e.size for e in entries],
        "modes": [e.mode for e in entries],
        "uids": [e.uid for e in entries],
        "gids": [e.gid for e in entries],
        "targets": {str(n): e.target for n, e in enumerate(entries) if e.target},
    }


def _decode(data: dict[str, Any]) -> LayerIndex:
    """The layer a cache file holds; ValueError (or KeyError, TypeError) when it holds something else."""
    if not (
        all(isinstance(p, str) for p in (*data["removed"], *data["opaque"]))
        and isinstance(data["digest"], str)
    ):
        raise ValueError("not a layer index")
    entries = _decode_entries(data)
    return LayerIndex(data["digest"], entries, tuple(data["removed"]), tuple(data["opaque"]))


def _decode_entries(data: dict[str, Any]) -> tuple[Entry, ...]:
    """Entries kept in columns; ValueError (or KeyError, TypeError) when the columns are something else.
    Each column is checked in one pass of C (`set(map(type, ...))`): opening a layer of 20,000 entries took
    90 ms with a check per value in Python, most of a cached open."""
    paths, sizes, modes = data["paths"], data["sizes"], data["modes"]
    if "owners" in data:  # written before uids and gids had a column each
        owners = data["owners"]
        if type(owners) is not list or not set(map(type, owners)) <= {list} or not all(map(_pair, owners)):
            raise ValueError("not a layer index")
        uids, gids = [o[0] for o in owners], [o[1] for o in owners]
    else:
        uids, gids = data["uids"], data["gids"]
    columns = (paths, sizes, modes, uids, gids)
    count = len(paths) if type(paths) is list else -1
    if (
        any(type(column) is not list or len(column) != count for column in columns)
        or type(data["kinds"]) is not str
        or len(data["kinds"]) != count
        or not set(map(type, paths)) <= {str}
        or not set(map(type, chain(sizes, modes, uids, gids))) <= {int}
        or min(sizes, default=0) < 0
        or not set(map(type, data["targets"].values())) <= {str}
    ):
        raise ValueError("not a layer index")
    targets = [""] * count
    for n, target in data["targets"].items():
        targets[int(n)] = target
    kinds = map(CODE_KINDS.__getitem__, data["kinds"])
    return tuple(map(_entry, zip(paths, kinds, sizes, modes, uids, gids, targets)))


_entry = partial(tuple.__new__, Entry)
_changed = partial(tuple.__new__, Changed)
"""An Entry (or a Changed) of its fields in one call of C (a named tuple's own __new__ is a Python
function: a third of the time to open a layer of 20,000 entries)."""


def _pair(owner: list[Any]) -> bool:
    return len(owner) == 2 and type(owner[0]) is int and type(owner[1]) is int
