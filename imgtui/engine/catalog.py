"""The local image list, grouped the way the panes show it, and updated one image at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from imgtui.engine.models import NONE, Image, Repository, Tag, split_name


@dataclass(frozen=True)
class Totals:
    images: int
    dangling: int
    size: int


class Catalog:
    """All images by ID, with the repository grouping derived on demand.

    Updates come as whole `Image` records (from a list or an inspect after an event); `apply` also takes a
    name away from any other image that carried it, because the engine moves a tag without an event for the
    image that lost it.
    """

    def __init__(self, images: Iterable[Image] = ()) -> None:
        self._images: dict[str, Image] = {}
        self._by_name: dict[str, str] = {}
        self._groups: dict[str, Repository] | None = None
        for image in images:
            self._images[image.id] = image
            for name in image.names:
                self._by_name[name] = image.id

    @classmethod
    def grouped(cls, images: Iterable[Image]) -> Catalog:
        """A catalog with its repositories already grouped: built in a worker thread, it hands the UI's
        event loop nothing left to compute."""
        catalog = cls(images)
        catalog._grouped()
        return catalog

    def __len__(self) -> int:
        return len(self._images)

    def __contains__(self, image_id: object) -> bool:
        return image_id in self._images

    def get(self, image_id: str) -> Image | None:
        return self._images.get(image_id)

    def resolve(self, id_or_name: str) -> str | None:
        """The full image ID for an ID, a short ID or a name we know."""
        if id_or_name in self._images:
            return id_or_name
        if id_or_name in self._by_name:
            return self._by_name[id_or_name]
        repo, tag = split_name(id_or_name)
        if f"{repo}:{tag}" in self._by_name:
            return self._by_name[f"{repo}:{tag}"]
        key = id_or_name.removeprefix("sha256:")
        if len(key) >= 12:
            for image_id in self._images:
                if image_id.removeprefix("sha256:").startswith(key):
                    return image_id
        return None

    def apply(self, image: Image) -> set[str]:
        """Put in the engine's current view of one image; returns the repositories whose rows changed."""
        touched: set[str] = set()
        self._groups = None
        old = self._images.get(image.id)
        if old is not None:
            touched |= _repos_of(old)
            for name in old.names:
                if self._by_name.get(name) == image.id:
                    del self._by_name[name]
        for name in image.names:
            holder = self._by_name.get(name)
            if holder is not None and holder != image.id and holder in self._images:
                loser = self._images[holder]
                touched |= _repos_of(loser)
                self._images[holder] = replace(loser, names=tuple(n for n in loser.names if n != name))
                touched |= _repos_of(self._images[holder])
            self._by_name[name] = image.id
        if old is not None and old.containers >= 0 and image.containers < 0:
            image = replace(image, containers=old.containers)
        self._images[image.id] = image
        touched |= _repos_of(image)
        return touched

    def remove(self, image_id: str) -> set[str]:
        """Forget a deleted image; returns the repositories whose rows changed."""
        image = self._images.pop(image_id, None)
        if image is None:
            return set()
        self._groups = None
        for name in image.names:
            if self._by_name.get(name) == image_id:
                del self._by_name[name]
        return _repos_of(image)

    def images(self) -> list[Image]:
        return list(self._images.values())

    def _grouped(self) -> dict[str, Repository]:
        """Repositories by name, in display order; computed once per change, not once per cursor move."""
        if self._groups is None:
            groups: dict[str, list[Tag]] = defaultdict(list)
            for image in self._images.values():
                for tag in _tags_of(image):
                    groups[tag.repository].append(tag)
            names = sorted(n for n in groups if n != NONE)
            if NONE in groups:
                names.append(NONE)
            self._groups = {n: Repository(n, tuple(_sorted_tags(groups[n]))) for n in names}
        return self._groups

    def repositories(self) -> list[Repository]:
        """Sorted by name, `<none>` (dangling images) last."""
        return list(self._grouped().values())

    def repository(self, name: str) -> Repository | None:
        return self._grouped().get(name)

    def names_for(self, image_id: str) -> tuple[str, ...]:
        image = self._images.get(image_id)
        return image.names if image else ()

    def totals(self) -> Totals:
        return Totals(
            images=len(self._images),
            dangling=sum(1 for i in self._images.values() if i.dangling),
            size=sum(i.size for i in self._images.values()),
        )


def _tags_of(image: Image) -> list[Tag]:
    if not image.names:
        return [Tag(NONE, NONE, image)]
    return [Tag(*split_name(name), image) for name in image.names]


def _repos_of(image: Image) -> set[str]:
    return {t.repository for t in _tags_of(image)}


def _sorted_tags(tags: list[Tag]) -> list[Tag]:
    """Newest image first, like `docker images`; ties by tag name."""
    return sorted(tags, key=lambda t: (-t.image.created.timestamp(), t.tag))
