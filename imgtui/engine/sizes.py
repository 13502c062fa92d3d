"""How many bytes each image takes on disk, and how many only it takes: what deleting it gives back.

The classic image store (overlay2 and the other graph drivers) reports this itself: `/system/df` gives each
image's `Size` and the part it shares with others, `SharedSize`, counting each layer once; the difference is
what a removal frees, byte for byte what the engine then reports as reclaimed.

The containerd image store (Docker 29's default) keeps every layer twice: unpacked, as a snapshot, and
compressed, as a blob of its content store, with the config and manifests beside them. Its own figures
cannot be taken as they come (checked on dockerd 26.1): `Size` adds the compressed blobs to snapshot sizes
but `SharedSize` counts only snapshots as shared, so every image seems to own a compressed copy of its
base; `LayersSize` leaves the blobs out; a prune's `SpaceReclaimed` counts only the deleted manifests. So
the model here is built from what does hold per image:

- `GET /images/{id}/json`: `RootFS.Layers` (the diff IDs, hence chain IDs: images whose chains share a
  prefix share those snapshots and, pulled or committed from one another, those blobs) and `Size`, which on
  this store is the image's content-store bytes (config, manifest, compressed layers);
- `GET /images/{id}/history`: the disk used by each layer's snapshot.

What is not known is how an image's compressed bytes split between its layers. Where a shorter image holds
exactly the shared part (a parent and its children, the usual case), the split is exact; elsewhere the
compressed bytes are shared out in proportion to the unpacked ones and the figure is marked `about`. Blobs
are counted in the 4 KiB blocks they take on disk. The engine also keeps a little it reports nowhere (the
folders of each snapshot, the container layer a commit was made from): tests compare these figures with
`du` of the data-root and hold them within 128 KiB an image.

Podman (its Docker-compatible API) gives no usable figures either: `/system/df` counts every image's whole
size as shared (`SharedSize` = `Size` for a base image), so `Size - SharedSize` says an image frees 0
bytes, and `LayersSize` is 0. Its store keeps each layer once, unpacked, with no compressed copies: the
same model serves with `compressed=False`, each layer's history size (its diff's size) counted once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from imgtui.record import record

BLOCK = 4096
META_BLOBS = 2
"""Blobs every image has besides its layers: its config and its manifest."""


def on_disk(size: int) -> int:
    """Bytes a file of `size` bytes takes in 4 KiB blocks."""
    return -(-size // BLOCK) * BLOCK


def chain_ids(diff_ids: Iterable[str]) -> tuple[str, ...]:
    """The OCI image spec's ChainIDs: one per layer, naming the layer together with everything below it."""
    chain: list[str] = []
    for diff_id in diff_ids:
        chain.append(
            diff_id
            if not chain
            else "sha256:" + hashlib.sha256(f"{chain[-1]} {diff_id}".encode()).hexdigest()
        )
    return tuple(chain)


@record
class ImageParts:
    """What one image holds, read with an inspect and a history (never changes for an image ID)."""

    id: str
    chain: tuple[str, ...]
    """Chain IDs of its layers, bottom first."""
    unpacked: tuple[int, ...]
    """Disk used by each layer's snapshot, bottom first (the history's sizes on this store)."""
    content: int
    """Bytes in the content store: config, manifest, compressed layers."""
    exact: bool = True
    """False when the history's rows could not be matched one to one with the layers."""

    @classmethod
    def read(
        cls, image_id: str, inspect: Mapping[str, Any], history: Iterable[Mapping[str, Any]]
    ) -> ImageParts:
        chain = chain_ids((inspect.get("RootFS") or {}).get("Layers") or [])
        # The history is newest first, one row per config history entry; rows that made no layer have no
        # snapshot and use no disk, so the rows that do, oldest first, are the layers in order.
        used = [int(row.get("Size") or 0) for row in reversed(list(history))]
        layer_rows = [size for size in used if size > 0]
        exact = len(layer_rows) == len(chain)
        if not exact:
            total = sum(used)
            layer_rows = [total // len(chain)] * len(chain) if chain else []
        return cls(image_id, chain, tuple(layer_rows), int(inspect.get("Size") or 0), exact)


@record
class Footprint:
    """One image's bytes on disk."""

    total: int
    """Everything it needs: all its layers (shared or not), its blobs."""
    own: int
    """What no other image needs: what deleting it frees."""
    about: bool = False
    """Estimated: how its compressed bytes split between layers shared and its own is not known."""

    @property
    def shared(self) -> int:
        return max(self.total - self.own, 0)


class ContainerdSizes:
    """The containerd store's sizes for a set of images, from their ImageParts. `compressed=False` for a
    store with no compressed copies nor config blobs to count (Podman's): layers alone, each once."""

    def __init__(self, parts: Mapping[str, ImageParts], compressed: bool = True) -> None:
        self.parts = dict(parts)
        self.compressed = compressed
        self.meta = META_BLOBS * BLOCK if compressed else 0
        """Bytes every image has besides its layers."""
        self.users: dict[str, set[str]] = {}
        """Chain ID -> the images whose chain has it."""
        for image_id, part in self.parts.items():
            for link in part.chain:
                self.users.setdefault(link, set()).add(image_id)
        self.unpacked: dict[str, int] = {}
        self.blob: dict[str, int] = {}
        self.estimated: set[str] = set()
        if compressed:
            self._split()
        else:
            for part in self.parts.values():
                for link, used in zip(part.chain, part.unpacked):
                    self.unpacked.setdefault(link, used)

    def _split(self) -> None:
        """Give every layer its compressed size: shortest images first, each one's content bytes less what
        its already known lower layers take, shared by its other layers in proportion to their snapshots."""
        for part in sorted(self.parts.values(), key=lambda p: (len(p.chain), p.id)):
            for link, used in zip(part.chain, part.unpacked):
                self.unpacked.setdefault(link, used)
            unknown = [link for link in part.chain if link not in self.blob]
            if not unknown:
                continue
            known = sum(self.blob[link] for link in part.chain if link in self.blob)
            rest = max(part.content - known, 0)
            weights = [self.unpacked.get(link, 0) for link in unknown]
            whole = sum(weights)
            for n, link in enumerate(unknown):
                share = weights[n] / whole if whole else 1 / len(unknown)
                self.blob[link] = int(rest * share)
            if len(unknown) > 1 or not part.exact:
                self.estimated.update(unknown)

    def _layer_disk(self, link: str) -> int:
        return self.unpacked.get(link, 0) + on_disk(self.blob.get(link, 0))

    def footprint(self, image_id: str, gone: Iterable[str] = ()) -> Footprint:
        """This image's bytes; `own` counts layers no image outside `gone` (and this one) needs."""
        part = self.parts[image_id]
        leaving = {image_id, *gone}
        meta = self.meta
        total = sum(self._layer_disk(link) for link in part.chain) + meta
        own_links = [link for link in part.chain if self.users.get(link, set()) <= leaving]
        own = sum(self._layer_disk(link) for link in own_links) + meta
        about = any(link in self.estimated for link in part.chain) or not part.exact
        return Footprint(total, own, about)

    def freed(self, image_ids: Iterable[str]) -> Footprint:
        """What deleting all of `image_ids` together gives back: layers only they need, each once."""
        leaving = set(image_ids) & set(self.parts)
        links = {link for image_id in leaving for link in self.parts[image_id].chain}
        own = sum(self._layer_disk(link) for link in links if self.users.get(link, set()) <= leaving)
        own += self.meta * len(leaving)
        about = any(link in self.estimated for link in links)
        return Footprint(own, own, about)

    def disk_total(self) -> int:
        """Bytes all the images take together, each layer once."""
        return sum(self._layer_disk(link) for link in self.users) + self.meta * len(self.parts)


class SharedLayers:
    """The classic store's bytes freed by deleting several images at once. The engine gives each image's
    own bytes (`Size - SharedSize`); a layer that only the deleted images share (two old versions of an app
    on one dependency layer) is in none of those and is freed too. Such layers are found from the chains of
    the images that share anything (an inspect and a history each, the first time: `parts`), only when two
    or more of the deleted images share something."""

    def __init__(self, unique: Mapping[str, int], shared: Mapping[str, int],
                 parts: Callable[[list[str]], Mapping[str, ImageParts]]) -> None:  # fmt: skip
        self.unique = dict(unique)
        self.shared = dict(shared)
        self._parts = parts

    def freed(self, image_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(image_ids))
        total = sum(self.unique.get(i, 0) for i in ids)
        sharing = [i for i in ids if self.shared.get(i, 0) > 0]
        if len(sharing) < 2:
            return total
        everyone = sorted(i for i, n in self.shared.items() if n > 0)
        parts = self._parts(everyone)
        if any(i not in parts or not parts[i].exact for i in everyone):
            return total  # an image gone meanwhile, or a history that does not match its layers: a floor
        users: dict[str, set[str]] = {}
        for image_id in everyone:
            for link in parts[image_id].chain:
                users.setdefault(link, set()).add(image_id)
        leaving = set(ids)
        layers = {link: size for i in sharing for link, size in zip(parts[i].chain, parts[i].unpacked)}
        return total + sum(n for link, n in layers.items() if len(users[link]) > 1 and users[link] <= leaving)
