"""What the registry view does with a Registry: fill tag rows (manifest + config, platform rows of an index),
plan and carry out a delete by digest (which takes every tag on that digest with it), and compare a local
image with the tag of the same name in its registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from imgtui.registry.client import Registry
from imgtui.registry.errors import NotFound, RegistryError
from imgtui.registry.models import INDEX_TYPES, RemoteTag

PARALLEL = 4
"""Requests in flight at once when many tags need a look (a registry is often across a slow link)."""


def tag_rows(registry: Registry, repository: str, tag: str) -> list[RemoteTag]:
    """The row of one tag, filled in: digest, kind, size, created, platform; for an index, one more row per
    platform, filled from that platform's own manifest and config."""
    base = RemoteTag(repository, tag)
    try:
        manifest = registry.manifest(repository, tag)
        if manifest.is_index:
            head = replace(
                base,
                digest=manifest.digest,
                kind=manifest.kind,
                platform=f"{len(manifest.platforms)} platform{'s' if len(manifest.platforms) != 1 else ''}",
                loaded=True,
            )
            children = [
                platform_row(registry, child)
                for child in (
                    RemoteTag(
                        repository,
                        tag,
                        digest=entry.digest,
                        kind="platform",
                        size=None,
                        platform=entry.platform,
                        parent=tag,
                        loaded=False,
                    )
                    for entry in manifest.platforms
                )
            ]
            return [head, *children]
        config = registry.config(repository, manifest)
        return [
            replace(
                base,
                digest=manifest.digest,
                kind=manifest.kind,
                size=manifest.layers_size + manifest.size,
                created=config.created,
                platform=config.platform,
                loaded=True,
            )
        ]
    except RegistryError as exc:
        return [replace(base, error=str(exc), loaded=True)]


def platform_row(registry: Registry, row: RemoteTag) -> RemoteTag:
    """Fill a platform row of an index: its own manifest and config."""
    try:
        manifest = registry.manifest(row.repository, row.digest)
        if manifest.is_index:
            return replace(row, kind=manifest.kind, loaded=True)
        config = registry.config(row.repository, manifest)
        size = manifest.layers_size + manifest.size
        return replace(row, kind=manifest.kind, size=size, created=config.created, loaded=True)
    except RegistryError as exc:
        return replace(row, error=str(exc), loaded=True)


def fill(
    registry: Registry,
    repository: str,
    tags: Iterable[str],
    report: Callable[[str, list[RemoteTag]], None],
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """tag_rows for each tag, PARALLEL at a time, in the order given (the UI puts the ones near the cursor
    first); `report(tag, rows)` as each arrives; stops early once `stop()` says so."""
    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="imgtui-registry") as pool:
        pending = list(tags)
        while pending and not stop():
            batch, pending = pending[: PARALLEL * 2], pending[PARALLEL * 2 :]
            for tag, rows in zip(batch, pool.map(lambda t: tag_rows(registry, repository, t), batch)):
                if stop():
                    return
                report(tag, rows)


@dataclass(frozen=True)
class DeletePlan:
    repository: str
    tag: str
    digest: str
    siblings: tuple[str, ...]
    """Every tag of the repository on this digest, the chosen one included: deleting by digest removes all."""
    total_tags: int
    in_index: tuple[str, ...] = ()
    """Index tags that list this manifest as one of their platforms ("tag (os/arch)"): they would break."""

    def lines(self) -> list[str]:
        others = [t for t in self.siblings if t != self.tag]
        out = [
            f"Delete the manifest {self.digest} from {self.repository}.",
            "A registry deletes by digest: every tag pointing at it goes too.",
        ]
        if others:
            what = "1 other tag points" if len(others) == 1 else f"{len(others)} other tags point"
            out.append(f"{what} at it and will be deleted: {', '.join(others)}")
        else:
            out.append(f"No other tag of {self.repository} points at it.")
        if self.in_index:
            out.append(
                f"It is a platform of {', '.join(self.in_index)}: that index would point at a missing "
                "manifest, and pulling that platform would fail."
            )
        kept = self.total_tags - len(self.siblings)
        if kept:
            out.append(f"{self.repository} keeps {kept} of {self.total_tags} tags.")
        else:
            out.append(
                f"{self.repository} keeps none of its {self.total_tags} tags (the catalog still lists it)."
            )
        out.append("Space on the registry's disk comes back only when its garbage collection runs")
        out.append("(registry garbage-collect, with the registry stopped or read-only).")
        return out


class PlanChanged(RegistryError):
    """The tag points somewhere else now: nothing was deleted; here is the new plan."""

    def __init__(self, plan: DeletePlan) -> None:
        super().__init__(f"{plan.repository}:{plan.tag} changed since the preview; nothing was deleted")
        self.plan = plan


def plan_delete(registry: Registry, repository: str, tag: str) -> DeletePlan:
    """HEAD the tag for its digest, then HEAD every tag of the repository to find the ones sharing it."""
    digest = registry.digest_of(repository, tag)
    tags = registry.all_tags(repository)

    def head_or_none(name: str) -> tuple[str, str] | None:
        try:
            return registry.head(repository, name)
        except NotFound:  # deleted meanwhile
            return None

    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="imgtui-registry") as pool:
        heads = dict(zip(tags, pool.map(head_or_none, tags)))
    siblings = tuple(sorted({tag} | {t for t, h in heads.items() if h is not None and h[0] == digest}))
    in_index = []
    for name, found in sorted(heads.items()):
        if found is not None and found[1] in INDEX_TYPES and name not in siblings:
            index = registry.manifest(repository, found[0])
            in_index += [f"{name} ({p.platform})" for p in index.platforms if p.digest == digest]
    return DeletePlan(repository, tag, digest, siblings, len(tags), tuple(in_index))


def execute_delete(registry: Registry, plan: DeletePlan) -> list[str]:
    """Delete by digest unless the tag moved since the plan (then PlanChanged with the new plan); returns
    the tags that were on it."""
    now = registry.digest_of(plan.repository, plan.tag)
    if now != plan.digest:
        raise PlanChanged(plan_delete(registry, plan.repository, plan.tag))
    registry.delete(plan.repository, plan.digest)
    return list(plan.siblings)


@dataclass(frozen=True)
class RemoteStatus:
    state: str
    """"up to date", "differs", "not pushed", or "unknown" (with why in `detail`)."""
    detail: str = ""
    remote_digest: str = ""


def remote_status(
    registry: Registry, repository: str, tag: str, local_digests: Iterable[str]
) -> RemoteStatus:
    """Compare a local image (its RepoDigests for this repository) with the registry's tag."""
    try:
        remote = registry.digest_of(repository, tag)
    except NotFound:
        return RemoteStatus("not pushed", f"{registry.host} has no {repository}:{tag}")
    except RegistryError as exc:
        return RemoteStatus("unknown", str(exc))
    if remote in set(local_digests):
        return RemoteStatus("up to date", f"same digest {remote[:19]}", remote)
    return RemoteStatus("differs", f"the registry has {remote[:19]}; this image is not that one", remote)
