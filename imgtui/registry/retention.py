"""Registry retention: delete one tag alone, and a policy over a repository's tags.

A registry deletes manifests by digest, and every tag on that digest goes with it. To remove one tag and
leave the others on its digest in place, the tag is first pointed at a throwaway manifest of its own (an
empty OCI image whose annotations make its digest unique), then that throwaway is deleted by digest: the
registry removes exactly the one tag that points at it. Before anything is written, the tag is checked to
point where the preview said, and a DELETE of the throwaway's digest (which does not exist yet) checks that
the registry allows deletes at all: 404 says yes, 405 says no, and nothing has changed. Should the delete
still fail after the PUT, the original manifest is put back under the tag.

A retention policy keeps the newest N images of a repository by created time (each tag's image config;
tags on one digest count once, as `C` counts images) and every tag matching one of its glob patterns; the
rest go. A digest whose tags all go is deleted by digest (one request); a tag whose digest is shared with a
kept tag (or used by a kept index) goes alone, the way above.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from fnmatch import fnmatchcase

from imgtui.registry.client import Registry
from imgtui.registry.errors import NotFound, RegistryError
from imgtui.registry.models import INDEX_TYPES, OCI_MANIFEST

PARALLEL = 4
"""Requests in flight at once (as operations.PARALLEL)."""
EMPTY_CONFIG = b"{}"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
"""The OCI empty descriptor: the throwaway's config, two bytes, shared by every throwaway."""
THROWAWAY_KEY = "io.imgtui.throwaway"

Step = tuple[str, str]
"""One line of what was done, (kind, text), one per registry answer: the UI logs it as an OutcomeLine."""


def throwaway(repository: str, tag: str) -> tuple[bytes, str]:
    """An empty OCI image manifest made unique (a random id in its annotations): (bytes, digest)."""
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": EMPTY_TYPE, "digest": EMPTY_DIGEST, "size": len(EMPTY_CONFIG)},
        "layers": [],
        "annotations": {
            THROWAWAY_KEY: f"{repository}:{tag} {uuid.uuid4()}",
            "org.opencontainers.image.description": "imgtui: a throwaway to delete one tag alone",
        },
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    return raw, "sha256:" + hashlib.sha256(raw).hexdigest()


def _heads(registry: Registry, repository: str, tags: list[str]) -> dict[str, tuple[str, str]]:
    """HEAD every tag, PARALLEL at a time: tag -> (digest, media type); tags deleted meanwhile: left out."""

    def head_or_none(name: str) -> tuple[str, str] | None:
        try:
            return registry.head(repository, name)
        except NotFound:
            return None

    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="imgtui-retention") as pool:
        found = dict(zip(tags, pool.map(head_or_none, tags)))
    return {t: h for t, h in found.items() if h is not None}


def _probe_deletes(registry: Registry, repository: str, digest: str) -> Step:
    """DELETE a digest nobody has: 404 says deletes are allowed; 405 (DeleteDisabled) and 401/403 raise."""
    try:
        registry.delete(repository, digest)
    except NotFound:
        return ("info", f"{registry.host} allows deletes (a DELETE of an unused digest answered 404)")
    return ("info", f"{registry.host} allows deletes")


# -- delete only this tag ------------------------------------------------------------------------------
@dataclass(frozen=True)
class UntagPlan:
    host: str
    repository: str
    tag: str
    digest: str
    stay: tuple[str, ...]
    """The other tags on this digest: they stay."""
    in_index: tuple[str, ...]
    """Index tags that list this digest as a platform (they are not touched either)."""
    total_tags: int
    throwaway: bytes
    throwaway_digest: str

    def lines(self) -> list[str]:
        where = f"{self.host}/{self.repository}"
        out = [f"Remove only the tag {where}:{self.tag}; its manifest {self.digest} stays."]
        if self.stay:
            what = "1 other tag stays" if len(self.stay) == 1 else f"{len(self.stay)} other tags stay"
            out.append(f"{what} on that digest, as it is: {', '.join(self.stay)}")
        else:
            out.append(
                "No other tag points at it: it stays in the registry untagged, pullable by digest only "
                "(d deletes it by digest instead)."
            )
        if self.in_index:
            out.append(f"Index tags using it as a platform stay whole: {', '.join(self.in_index)}")
        out += [
            "A registry deletes by digest, so this takes two requests:",
            f"1. PUT a throwaway manifest (an empty OCI image of its own, {self.throwaway_digest[:19]}) "
            f"as {self.repository}:{self.tag};",
            "2. DELETE that throwaway by its digest: the tag goes with it, and nothing else points at it.",
            f"First imgtui checks that {self.tag} still points at {self.digest[:19]} and that the registry "
            "allows deletes (a DELETE of the throwaway's digest before it exists must answer 404); it "
            "uploads the 2-byte empty config blob if the repository lacks it.",
            "If the delete is refused after the PUT, the original manifest is put back under the tag.",
            f"{self.repository} keeps {self.total_tags - 1} of {self.total_tags} tags.",
        ]
        return out


class UntagChanged(RegistryError):
    """The tag points somewhere else now: nothing was changed; here is the new plan."""

    def __init__(self, plan: UntagPlan) -> None:
        super().__init__(f"{plan.repository}:{plan.tag} changed since the preview; nothing was changed")
        self.plan = plan


def plan_untag(registry: Registry, repository: str, tag: str) -> UntagPlan:
    """HEAD the tag, then every tag of the repository (the ones on the same digest stay)."""
    digest = registry.digest_of(repository, tag)
    tags = registry.all_tags(repository)
    heads = _heads(registry, repository, tags)
    stay = tuple(sorted(t for t, (d, _) in heads.items() if d == digest and t != tag))
    in_index = []
    for name, (index_digest, media) in sorted(heads.items()):
        if media in INDEX_TYPES and index_digest != digest:
            index = registry.manifest(repository, index_digest)
            in_index += [f"{name} ({p.platform})" for p in index.platforms if p.digest == digest]
    raw, thrown = throwaway(repository, tag)
    total = len(set(tags) | {tag})
    return UntagPlan(registry.host, repository, tag, digest, stay, tuple(in_index), total, raw, thrown)


def execute_untag(registry: Registry, plan: UntagPlan, *, probe: bool = True) -> Iterator[Step]:
    """Check, PUT the throwaway as the tag, DELETE it by digest; one step per registry answer. UntagChanged
    when the tag moved, DeleteDisabled (nothing changed) when deletes are off; any failure after the PUT
    puts the original manifest back, and says where the tag points when that fails too."""
    repo, tag, where = plan.repository, plan.tag, f"{registry.host}/{plan.repository}"
    try:
        now = registry.digest_of(repo, tag)
    except NotFound:
        raise RegistryError(f"{where}:{tag} is gone already; nothing was changed") from None
    if now != plan.digest:
        raise UntagChanged(plan_untag(registry, repo, tag))
    yield ("info", f"{where}:{tag} still points at {plan.digest[:19]}")
    if probe:
        yield _probe_deletes(registry, repo, plan.throwaway_digest)
    original, media = registry.manifest_bytes(repo, plan.digest)
    if not registry.has_blob(repo, EMPTY_DIGEST):
        registry.upload_blob(repo, EMPTY_CONFIG)
        yield ("info", f"Uploaded the empty config blob ({len(EMPTY_CONFIG)} bytes) to {where}")
    registry.put_manifest(repo, tag, plan.throwaway, OCI_MANIFEST)
    yield ("tagged", f"{where}:{tag} now points at the throwaway {plan.throwaway_digest[:19]}")
    try:
        registry.delete(repo, plan.throwaway_digest)
    except RegistryError as refused:
        yield from _put_back(registry, plan, original, media, refused)
        return
    stay = f"; {', '.join(plan.stay)} stay{'s' if len(plan.stay) == 1 else ''} on it" if plan.stay else ""
    yield ("untagged", f"Tag gone: {where}:{tag} (deleted the throwaway); {plan.digest[:19]} stays{stay}")


def _put_back(
    registry: Registry, plan: UntagPlan, original: bytes, media: str, refused: RegistryError
) -> Iterator[Step]:
    where = f"{registry.host}/{plan.repository}"
    try:
        registry.put_manifest(plan.repository, plan.tag, original, media)
    except RegistryError as again:
        raise RegistryError(
            f"{refused}; putting the original back failed too ({again}): {where}:{plan.tag} now points at "
            f"the throwaway {plan.throwaway_digest}. To fix it, point the tag back at {plan.digest}, e.g. "
            f"`crane tag {where}@{plan.digest} {plan.tag}`, or pull {where}@{plan.digest}, tag it "
            f"{where}:{plan.tag} and push"
        ) from None
    yield ("tagged", f"{where}:{plan.tag} points at {plan.digest[:19]} again (put back)")
    raise RegistryError(
        f"{refused}; {where}:{plan.tag} was put back on {plan.digest[:19]}: nothing changed", refused.status
    )


# -- retention policy ----------------------------------------------------------------------------------
class RetentionError(ValueError):
    """A policy that cannot be used, in one sentence."""


@dataclass(frozen=True)
class RetentionPolicy:
    keep: int | None = None
    """Keep the newest N images (by created time; tags of one digest count once)."""
    patterns: tuple[str, ...] = ()
    """Keep every tag matching one of these globs (fnmatch: `*`, `?`, `[...]`), e.g. `latest` `v1.*`."""

    def __post_init__(self) -> None:
        if self.keep is not None and (isinstance(self.keep, bool) or self.keep < 0):
            raise RetentionError(f"keep must be a whole number, 0 or more, not {self.keep!r}")
        if self.keep is None and not self.patterns:
            raise RetentionError(
                "give a number of newest tags to keep, or patterns of tags to keep (an empty policy would "
                "delete every tag)"
            )
        if any(not p.strip() for p in self.patterns):
            raise RetentionError("a keep pattern is empty")

    def matched(self, tag: str) -> str | None:
        return next((p for p in self.patterns if fnmatchcase(tag, p)), None)

    def describe(self) -> str:
        parts = []
        if self.keep is not None:
            parts.append(f"the newest {self.keep} by created time")
        if self.patterns:
            parts.append("tags matching " + " ".join(self.patterns))
        return "keep " + " and ".join(parts) + "; delete the other tags"


@dataclass(frozen=True)
class TagVerdict:
    tag: str
    digest: str
    created: datetime | None
    reason: str
    shared_with: tuple[str, ...] = ()
    """For a tag that goes: the kept tags on its digest (or kept indexes using it): it goes alone."""

    @property
    def alone(self) -> bool:
        return bool(self.shared_with)


@dataclass(frozen=True)
class RetentionPlan:
    host: str
    repository: str
    policy: RetentionPolicy
    doomed: tuple[TagVerdict, ...]
    """Oldest first."""
    kept: tuple[TagVerdict, ...]
    """Newest first."""
    heads: tuple[tuple[str, str], ...]
    """(tag, digest) of every tag when planned: applying checks the repository still looks like this."""

    @property
    def whole_digests(self) -> list[tuple[str, list[str]]]:
        """(digest, its tags) deleted by digest: every tag on it goes, no kept index uses it."""
        groups: dict[str, list[str]] = {}
        for v in self.doomed:
            if not v.alone:
                groups.setdefault(v.digest, []).append(v.tag)
        return list(groups.items())

    @property
    def requests(self) -> int:
        """DELETEs and PUTs that change the registry."""
        return len(self.whole_digests) + 2 * sum(v.alone for v in self.doomed)

    def summary(self) -> str:
        if not self.doomed:
            return f"Nothing to delete: all {len(self.kept)} tags of {self.repository} are kept."
        alone = sum(v.alone for v in self.doomed)
        how = f" ({alone} alone, by a throwaway manifest)" if alone else ""
        return (
            f"Delete {_tags(len(self.doomed))} of {self.repository}{how}, keep {len(self.kept)}: "
            f"{self.requests} request{'s' if self.requests != 1 else ''} that change the registry."
        )

    def lines(self) -> list[str]:
        out = [f"Policy: {self.policy.describe()}", self.summary()]
        for v in self.doomed:
            out.append(f"delete {v.tag}  created {_when(v.created)}  {v.digest[:19]}  ({v.reason})")
            if v.alone:
                out.append(
                    f"  its digest is shared with kept {', '.join(v.shared_with)}: only this tag goes "
                    "(pointed at a throwaway manifest, then that is deleted by digest)"
                )
        digests = self.whole_digests
        for digest, tags in digests:
            if len(tags) > 1:
                out.append(f"  {digest[:19]} is deleted once: {', '.join(tags)} go together")
        for v in self.kept:
            out.append(f"keep {v.tag}  created {_when(v.created)}  {v.digest[:19]}  ({v.reason})")
        if digests:
            out.append("Space on the registry's disk comes back only when its garbage collection runs.")
        return out

    def fingerprint(self) -> tuple[tuple[str, str], ...]:
        return self.heads


class RetentionChanged(RegistryError):
    """The repository's tags moved since the preview: nothing was changed; here is the new plan."""

    def __init__(self, plan: RetentionPlan) -> None:
        super().__init__(f"the tags of {plan.repository} changed since the preview; nothing was changed")
        self.plan = plan


def _tags(n: int) -> str:
    return f"{n} tag" if n == 1 else f"{n} tags"


def _when(created: datetime | None) -> str:
    if created is None:
        return "unknown"
    return created.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def created_times(
    registry: Registry, repository: str, digests: set[str]
) -> dict[str, tuple[datetime | None, tuple[str, ...]]]:
    """digest -> (created, platform digests): an image's config `created`; an index's newest platform's.
    A manifest and a config per digest (cached by the client, shared with the layers pane)."""

    def read(digest: str) -> tuple[datetime | None, tuple[str, ...]]:
        try:
            manifest = registry.manifest(repository, digest)
            if not manifest.is_index:
                return registry.config(repository, manifest).created, ()
            times = []
            for entry in manifest.platforms:
                child = registry.manifest(repository, entry.digest)
                if not child.is_index:
                    times.append(registry.config(repository, child).created)
            known = [t for t in times if t is not None]
            return (max(known) if known else None), tuple(p.digest for p in manifest.platforms)
        except NotFound:
            return None, ()

    ordered = sorted(digests)
    with ThreadPoolExecutor(PARALLEL, thread_name_prefix="imgtui-retention") as pool:
        return dict(zip(ordered, pool.map(read, ordered)))


def plan_retention(registry: Registry, repository: str, policy: RetentionPolicy) -> RetentionPlan:
    """Every tag's digest (HEAD), each digest's created time, then the verdicts."""
    heads = _heads(registry, repository, registry.all_tags(repository))
    digest_of = {t: d for t, (d, _) in heads.items()}
    facts = created_times(registry, repository, set(digest_of.values()))
    dated = sorted(
        ((when, d) for d in set(digest_of.values()) if (when := facts[d][0]) is not None), reverse=True
    )
    rank = {d: n + 1 for n, (_, d) in enumerate(dated)}

    kept: list[TagVerdict] = []
    going: list[tuple[str, str]] = []
    for tag, digest in digest_of.items():
        created = facts[digest][0]
        pattern = policy.matched(tag)
        if pattern is not None:
            kept.append(TagVerdict(tag, digest, created, f"matches {pattern}"))
        elif created is None:
            kept.append(TagVerdict(tag, digest, None, "created time unknown: kept"))
        elif policy.keep is not None and rank[digest] <= policy.keep:
            kept.append(TagVerdict(tag, digest, created, f"among the newest {policy.keep}, #{rank[digest]}"))
        else:
            why = (
                f"not among the newest {policy.keep}, #{rank[digest]}"
                if policy.keep is not None
                else "matches no keep pattern"
            )
            going.append((tag, why))
    kept_on: dict[str, list[str]] = {}
    for v in kept:
        kept_on.setdefault(v.digest, []).append(v.tag)
        for platform in facts[v.digest][1]:
            kept_on.setdefault(platform, []).append(f"{v.tag} (a platform of it)")
    doomed = [
        TagVerdict(tag, digest_of[tag], facts[digest_of[tag]][0], why,
                   tuple(sorted(kept_on.get(digest_of[tag], ()))))
        for tag, why in going
    ]  # fmt: skip
    doomed.sort(key=lambda v: (v.created or datetime.min.replace(tzinfo=timezone.utc), v.tag))
    kept.sort(key=lambda v: (v.created or datetime.min.replace(tzinfo=timezone.utc), v.tag), reverse=True)
    return RetentionPlan(
        registry.host, repository, policy, tuple(doomed), tuple(kept), tuple(sorted(digest_of.items()))
    )


def apply_retention(registry: Registry, plan: RetentionPlan) -> Iterator[Step]:
    """Check the tags are as planned (else RetentionChanged), check deletes are allowed, then delete: one
    step per registry answer. Stops at the first failure (its sentence is raised)."""
    repo, where = plan.repository, f"{registry.host}/{plan.repository}"
    now = tuple(sorted((t, d) for t, (d, _) in _heads(registry, repo, registry.all_tags(repo)).items()))
    if now != plan.heads:
        raise RetentionChanged(plan_retention(registry, repo, plan.policy))
    yield ("info", f"{where}: all {_tags(len(now))} still point where the preview said")
    if not plan.doomed:
        return
    yield _probe_deletes(registry, repo, throwaway(repo, "probe")[1])
    for digest, tags in plan.whole_digests:
        registry.delete(repo, digest)
        yield ("deleted", f"Deleted {where}@{digest}: {', '.join(f'{where}:{t}' for t in tags)} gone")
    for v in plan.doomed:
        if v.alone:
            raw, thrown = throwaway(repo, v.tag)
            alone = UntagPlan(registry.host, repo, v.tag, v.digest, v.shared_with, (), 0, raw, thrown)
            yield from execute_untag(registry, alone, probe=False)
