"""What a registry holds, as plain records: repositories, tags, manifests of every kind, and layers."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime

from imgtui.record import record

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
SCHEMA1_PLAIN = "application/vnd.docker.distribution.manifest.v1+json"
MANIFEST_TYPES = (DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX, SCHEMA1, SCHEMA1_PLAIN)
"""Sent as Accept: a registry answers MANIFEST_UNKNOWN (or converts) for kinds the client does not accept."""
INDEX_TYPES = (DOCKER_LIST, OCI_INDEX)
KIND = {
    DOCKER_MANIFEST: "docker v2",
    DOCKER_LIST: "docker list",
    OCI_MANIFEST: "oci image",
    OCI_INDEX: "oci index",
    SCHEMA1: "schema 1",
    SCHEMA1_PLAIN: "schema 1",
}


@record
class Page:
    """One page of `_catalog` or `tags/list`; `next_url` follows the Link header (None on the last page)."""

    names: tuple[str, ...]
    next_url: str | None


@record
class Platform:
    """One entry of a manifest list / OCI index."""

    digest: str
    media_type: str
    size: int
    platform: str
    """os/architecture[/variant], or "unknown" (attestations and the like)."""


@record
class Manifest:
    digest: str
    media_type: str
    size: int
    """Bytes of the manifest itself."""
    config_digest: str = ""
    layers: tuple[tuple[str, int], ...] = ()
    """(digest, compressed size) of each layer, bottom first."""
    platforms: tuple[Platform, ...] = ()
    """For an index: its entries."""
    schema1_history: tuple[str, ...] = ()
    """For an old schema 1 manifest: its v1Compatibility entries (newest first)."""

    @property
    def kind(self) -> str:
        return KIND.get(self.media_type, self.media_type or "unknown")

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def layers_size(self) -> int:
        """What a pull downloads (compressed layers); for an index, 0 (each platform has its own)."""
        return sum(size for _, size in self.layers)


@record
class RemoteLayer:
    """One history entry of an image config, with its layer's compressed size when it made one."""

    created: datetime | None
    created_by: str
    comment: str
    size: int | None
    """Compressed bytes in the registry; None for a history entry that made no layer (ENV, CMD …)."""
    digest: str = ""


@record
class ImageConfig:
    digest: str
    created: datetime | None
    platform: str
    history: tuple[RemoteLayer, ...] = field(default=())
    """Newest first, like `docker history`."""


@record
class RemoteTag:
    """A row of the registry view's tags pane: a tag, or (with `parent`) one platform of an index tag."""

    repository: str
    tag: str
    digest: str = ""
    kind: str = ""
    size: int | None = None
    created: datetime | None = None
    platform: str = ""
    parent: str = ""
    """For a platform row, the tag of the index it belongs to."""
    error: str = ""
    loaded: bool = False

    @property
    def key(self) -> str:
        return f"{self.parent}@{self.digest}" if self.parent else self.tag

    @property
    def reference(self) -> str:
        """What to pull: the tag, or the platform's digest."""
        return f"{self.repository}@{self.digest}" if self.parent else f"{self.repository}:{self.tag}"
