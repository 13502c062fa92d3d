"""Plain, frozen records of what the engine told us. No Textual, no docker-py objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from datetime import datetime, timezone
from typing import Any, Protocol

from imgtui.record import record

NONE = "<none>"
MISSING = "<missing>"


def full_id(image_id: str) -> str:
    """`sha256:HEX` as Docker writes an image ID everywhere; Podman leaves out `sha256:` in some answers (a
    commit's ID, a container's ImageID, an image's ParentId)."""
    if len(image_id) == 64 and not image_id.startswith("sha256:"):
        return f"sha256:{image_id}"
    return image_id


def familiar(name: str) -> str:
    """A name as Docker lists it: Podman lists `docker.io/library/busybox:latest` for what Docker calls
    `busybox:latest` (and takes either), `docker.io/alicek107/x:1` for `alicek107/x:1`."""
    return name.removeprefix("docker.io/library/").removeprefix("docker.io/")


def short_id(image_id: str) -> str:
    """The 12 hex digits `docker images` shows."""
    return image_id.removeprefix("sha256:")[:12]


def parse_repository_tag(name: str) -> tuple[str, str | None]:
    """docker-py's `docker.utils.parse_repository_tag`, line for line: `NAME@DIGEST` splits at the `@`,
    else at a last `:` not followed by a `/` (a registry's port is no tag). Here so that listing images
    does not import docker-py (imgtui/engine/lazy.py); tests/test_models.py checks that both agree."""
    parts = name.rsplit("@", 1)
    if len(parts) == 2:
        return parts[0], parts[1]
    parts = name.rsplit(":", 1)
    if len(parts) == 2 and "/" not in parts[1]:
        return parts[0], parts[1]
    return name, None


def split_name(name: str) -> tuple[str, str]:
    """`registry:5000/ns/app:1.0` -> (`registry:5000/ns/app`, `1.0`); a name without tag gets `latest`."""
    repo, tag = parse_repository_tag(name)
    return repo, tag or "latest"


def _history_id(value: Any) -> str:
    """A history row's image ID with `sha256:` (Podman leaves it out), or MISSING."""
    return full_id(str(value)) if value and value != MISSING else MISSING


def _timestamp(value: Any) -> datetime:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str) and value:
        # Inspect gives RFC 3339 with nanoseconds; Python wants at most microseconds.
        text = value.replace("Z", "+00:00")
        head, _, rest = text.partition(".")
        if rest:
            digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
            tz = rest[len(digits) :]
            text = f"{head}.{digits[:6].ljust(6, '0')}{tz}"
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    return datetime.fromtimestamp(0, tz=timezone.utc)


@record
class Image:
    """One image as `GET /images/json` (or an inspect) describes it."""

    id: str
    names: tuple[str, ...]
    digests: tuple[str, ...]
    created: datetime
    size: int
    containers: int = -1

    @property
    def short_id(self) -> str:
        return short_id(self.id)

    @property
    def dangling(self) -> bool:
        return not self.names

    @classmethod
    def from_summary(cls, row: dict[str, Any]) -> Image:
        """A row of `GET /images/json`."""
        names = tuple(familiar(n) for n in (row.get("RepoTags") or ()) if n != "<none>:<none>")
        digests = tuple(familiar(d) for d in (row.get("RepoDigests") or ()) if d != "<none>@<none>")
        return cls(
            id=row["Id"],
            names=names,
            digests=digests,
            created=_timestamp(row.get("Created")),
            size=int(row.get("Size") or 0),
            containers=int(row.get("Containers", -1)),
        )

    @classmethod
    def from_inspect(cls, data: dict[str, Any]) -> Image:
        """The answer of `GET /images/{id}/json`."""
        return cls(
            id=data["Id"],
            names=tuple(familiar(n) for n in data.get("RepoTags") or ()),
            digests=tuple(familiar(d) for d in data.get("RepoDigests") or ()),
            created=_timestamp(data.get("Created")),
            size=int(data.get("Size") or 0),
        )


@record
class Tag:
    """One row of the tags pane: a name (or `<none>`) and the image it points at."""

    repository: str
    tag: str
    image: Image

    @property
    def ref(self) -> str:
        """What to hand the engine: the name, or the ID for a dangling image."""
        if self.repository == NONE:
            return self.image.id
        return f"{self.repository}:{self.tag}"


@record
class Repository:
    """One row of the repositories pane."""

    name: str
    tags: tuple[Tag, ...]

    @property
    def size(self) -> int:
        """Sum of the distinct images' sizes (shared layers counted once per image, like `docker images`)."""
        return sum({t.image.id: t.image.size for t in self.tags}.values())

    @property
    def image_count(self) -> int:
        return len({t.image.id for t in self.tags})


@record
class Layer:
    """One line of `docker history`."""

    id: str
    created: datetime
    created_by: str
    size: int
    comment: str
    tags: tuple[str, ...] = ()

    @property
    def display_id(self) -> str:
        return MISSING if self.id in ("", MISSING) else short_id(self.id)

    @classmethod
    def from_history(cls, row: dict[str, Any]) -> Layer:
        return cls(
            id=_history_id(row.get("Id")),
            created=_timestamp(row.get("Created")),
            created_by=(row.get("CreatedBy") or "").strip(),
            size=int(row.get("Size") or 0),
            comment=(row.get("Comment") or "").strip(),
            tags=tuple(t for t in (row.get("Tags") or ()) if t != "<none>:<none>"),
        )


@record
class EngineInfo:
    """Who we are talking to, for the header."""

    host: str
    source: str
    version: str
    api_version: str
    """The API version the client speaks (the older of the engine's newest and docker-py's)."""
    os: str = ""
    arch: str = ""
    store: str = "classic"
    """`classic` (graph drivers: layer sizes are content bytes) or `containerd` (the containerd image store:
    snapshot disk use, and compressed copies of the layers besides)."""
    server_api: str = ""
    """The newest API version the engine speaks."""
    product: str = "Docker"
    """`Docker`, or `Podman` for the Docker-compatible API of `podman system service`."""
    identity: str = ""
    """`/info`'s ID, Name (the host's name) and DockerRootDir: two addresses of one engine (a socket and
    ssh://, two contexts) give the same. The ID alone is not enough: before Docker 23 it comes from the
    host's /etc/docker/key.json, shared by every engine of one machine and by cloned machines. Empty when
    the engine gives no ID."""

    @property
    def containerd(self) -> bool:
        return self.store == "containerd"

    @property
    def podman(self) -> bool:
        return self.product == "Podman"

    @property
    def modelled_sizes(self) -> bool:
        """The engine's own size figures are wrong (containerd store, Podman): imgtui.engine.sizes builds
        them from each image's layers."""
        return self.containerd or self.podman


@record
class EngineEvent:
    """One message of the engine's event stream, reduced to what the UI needs."""

    type: str
    action: str
    actor_id: str
    attributes: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    time: float = 0.0

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> EngineEvent:
        actor = raw.get("Actor") or {}
        kind = raw.get("Type", "")
        attributes = dict(actor.get("Attributes") or {})
        actor_id = actor.get("ID") or raw.get("id", "")
        if not actor_id and kind == "image":  # Podman's pull event names the image only in its attributes
            actor_id = str(attributes.get("name") or "")
        return cls(
            type=kind,
            action=raw.get("Action", raw.get("status", "")),
            # An image's ID as Docker writes it: Podman's image events leave out `sha256:`.
            actor_id=full_id(actor_id) if kind == "image" else actor_id,
            attributes=attributes,
            time=float(raw.get("timeNano", 0)) / 1e9 or float(raw.get("time", 0)),
        )

    @property
    def names_no_image(self) -> bool:
        """Podman's events of a change to the list that do not say which image: a container's commit (the
        only event of it: Docker sends the new image's `tag` event besides) and a load (`loadfromarchive`,
        with no ID: Docker sends `load` with the image's)."""
        return (self.type, self.action) in (("container", "commit"), ("image", "loadfromarchive"))

    @property
    def touched_image(self) -> str | None:
        """The image (ID or name) whose listing this event may have changed, if any."""
        if self.type == "image" and self.action in {"tag", "untag", "delete", "import", "load", "pull"}:
            return self.actor_id or None
        return None


@record
class Container:
    """One row of `docker ps -a`."""

    id: str
    name: str
    image: str
    image_id: str
    command: str
    created: datetime
    state: str
    status: str

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.state in ("running", "paused", "restarting")

    @classmethod
    def from_summary(cls, row: dict[str, Any]) -> Container:
        names = row.get("Names") or [""]
        return cls(
            id=row["Id"],
            name=names[0].lstrip("/"),
            image=familiar(row.get("Image", "")),  # Podman's `docker.io/library/busybox:latest`
            image_id=full_id(row.get("ImageID", "")),
            command=row.get("Command", ""),
            created=_timestamp(row.get("Created")),
            state=row.get("State", ""),
            status=row.get("Status", ""),
        )


@record
class OutcomeLine:
    """One line of what an action did: the engine's own words where it gave them."""

    kind: str
    """untagged, deleted, container, tagged, error, info, reclaimed"""
    text: str


class _Row(Protocol):
    @property
    def created_by(self) -> str: ...


def same_below(rows: Sequence[_Row], row: _Row | None) -> int:
    """How many history rows below `row` (older: the newest is first) have its created-by."""
    at = next((n for n, item in enumerate(rows) if item is row), None)
    if row is None or at is None:
        return 0
    return sum(1 for item in rows[at + 1 :] if item.created_by == row.created_by)
