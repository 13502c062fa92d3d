"""What a removal will do, worked out from the engine's real state before anything happens, and doing
exactly that (or nothing, if the state changed since the user saw the preview).

The engine's rules this follows (checked on dockerd 20.10 and 26.1, with both image stores, and in the
seed notes):
- untagging a name the image shares with other names only untags;
- removing an image's last name deletes it, unless a container (even a stopped one) uses it (then the
  engine refuses: "must force") or a child image still needs its layers (then it only untags, as for the
  seeds' `commit_test:first`; the containerd store then lists it as a dangling `<none>` image, although its
  answer says `Deleted`);
- forcing past a *running* container only untags and leaves the image dangling; a dangling image a running
  container uses cannot be removed even with force; forcing past a *stopped* container deletes the image
  record on the classic store (the container keeps its layers and still starts) and only untags on the
  containerd store.

Sizes come from imgtui.engine.sizes: the engine's own figures on the classic store, a model built from
each image's layers and content on the containerd store, and from its layers alone on Podman.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from imgtui.engine.errors import engine_words
from imgtui.engine.models import Container, Image, OutcomeLine, familiar, full_id, short_id
from imgtui.engine.sizes import ContainerdSizes, ImageParts, SharedLayers

if TYPE_CHECKING:
    from docker import APIClient

Mode = Literal["tag", "image"]
Action = Literal["remove", "stop_and_remove", "force"]
STOP_TIMEOUT = 10
"""Seconds the engine gives a container to exit when stopped before a removal (docker stop's default)."""


@dataclass(frozen=True)
class EngineState:
    """The part of the engine's state a removal depends on, read in a few requests."""

    images: dict[str, Image]
    """Top-level images by ID."""
    children: dict[str, tuple[str, ...]]
    """Image ID -> IDs of images whose parent it is (from `GET /images/json?all=1`)."""
    containers: tuple[Container, ...]
    unique: dict[str, int]
    """Image ID -> bytes no other image shares (`Size - SharedSize` of `/system/df`, or the model)."""
    layers_size: int
    """Bytes all images take on disk, each layer once."""
    sizes: ContainerdSizes | None = None
    """The containerd store's size model; None on the classic store, whose own figures are right."""
    shared_layers: SharedLayers | None = field(default=None, compare=False)
    """On the classic store: what several images deleted together free (layers only they share)."""
    podman: bool = False
    """The engine is Podman, whose forced removal takes the containers with it."""

    @property
    def containerd(self) -> bool:
        return self.sizes is not None and self.sizes.compressed

    def freed(self, image_ids: Iterable[str]) -> int:
        """Bytes deleting all of these images frees, each layer once (may read layers: in a worker)."""
        ids = list(image_ids)
        if self.sizes is not None:
            return self.sizes.freed(ids).own
        if self.shared_layers is not None:
            return self.shared_layers.freed(ids)
        return sum(self.unique.get(i, 0) for i in ids)

    def size_of(self, image: Image) -> int:
        """All the bytes an image takes, shared or not."""
        if self.sizes is not None and image.id in self.sizes.parts:
            return self.sizes.footprint(image.id).total
        return image.size


@dataclass(frozen=True)
class RemovalPlan:
    """One removal, as previewed."""

    target: str
    """The name (or, for a dangling image, the ID) the user chose."""
    mode: Mode
    image: Image
    untag: tuple[str, ...]
    keeps: tuple[str, ...]
    children: tuple[str, ...]
    containers: tuple[Container, ...]
    unique_size: int
    shared_size: int
    disk_before: int = 0
    """Disk used by all images when previewed, to report what the removal really reclaimed."""
    containerd: bool = False
    """The engine keeps images in the containerd store: sizes are estimates, other rules (module doc)."""
    podman: bool = False
    """The engine is Podman: a forced removal of an image's last name stops and removes its containers."""

    @property
    def deletes(self) -> bool:
        """Will the image itself be deleted by a plain, unforced removal?"""
        return not self.keeps and not self.children and not self.containers

    @property
    def force_allowed(self) -> bool:
        """The engine refuses to force past a running container when there is no name left to untag."""
        return bool(self.untag) or not self.running or self.podman

    @property
    def blocked(self) -> bool:
        """The engine will refuse without force (or without removing the containers first)."""
        return not self.keeps and bool(self.containers)

    @property
    def running(self) -> tuple[Container, ...]:
        return tuple(c for c in self.containers if c.running)

    @property
    def freed(self) -> int:
        return self.unique_size if self.deletes else 0

    def fingerprint(self) -> tuple[object, ...]:
        """What must not have changed between the preview and the confirmation."""
        # Sorted: the engine lists an image's names (and its children) in no fixed order.
        return (
            self.image.id,
            tuple(sorted(self.untag)),
            tuple(sorted(self.keeps)),
            tuple(sorted(self.children)),
            tuple(sorted((c.id, c.running) for c in self.containers)),
        )

    def force_outcome(self) -> str:
        """What force does here on this engine, in plain words (each case checked by doing it)."""
        names = ", ".join(self.untag) or self.image.short_id
        if self.podman and not self.keeps:
            users = ", ".join(sorted(c.name for c in self.containers))
            stops = "stops and removes" if self.running else "removes"
            noun = "container" if len(self.containers) == 1 else "containers"
            if self.children:
                return (
                    f"Force on Podman {stops} {noun} {users} too (its rmi --force does), then untags "
                    f"{names}; a child image keeps its layers."
                )
            return (
                f"Force on Podman {stops} {noun} {users} too (its rmi --force does), then deletes the "
                f"image {self.image.short_id}: frees {self.unique_size} bytes."
            )
        if self.running:
            users = ", ".join(c.name for c in self.running)
            if not self.untag:
                return (
                    f"Force is refused here: the engine will not remove a dangling image while running "
                    f"container {users} uses it. Stop and remove the container first."
                )
            return (
                f"Force untags {names}, but the image stays behind as a dangling <none> image while "
                f"running container {users} uses it."
            )
        users = ", ".join(c.name for c in self.containers)
        if self.containerd:
            return (
                f"Force untags {names}; on the containerd image store the image stays behind as a dangling "
                f"<none> image while stopped container {users} exists."
            )
        if self.children:
            return (
                f"Force untags {names}; the image itself stays, because a child image still needs its layers."
            )
        return (
            f"Force deletes the image record although stopped container {users} uses it: nothing is freed, "
            "the container keeps its layers and still starts."
        )

    def summary(self) -> list[str]:
        """The preview, one line each, as the confirmation shows it."""
        what = self.target if self.target != self.image.id else f"dangling image {self.image.short_id}"
        lines = [f"Image {self.image.short_id} ({what})"]
        if self.untag:
            lines.append(f"Untags: {', '.join(self.untag)}")
        if self.keeps:
            lines.append(f"Keeps:  {', '.join(self.keeps)} (same image: nothing is deleted)")
        children = ", ".join(short_id(c) for c in self.children)
        for c in self.containers:
            lines.append(f"Used by container {c.name} ({c.status})")
        if self.blocked:
            lines.append('The engine refuses this while those containers exist ("must force").')
        elif self.children and not self.keeps:
            lines.append(
                f"Only untags: {len(self.children)} child "
                f"{'image needs' if len(self.children) == 1 else 'images need'} its layers ({children})"
            )
            if self.containerd:
                lines.append(
                    "The containerd image store then lists it as a dangling <none> image (its answer says "
                    "Deleted, but the image stays until its children go)."
                )
            if self.podman:
                lines.append("Podman then drops the image from its list; its layers stay for the child.")
        elif self.deletes:
            about = "about " if self.containerd else ""
            lines.append(
                f"Deletes the image and frees {about}{self.unique_size} bytes not shared with other images"
            )
        return lines


@dataclass(frozen=True)
class PrunePlan:
    """`docker image prune` (dangling) or `prune -a` (every image no container uses), as previewed."""

    all_unused: bool
    images: tuple[Image, ...]
    unique: dict[str, int] = field(hash=False, compare=False)
    sizes: ContainerdSizes | None = field(default=None, hash=False, compare=False)
    disk_before: int = 0
    skipped: tuple[tuple[Image, str], ...] = field(default=(), hash=False, compare=False)
    """Images the status line counts (dangling ones; every unused one for `-a`) that the prune leaves, and
    why: a container uses it (the engine skips those), a child image needs its layers."""
    together: int | None = field(default=None, hash=False, compare=False)
    """What they free together, worked out when planned (EngineState.freed)."""
    podman: bool = field(default=False, hash=False, compare=False)
    """Podman's SpaceReclaimed is the pruned images' whole sizes, shared layers included."""

    @property
    def containerd(self) -> bool:
        return self.sizes is not None and self.sizes.compressed

    @property
    def freed(self) -> int:
        """What the prune gives back: on the containerd store, layers only the pruned images need, once."""
        if self.together is not None:
            return self.together
        if self.sizes is not None:
            return self.sizes.freed(i.id for i in self.images).own
        return sum(self.unique.get(i.id, 0) for i in self.images)

    def fingerprint(self) -> tuple[str, ...]:
        return tuple(sorted(i.id for i in self.images))


class PlanChanged(Exception):
    """The engine's state changed after the preview; nothing was removed. Carries the new preview."""

    def __init__(self, plan: RemovalPlan | PrunePlan | None, why: str) -> None:
        super().__init__(why)
        self.plan = plan


def read_state(
    api: APIClient,
    df: Callable[[], dict[str, Any]],
    containerd_sizes: Callable[[list[str]], ContainerdSizes] | None = None,
    image_parts: Callable[[list[str]], dict[str, ImageParts]] | None = None,
) -> EngineState:
    """Four requests: images (all, for parents; top-level), containers, disk usage (for unique sizes).
    On the containerd store, `containerd_sizes` gives the size model instead of disk usage (an inspect and
    a history for each image it has not seen before)."""
    rows = api.images(all=True)
    top = {row["Id"] for row in api.images()}
    images = {row["Id"]: Image.from_summary(row) for row in rows if row["Id"] in top}
    children: dict[str, list[str]] = {}
    for row in rows:
        parent = full_id(row.get("ParentId") or "")
        if parent:
            children.setdefault(parent, []).append(row["Id"])
    containers = tuple(Container.from_summary(c) for c in api.containers(all=True))
    if containerd_sizes is not None:
        sizes = containerd_sizes(sorted(images))
        return EngineState(
            images=images,
            children={k: tuple(v) for k, v in children.items()},
            containers=containers,
            unique={image_id: sizes.footprint(image_id).own for image_id in images},
            layers_size=sizes.disk_total(),
            sizes=sizes,
        )
    usage = df()
    unique = {
        i["Id"]: max(int(i.get("Size") or 0) - max(int(i.get("SharedSize") or 0), 0), 0)
        for i in usage.get("Images") or []
    }
    shared = {i["Id"]: max(int(i.get("SharedSize") or 0), 0) for i in usage.get("Images") or []}
    return EngineState(
        images=images,
        children={k: tuple(v) for k, v in children.items()},
        containers=containers,
        unique=unique,
        layers_size=int(usage.get("LayersSize") or 0),
        shared_layers=SharedLayers(unique, shared, image_parts) if image_parts is not None else None,
    )


def plan_removal(state: EngineState, target: str, image_id: str, mode: Mode) -> RemovalPlan:
    image = state.images.get(image_id)
    if image is None:
        raise PlanChanged(None, f"{target} no longer exists")
    if target != image.id and target not in image.names:
        raise PlanChanged(None, f"{target} now names another image")
    untag = image.names if mode == "image" else ((target,) if target in image.names else ())
    keeps = tuple(n for n in image.names if n not in untag)
    users = tuple(c for c in state.containers if c.image_id == image.id)
    size = state.unique.get(image.id, 0)
    return RemovalPlan(
        target=target,
        mode=mode,
        image=image,
        untag=untag,
        keeps=keeps,
        children=state.children.get(image.id, ()),
        containers=users,
        unique_size=size,
        shared_size=max(state.size_of(image) - size, 0),
        disk_before=state.layers_size,
        containerd=state.containerd,
        podman=state.podman,
    )


def plan_bulk(state: EngineState, pairs: list[tuple[str, str]]) -> list[str]:
    """What removing each (name or dangling ID, image ID) in turn will do, one line each."""
    names = {i.id: set(i.names) for i in state.images.values()}
    lines = []
    for target, image_id in pairs:
        image = state.images.get(image_id)
        if image is None or (target != image_id and target not in names.get(image_id, set())):
            lines.append(f"{target}: gone or moved since it was listed; will be skipped")
            continue
        remaining = names[image_id] - {target}
        users = [c.name for c in state.containers if c.image_id == image_id]
        if remaining:
            lines.append(f"{target}: untag only ({image.short_id} keeps {', '.join(sorted(remaining))})")
        elif users:
            lines.append(f"{target}: refused by the engine, used by container {', '.join(users)}")
        elif state.children.get(image_id):
            lines.append(f"{target}: untag only (a child image needs {image.short_id})")
        else:
            about = "about " if state.containerd else ""
            lines.append(
                f"{target}: deletes {image.short_id}, frees {about}{state.unique.get(image_id, 0)} bytes"
            )
        names[image_id] = remaining
    return lines


def plan_prune(state: EngineState, all_unused: bool) -> PrunePlan:
    users: dict[str, list[str]] = {}
    for c in state.containers:
        users.setdefault(c.image_id, []).append(c.name)
    chosen, skipped = [], []
    for image in state.images.values():
        if not (all_unused or image.dangling):
            continue
        if image.id in users:
            names = ", ".join(sorted(users[image.id]))
            skipped.append((image, f"used by container {names}"))
        elif not all_unused and state.children.get(image.id):
            skipped.append((image, "a child image needs its layers"))
        else:
            chosen.append(image)
    chosen.sort(key=lambda i: (-i.size, i.id))
    skipped.sort(key=lambda s: s[0].id)
    return PrunePlan(all_unused, tuple(chosen), dict(state.unique), state.sizes, state.layers_size,
                     tuple(skipped), state.freed(i.id for i in chosen), state.podman)  # fmt: skip


def engine_lines(answer: list[dict[str, str]] | None) -> Iterator[OutcomeLine]:
    """The engine's own `Untagged:` / `Deleted:` lines from an rmi or prune answer."""
    for item in answer or []:
        for key in ("Untagged", "Deleted"):
            if key in item:  # in Docker's words: Podman writes `docker.io/library/NAME`, IDs with no sha256:
                what = familiar(item[key]) if key == "Untagged" else full_id(item[key])
                yield OutcomeLine(key.lower(), f"{key}: {what}")


def command_line(plan: RemovalPlan, action: Action) -> str:
    """The docker CLI commands a removal amounts to, for the outcome log."""
    rmi = f"rmi {'-f ' if action == 'force' else ''}{' '.join(plan.untag) or plan.image.short_id}"
    if action == "stop_and_remove":
        names = " ".join(c.name for c in plan.containers)
        running = " ".join(c.name for c in plan.running)
        return (f"stop {running}; " if running else "") + f"rm {names}; {rmi}"
    return rmi


def execute_removal(
    api: APIClient,
    plan: RemovalPlan,
    action: Action,
    read: Callable[[], EngineState],
) -> Iterator[OutcomeLine]:
    """Re-check, then remove exactly what `plan` previewed, yielding each engine answer as it comes.

    Raises PlanChanged (before anything is removed) if the state differs from the preview.
    """
    fresh = plan_removal(read(), plan.target, plan.image.id, plan.mode)
    if fresh.fingerprint() != plan.fingerprint():
        raise PlanChanged(fresh, "the engine changed since the preview; nothing was removed")
    yield OutcomeLine("action", command_line(plan, action))
    if action == "stop_and_remove":
        for c in plan.containers:
            if c.running:
                yield OutcomeLine(
                    "container", f"Stopping container {c.name} (the engine waits up to {STOP_TIMEOUT} s) …"
                )
                api.stop(c.id, timeout=STOP_TIMEOUT)
                yield OutcomeLine("container", f"Stopped container {c.name}")
            api.remove_container(c.id)
            yield OutcomeLine("container", f"Removed container {c.name}")
    force = action == "force"
    if not plan.untag:
        yield from engine_lines(api.remove_image(plan.image.id, force=force))
        return
    for n, name in enumerate(plan.untag):
        last = n == len(plan.untag) - 1
        yield from engine_lines(api.remove_image(name, force=force and last))


def prune_candidates(api: APIClient, all_unused: bool) -> set[str]:
    """What a prune would take now, in two light requests (no disk usage): the re-check before pruning."""
    used = {full_id(c.get("ImageID") or "") for c in api.containers(all=True)}
    rows = api.images() if all_unused else api.images(filters={"dangling": True})
    return {r["Id"] for r in rows if r["Id"] not in used}


def execute_bulk(api: APIClient, pairs: list[tuple[str, str]], state: EngineState) -> Iterator[OutcomeLine]:
    """One plain `rmi` per item, skipping any whose name now points elsewhere; failures do not stop it."""
    from docker.errors import APIError

    for target, image_id in pairs:
        image = state.images.get(image_id)
        if image is None or (target != image_id and target not in image.names):
            yield OutcomeLine("error", f"{target}: skipped, it no longer names image {short_id(image_id)}")
            continue
        try:
            yield from engine_lines(api.remove_image(target))
        except APIError as exc:
            yield OutcomeLine("error", f"{target}: {engine_words(exc)}")


def execute_prune(
    api: APIClient, plan: PrunePlan, read: Callable[[], EngineState]
) -> tuple[list[OutcomeLine], int]:
    """Re-check the candidates, then let the engine prune; returns its lines and SpaceReclaimed."""
    if prune_candidates(api, plan.all_unused) != set(plan.fingerprint()):
        raise PlanChanged(
            plan_prune(read(), plan.all_unused),
            "the set of images to prune changed since the preview; nothing was removed",
        )
    answer = api.prune_images(filters={"dangling": not plan.all_unused})
    return list(engine_lines(answer.get("ImagesDeleted"))), int(answer.get("SpaceReclaimed") or 0)
