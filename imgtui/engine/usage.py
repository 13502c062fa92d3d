"""`docker system df -v`: what images, containers, volumes and the build cache take, from one `/system/df`,
and pruning each kind with a preview that names what goes.

Figures, kind by kind (checked on dockerd 20.10 with the classic store and 26.1 with both stores):
- images: on the classic store the engine's own (`Size - SharedSize` is what only that image holds,
  `LayersSize` the whole); on the containerd store imgtui's size model (sizes.py), whose figures hold
  against `du` where the engine's do not. Reclaimable: what `image prune -a` frees (images no container
  uses).
- containers: each one's writable layer (`SizeRw`); reclaimable: those of stopped containers (`container
  prune`).
- volumes: `UsageData.Size`, and the containers that mount each (their `Mounts` in the same answer);
  reclaimable: the volumes no container uses. They are removed one by one, by the names the preview gave:
  `volume prune` would also take a volume made after the preview (and on API 1.42+ only anonymous ones).
- build cache: BuildKit's records (type, size, last used, shared with an image); the total counts what is
  not shared with an image (what `docker system df` shows), reclaimable what no build uses now.
  `builder prune --filter until=AGE` takes the records unused for AGE that no image shares (the engine keeps
  shared ones without `--all`, and frees nothing by deleting them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from imgtui.engine.errors import engine_words
from imgtui.engine.lazy import lazy
from imgtui.engine.models import Container, _timestamp, short_id
from imgtui.engine.removal import PlanChanged
from imgtui.engine.sizes import ContainerdSizes
from imgtui.record import record

docker = lazy("docker")  # imported when first used (lazy.py)

Kind = Literal["images", "containers", "volumes", "build cache"]
KINDS: tuple[Kind, ...] = ("images", "containers", "volumes", "build cache")
QUIET_TYPES = ("internal", "frontend")
"""Build cache record types `builder prune` keeps without `--all`."""


@record
class ImageUse:
    id: str
    names: tuple[str, ...]
    created: datetime
    size: int
    """All it needs, shared layers included."""
    unique: int
    """What only it holds."""
    containers: int
    about: bool = False

    @property
    def label(self) -> str:
        return ", ".join(self.names) or f"<none> {short_id(self.id)}"


@record
class ContainerUse:
    id: str
    name: str
    image: str
    state: str
    status: str
    size_rw: int
    created: datetime
    volumes: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.state in ("running", "paused", "restarting")


@record
class VolumeUse:
    name: str
    driver: str
    size: int
    """-1 when the engine did not measure it (not the local driver)."""
    links: int
    users: tuple[str, ...]
    """Names of the containers that mount it."""
    created: datetime

    @property
    def unused(self) -> bool:
        return self.links == 0 and not self.users


@record
class CacheRecord:
    id: str
    type: str
    description: str
    size: int
    in_use: bool
    shared: bool
    created: datetime
    last_used: datetime
    usage_count: int


@record
class KindUse:
    """One row of the summary: a kind, its count, its bytes, what a prune of it would give back."""

    kind: Kind
    count: int
    active: int
    size: int
    reclaimable: int
    about: bool = False


@record
class DiskUsage:
    """What `/system/df` said, per kind, read at `read_at`."""

    images: tuple[ImageUse, ...]
    containers: tuple[ContainerUse, ...]
    volumes: tuple[VolumeUse, ...]
    cache: tuple[CacheRecord, ...]
    images_size: int
    images_reclaimable: int
    read_at: datetime
    containerd: bool = False

    def kinds(self) -> list[KindUse]:
        used_images = sum(1 for i in self.images if i.containers)
        running = sum(1 for c in self.containers if c.running)
        in_use = sum(1 for v in self.volumes if not v.unused)
        busy = sum(1 for r in self.cache if r.in_use)
        return [
            KindUse("images", len(self.images), used_images, self.images_size, self.images_reclaimable,
                    self.containerd),
            KindUse("containers", len(self.containers), running, sum(c.size_rw for c in self.containers),
                    sum(c.size_rw for c in self.containers if not c.running)),
            KindUse("volumes", len(self.volumes), in_use, sum(max(v.size, 0) for v in self.volumes),
                    sum(max(v.size, 0) for v in self.volumes if v.unused)),
            KindUse("build cache", len(self.cache), busy, sum(r.size for r in self.cache if not r.shared),
                    sum(r.size for r in self.cache if not r.shared and not r.in_use)),
        ]  # fmt: skip

    @property
    def total(self) -> int:
        return sum(k.size for k in self.kinds())


def read_usage(
    df: dict[str, Any],
    containerd_sizes: Callable[[list[str]], ContainerdSizes] | None = None,
    now: datetime | None = None,
) -> DiskUsage:
    """The view's records from one `/system/df` answer; on the containerd store the image figures come from
    `containerd_sizes` (imgtui's model: an inspect and a history per image not seen before)."""
    containers_rows = df.get("Containers") or []
    users_of_image: dict[str, int] = {}
    mounts: dict[str, list[str]] = {}
    containers = []
    for row in containers_rows:
        c = Container.from_summary(row)
        users_of_image[c.image_id] = users_of_image.get(c.image_id, 0) + 1
        vols = tuple(
            str(m.get("Name")) for m in row.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name")
        )
        for v in vols:
            mounts.setdefault(v, []).append(c.name)
        size_rw = int(row.get("SizeRw") or 0)
        containers.append(
            ContainerUse(c.id, c.name, c.image, c.state, c.status, max(size_rw, 0), c.created, vols)
        )
    rows = df.get("Images") or []
    sizes = containerd_sizes([r["Id"] for r in rows]) if containerd_sizes is not None else None
    images = []
    for row in rows:
        names = tuple(n for n in row.get("RepoTags") or () if n != "<none>:<none>")
        image_id = row["Id"]
        used = users_of_image.get(image_id, 0)
        if sizes is not None and image_id in sizes.parts:
            foot = sizes.footprint(image_id)
            created = _timestamp(row.get("Created"))
            images.append(ImageUse(image_id, names, created, foot.total, foot.own, used, foot.about))
        else:
            size = int(row.get("Size") or 0)
            shared = max(int(row.get("SharedSize") or 0), 0)
            created = _timestamp(row.get("Created"))
            images.append(ImageUse(image_id, names, created, size, max(size - shared, 0), used))
    images.sort(key=lambda i: (-i.unique, i.label))
    unused = [i.id for i in images if not i.containers]
    if sizes is not None:
        images_size = sizes.disk_total()
        reclaimable = sizes.freed(unused).own
    else:
        images_size = int(df.get("LayersSize") or 0)
        reclaimable = sum(i.unique for i in images if not i.containers)
    volumes = []
    for row in df.get("Volumes") or []:
        usage = row.get("UsageData") or {}
        name = str(row.get("Name"))
        volumes.append(VolumeUse(name, str(row.get("Driver") or ""), int(usage.get("Size", -1)),
                                 int(usage.get("RefCount", 0)), tuple(sorted(mounts.get(name, ()))),
                                 _timestamp(row.get("CreatedAt"))))  # fmt: skip
    volumes.sort(key=lambda v: (-v.size, v.name))
    cache = [
        CacheRecord(
            str(r.get("ID")),
            str(r.get("Type") or ""),
            str(r.get("Description") or ""),
            int(r.get("Size") or 0),
            bool(r.get("InUse")),
            bool(r.get("Shared")),
            _timestamp(r.get("CreatedAt")),
            _timestamp(r.get("LastUsedAt") or r.get("CreatedAt")),
            int(r.get("UsageCount") or 0),
        )  # fmt: skip
        for r in df.get("BuildCache") or []
    ]
    cache.sort(key=lambda r: (-r.size, r.id))
    containers.sort(key=lambda c: (-c.size_rw, c.name))
    return DiskUsage(tuple(images), tuple(containers), tuple(volumes), tuple(cache), images_size, reclaimable,
                     now or datetime.now(timezone.utc), sizes is not None)  # fmt: skip


# -- prune previews --------------------------------------------------------------------------------------
AGE = re.compile(r"(\d+)\s*([smhdw])")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> int:
    """`24h`, `7d`, `1h30m`, `90m`, `0` (every age) -> seconds. Raises ValueError with a sentence."""
    text = text.strip().lower()
    if text in ("", "0"):
        return 0
    parts = AGE.findall(text)
    if not parts or AGE.sub("", text).strip():
        raise ValueError(f"{text!r} is not an age: a number and a unit, s m h d w (24h, 7d, 1h30m), or 0")
    return sum(int(n) * UNITS[u] for n, u in parts)


def age_text(seconds: int) -> str:
    if seconds == 0:
        return "any age"
    for unit, size in (("w", UNITS["w"]), ("d", UNITS["d"]), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@record
class UsagePrunePlan:
    """A prune of one kind (containers, volumes or build cache) as previewed."""

    kind: Kind
    items: tuple[tuple[str, str, int], ...]
    """(id or name, what it is, bytes) for each object that goes, in the preview's order."""
    kept: tuple[tuple[str, str], ...] = ()
    """(id or name, why it stays) for objects of that kind a prune leaves (in use, too young, shared)."""
    until: int = 0
    """Build cache: only records unused for this many seconds (0: any age)."""
    read_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    kind_size_before: int = 0
    """The kind's total as previewed: the engine's figure afterwards is compared with it."""

    @property
    def freed(self) -> int:
        return sum(size for _, _, size in self.items)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i for i, _, _ in self.items)

    def fingerprint(self) -> tuple[str, ...]:
        return tuple(sorted(self.ids))


def plan_usage_prune(usage: DiskUsage, kind: Kind, until: int = 0) -> UsagePrunePlan:
    """What pruning `kind` takes, from the state `usage` holds (images: see removal.plan_prune)."""
    before = next(k.size for k in usage.kinds() if k.kind == kind)
    if kind == "containers":
        gone = [
            (c.id, f"{c.name} ({c.image}, {c.status})", c.size_rw) for c in usage.containers if not c.running
        ]
        kept = [(c.id, f"{c.name} is {c.state}") for c in usage.containers if c.running]
        return UsagePrunePlan(kind, tuple(gone), tuple(kept), 0, usage.read_at, before)
    if kind == "volumes":
        gone = [(v.name, f"{v.driver} volume", max(v.size, 0)) for v in usage.volumes if v.unused]
        kept = [(v.name, f"used by {', '.join(v.users) or f'{v.links} container(s)'}")
                for v in usage.volumes if not v.unused]  # fmt: skip
        return UsagePrunePlan(kind, tuple(gone), tuple(kept), 0, usage.read_at, before)
    if kind == "build cache":
        cutoff = usage.read_at - timedelta(seconds=until)
        gone, kept = [], []
        for r in usage.cache:
            why = ""
            if r.in_use:
                why = "in use by a build"
            elif r.shared:
                why = "shared with an image (pruning it frees nothing; kept without --all)"
            elif r.type in QUIET_TYPES:
                why = f"{r.type} record (kept without --all)"
            elif until and r.last_used > cutoff:
                why = f"used within {age_text(until)}"
            if why:
                kept.append((r.id, why))
            else:
                gone.append((r.id, f"{r.type} {r.description}".strip(), r.size))
        return UsagePrunePlan(kind, tuple(gone), tuple(kept), until, usage.read_at, before)
    raise ValueError(f"images are pruned with removal.plan_prune, not {kind}")


class UsageChanged(PlanChanged):
    """The kind's state moved between the preview and the confirmation: nothing was removed."""

    def __init__(self, plan: UsagePrunePlan, why: str) -> None:
        super().__init__(None, why)
        self.usage_plan = plan


@record
class PruneResult:
    """What the engine said it did, next to what the preview said."""

    lines: tuple[str, ...]
    """One per engine answer."""
    deleted: tuple[str, ...]
    reclaimed: int
    """The engine's figure: SpaceReclaimed, or (volumes, removed one by one) the volumes' size in
    `/system/df` before minus after."""
    unexpected: tuple[str, ...] = ()
    """Deleted although the preview did not name it."""
    missed: tuple[str, ...] = ()
    """Named by the preview but not deleted."""


def execute_usage_prune(
    api: Any, plan: UsagePrunePlan, read: Callable[[], DiskUsage]
) -> Iterator[str | PruneResult]:
    """Re-read, and if the kind's state still matches the preview, prune exactly that; yields each engine
    answer as a line, then the PruneResult. Raises PlanChanged (with the new preview) before touching
    anything if the state moved."""
    now = read()
    fresh = plan_usage_prune(now, plan.kind, plan.until)
    if fresh.fingerprint() != plan.fingerprint():
        raise UsageChanged(fresh, f"the {plan.kind} changed since the preview: nothing was removed")
    if not plan.items:
        yield PruneResult((), (), 0)
        return
    lines: list[str] = []
    if plan.kind == "containers":
        # until= just after the newest previewed container was made, by the engine's clock: a container
        # made since the preview is not taken.
        newest = max(c.created.timestamp() for c in now.containers if c.id in set(plan.ids))
        filters = json.dumps({"until": [str(int(newest) + 1)]})
        answer = api._result(api._post(api._url("/containers/prune"), params={"filters": filters}), True)
        deleted = tuple(answer.get("ContainersDeleted") or ())
        for d in deleted:
            lines.append(f"Deleted container {d[:12]}")
        reclaimed = int(answer.get("SpaceReclaimed") or 0)
    elif plan.kind == "build cache":
        params = {"filters": json.dumps({"until": [f"{plan.until}s"]})} if plan.until else {}
        answer = api._result(api._post(api._url("/build/prune"), params=params), True)
        deleted = tuple(answer.get("CachesDeleted") or ())
        for d in deleted:
            lines.append(f"Deleted build cache {d}")
        reclaimed = int(answer.get("SpaceReclaimed") or 0)
    else:
        before = {v.name: v.size for v in now.volumes}
        removed: list[str] = []
        for name, _, _ in plan.items:
            try:
                api.remove_volume(name)
            except docker.errors.APIError as exc:  # one volume's refusal does not stop the others
                line = f"{name}: {engine_words(exc)}"
            else:
                removed.append(name)
                line = f"Deleted volume {name}"
            lines.append(line)
            yield line
        after = {v.name: v.size for v in read().volumes}
        reclaimed = sum(max(size, 0) for name, size in before.items() if name not in after)
        missed = tuple(n for n in plan.ids if n not in removed)
        yield PruneResult(tuple(lines), tuple(removed), reclaimed, (), missed)
        return
    for line in lines:
        yield line
    named = set(plan.ids)
    unexpected = tuple(d for d in deleted if d not in named and not any(d.startswith(n) for n in named))
    missed = tuple(n for n in plan.ids if n not in deleted)
    yield PruneResult(tuple(lines), deleted, reclaimed, unexpected, missed)
