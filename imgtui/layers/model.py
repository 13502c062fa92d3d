"""What a layer holds, as plain records: its entries as its tar lists them (file contents are never read),
and what an image's layers add up to."""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import Enum
from typing import NamedTuple

from imgtui.record import record


def parent_of(path: str) -> str:
    """`/a/b` -> `/a`, `/a` -> `/`: posixpath.dirname for the normalised absolute paths here, faster."""
    return path[: path.rfind("/")] or "/"


class Kind(str, Enum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    DEVICE = "device"
    FIFO = "fifo"


class Change(str, Enum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"


class Entry(NamedTuple):
    """One entry of a layer's tar: a path it writes (`/data/b`), with its metadata.

    A named tuple rather than a record: an image can hold hundreds of thousands, and a tuple is made
    several times faster than a frozen dataclass (whose fields are each set through object.__setattr__)."""

    path: str
    kind: Kind
    size: int
    """Content bytes: a regular file's size; 0 for the rest (a hard link's data is its target's)."""
    mode: int
    uid: int
    gid: int
    target: str = ""
    """A symlink's or a hard link's target."""


@record
class LayerIndex:
    """What one layer's tar says, independent of the layers under it: what a cache keeps by digest."""

    digest: str
    """The layer's diff ID (sha256 of its uncompressed tar) where known, else its blob digest."""
    entries: tuple[Entry, ...]
    removed: tuple[str, ...] = ()
    """Paths a whiteout (`.wh.NAME`) removes, with everything under them."""
    opaque: tuple[str, ...] = ()
    """Directories an opaque whiteout (`.wh..wh..opq`) empties of what lower layers put there."""

    @property
    def content_bytes(self) -> int:
        return sum(e.size for e in self.entries)


class Changed(NamedTuple):
    """An entry as the image's history sees it: added, modified (the path was there already), or removed."""

    entry: Entry
    change: Change


COUNTED = (Change.ADDED, Change.MODIFIED, Change.REMOVED)


@record
class Wasted:
    """A file version the final image does not show: overwritten, or hidden by a whiteout or an opaque
    directory in a later layer."""

    path: str
    bytes: int
    written_by: int
    """The layer (index from 0 at the base) that wrote this version."""
    hidden_by: int
    """The layer that overwrote or removed it."""


class Changes:
    """A layer's changes, made the first time they are asked for: an image opened from the cache's analysis
    (cache.py) decodes only the layers that are looked at (200,000 entries took 2 s to decode and stack,
    one layer of them a tenth of that)."""

    __slots__ = ("_lock", "_made", "_make")

    def __init__(self, made: tuple[Changed, ...] | None = None,
                 make: Callable[[], tuple[Changed, ...]] | None = None) -> None:  # fmt: skip
        self._made = made
        self._make = make
        self._lock = threading.Lock()
        """A tree built in a worker and the view may ask at once: decoded once, by one of them."""

    def get(self) -> tuple[Changed, ...]:
        made = self._made
        if made is not None:
            return made
        with self._lock:
            if self._made is None:
                assert self._make is not None
                self._made = self._make()  # on failure, kept to be tried again
                self._make = None
            return self._made

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Changes) and self.get() == other.get()

    def __hash__(self) -> int:
        return hash(self.get())


@record
class Layer:
    """One layer of an analysed image: what it changed, in order from the base."""

    index: int
    digest: str
    command: str
    source: Changes
    size_bytes: int
    """Content bytes of the files this layer's tar holds."""
    counts: tuple[int, int, int]
    """How many entries it added, modified and removed."""

    @property
    def changes(self) -> tuple[Changed, ...]:
        return self.source.get()

    def count(self, change: Change) -> int:
        return self.counts[COUNTED.index(change)]


@record
class Analysis:
    """An image's layers and what they waste."""

    name: str
    layers: tuple[Layer, ...]
    wasted: tuple[Wasted, ...]
    """Every hidden file version, biggest first."""
    keys: tuple[str, ...] = ()
    """Where each layer is in its source, for reading one file out of it (imgtui/layers/files.py): the
    member of the archive stream (`blobs/sha256/…`, `…/layer.tar`) or the registry blob digest."""

    @property
    def size_bytes(self) -> int:
        """The sum of every layer's content bytes (what the layers hold, hidden versions included)."""
        return sum(layer.size_bytes for layer in self.layers)

    @property
    def wasted_bytes(self) -> int:
        return sum(w.bytes for w in self.wasted)

    @property
    def efficiency(self) -> float:
        """1 - wasted / size: the share of the layers' bytes the final image shows."""
        return 1.0 - self.wasted_bytes / self.size_bytes if self.size_bytes else 1.0

    def layer_of(self, command: str, older: int = 0) -> int:
        """The layer a history line (created-by) made, the top one when none matches: the history shows
        empty-layer rows too, so rows and layers are matched by their command. `older`: how many rows
        below this one have the same command; the same command made several layers (Podman's commits are
        all `/bin/sh`, a Dockerfile may run one twice) and the row is the one above that many of them."""
        wanted = " ".join(command.split())
        found = [layer.index for layer in self.layers if wanted and " ".join(layer.command.split()) == wanted]
        return found[min(older, len(found) - 1)] if found else max(len(self.layers) - 1, 0)

    @property
    def user_wasted_ratio(self) -> float:
        """Wasted bytes over the bytes the layers above the base add (dive's `highestUserWastedPercent`)."""
        user = sum(layer.size_bytes for layer in self.layers[1:])
        return self.wasted_bytes / user if user else 0.0
