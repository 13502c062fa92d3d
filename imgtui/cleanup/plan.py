"""A cleanup plan: what a policy removes from the engine's real state, why, and the bytes it frees; and
applying it, one engine answer at a time.

Built on the removal module's EngineState (images, their children, containers, and the bytes only each
image has: `/system/df` on the classic store, imgtui's own model on the containerd store, see sizes.py).
An image a container uses (running or stopped) is skipped and listed with its containers; an image whose
names are only partly removed is untagged, and frees nothing; an image a child image needs only untags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from imgtui.cleanup.policy import Policy, size
from imgtui.engine.errors import engine_words
from imgtui.engine.models import NONE, Image, OutcomeLine, split_name
from imgtui.engine.removal import EngineState, PlanChanged, engine_lines

if TYPE_CHECKING:  # docker-py is imported when first used (imgtui/engine/lazy.py)
    from docker import APIClient

DAY = 86400.0


@dataclass(frozen=True)
class Item:
    """One image the plan acts on."""

    image: Image
    untag: tuple[str, ...]
    """Names removed, in order (the last one deletes the image when `deletes`); empty: a dangling image,
    removed by ID."""
    deletes: bool
    """The image itself goes (else it is only untagged)."""
    reasons: tuple[str, ...]
    """Why, one line each (a name's reason, or why it only untags)."""
    freed: int
    """Bytes only this image has, freed when it goes (0 for an untag)."""
    last_used: str
    """`last used 3 days ago` or `last used: unknown, created 40 days ago`."""

    @property
    def label(self) -> str:
        return ", ".join(self.untag) or NONE


@dataclass(frozen=True)
class Skipped:
    image: Image
    names: tuple[str, ...]
    """The names the policy would have removed (empty for a dangling image)."""
    why: str


@dataclass(frozen=True)
class Kept:
    name: str
    why: str


@dataclass(frozen=True)
class Plan:
    policy: Policy
    items: tuple[Item, ...]
    skipped: tuple[Skipped, ...]
    kept: tuple[Kept, ...]
    freed: int
    """What the whole plan frees: layers only the deleted images need, each once."""
    about: bool
    """The containerd store: the figure is imgtui's estimate (README "Sizes on both image stores")."""
    containerd: bool
    disk_before: int
    short_by: int = 0
    """`until_free` could not be reached: by this many bytes."""
    now: float = 0.0
    uses: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)

    @property
    def deleted(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.deletes)

    @property
    def untagged(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if not i.deletes)

    def fingerprint(self) -> tuple[object, ...]:
        """What must not have changed between the preview and applying it."""
        return (
            tuple((i.image.id, i.untag, i.deletes) for i in self.items),
            tuple(sorted((s.image.id, s.why) for s in self.skipped)),
        )

    def summary(self) -> str:
        """`2 images to delete, 1 name to untag, frees 360 kB (360000 bytes); 1 image skipped`."""
        deleted, untagged = len(self.deleted), sum(len(i.untag) for i in self.untagged)
        if not self.items:
            text = "Nothing to remove"
        else:
            parts = [f"{deleted} image{'' if deleted == 1 else 's'} to delete"]
            if untagged:
                parts.append(f"{untagged} name{'' if untagged == 1 else 's'} to untag")
            about = "about " if self.about else ""
            text = ", ".join(parts) + f", frees {about}{size(self.freed)} ({self.freed} bytes)"
        if self.skipped:
            text += f"; {len(self.skipped)} image{'' if len(self.skipped) == 1 else 's'} skipped"
        if self.short_by:
            text += (
                f"; {size(self.short_by)} ({self.short_by} bytes) short of --until-free: nothing more "
                "may be removed"
            )
        return text

    def to_json(self) -> dict[str, Any]:
        """The plan as `imgtui clean --json` prints it (a contract: fields may be added, none renamed)."""
        return {
            "policy": self.policy.to_json(),
            "items": [
                {
                    "image": i.image.id,
                    "names": list(i.untag),
                    "action": "delete" if i.deletes else "untag",
                    "bytes": i.freed,
                    "reasons": list(i.reasons),
                    "created": i.image.created.isoformat(),
                    "last_used": _iso(self.uses.get(i.image.id)),
                }
                for i in self.items
            ],
            "skipped": [{"image": s.image.id, "names": list(s.names), "reason": s.why} for s in self.skipped],
            "kept": [{"name": k.name, "reason": k.why} for k in self.kept],
            "freed_bytes": self.freed,
            "estimate": self.about,
            "short_by_bytes": self.short_by,
        }


def _iso(when: float | None) -> str | None:
    return None if when is None else datetime.fromtimestamp(when, timezone.utc).isoformat()


def _days(seconds: float) -> str:
    days = int(max(seconds, 0) // DAY)
    if days == 0:
        return "today"
    return f"{days} day{'' if days == 1 else 's'} ago"


def last_used_text(image: Image, uses: Mapping[str, float], now: float) -> str:
    when = uses.get(image.id)
    if when is not None:
        return f"last used {_days(now - when)}"
    return f"last used: unknown, created {_days(now - image.created.timestamp())}"


def last_used(image: Image, uses: Mapping[str, float]) -> float:
    """When the image was last used, else when it was created."""
    return uses.get(image.id, image.created.timestamp())


def make_plan(
    state: EngineState, policy: Policy, uses: Mapping[str, float], now: float | None = None
) -> Plan:
    now = datetime.now(timezone.utc).timestamp() if now is None else now
    users: dict[str, list[str]] = {}
    for c in state.containers:
        users.setdefault(c.image_id, []).append(f"{c.name} ({c.state or c.status})")

    # The newest `keep` images of each repository, by created time (then ID, for a stable order).
    newest: dict[str, dict[str, int]] = {}
    """Repository -> image ID -> its rank, 1 = newest."""
    by_repo: dict[str, set[str]] = {}
    for image in state.images.values():
        for name in image.names:
            by_repo.setdefault(split_name(name)[0], set()).add(image.id)
    for repo, ids in by_repo.items():
        ordered = sorted(ids, key=lambda i: (state.images[i].created, i), reverse=True)
        newest[repo] = {image_id: n + 1 for n, image_id in enumerate(ordered)}

    items: list[Item] = []
    skipped: list[Skipped] = []
    kept: list[Kept] = []
    done: set[str] = set()
    for image in sorted(state.images.values(), key=lambda i: (i.created, i.id)):
        used_text = last_used_text(image, uses, now)
        idle = now - last_used(image, uses)
        if image.dangling:
            if image.id in users:
                skipped.append(Skipped(image, (), "used by container " + ", ".join(sorted(users[image.id]))))
            elif state.children.get(image.id):
                skipped.append(Skipped(image, (), "a child image needs its layers"))
            else:
                items.append(Item(image, (), True, ("dangling image",), state.unique.get(image.id, 0),
                                  used_text))  # fmt: skip
                done.add(image.id)
            continue
        going: list[tuple[str, str]] = []
        staying: list[str] = []
        for name in image.names:
            why_kept, why_going = _judge(policy, name, image, newest, idle, used_text)
            if why_kept is not None:
                kept.append(Kept(name, why_kept))
                staying.append(name)
            elif why_going is not None:
                going.append((name, why_going))
        if not going:
            continue
        names = tuple(n for n, _ in going)
        if image.id in users:
            skipped.append(Skipped(image, names, "used by container " + ", ".join(sorted(users[image.id]))))
            continue
        reasons = [f"{n}: {why}" for n, why in going]
        deletes = not staying
        if staying:
            reasons.append(f"untag only: {', '.join(staying)} stay{'s' if len(staying) == 1 else ''}")
        elif state.children.get(image.id):
            deletes = False
            reasons.append("untag only: a child image needs its layers")
        items.append(Item(image, names, deletes, tuple(reasons),
                          state.unique.get(image.id, 0) if deletes else 0, used_text))  # fmt: skip
        done.add(image.id)

    freed = _freed(state, [i.image.id for i in items if i.deletes])
    short_by = 0
    if policy.until_free is not None and freed < policy.until_free:
        candidates = [
            image
            for image in state.images.values()
            if image.id not in done
            and not state.children.get(image.id)
            and not any(policy.protected_by(n) for n in image.names)
            and not (
                policy.keep is not None
                and any(newest[split_name(n)[0]].get(image.id, 0) <= policy.keep for n in image.names)
            )
        ]
        candidates.sort(key=lambda i: (last_used(i, uses), i.created, i.id))
        passed = {s.image.id for s in skipped}
        for image in candidates:
            if freed >= policy.until_free:
                break
            used_text = last_used_text(image, uses, now)
            if image.id in users:  # its turn came, but a container uses it: said, and the next one goes
                if image.id not in passed:
                    why = "used by container " + ", ".join(sorted(users[image.id]))
                    skipped.append(Skipped(image, image.names, why))
                continue
            reason = f"least recently used ({used_text}), to free {size(policy.until_free)}"
            items.append(Item(image, image.names, True, (reason,), state.unique.get(image.id, 0), used_text))
            kept = [k for k in kept if k.name not in image.names]
            freed = _freed(state, [i.image.id for i in items if i.deletes])
        short_by = max(policy.until_free - freed, 0)
    about = state.sizes is not None and state.sizes.freed(i.image.id for i in items if i.deletes).about
    return Plan(policy, tuple(items), tuple(skipped), tuple(kept), freed, about, state.containerd,
                state.layers_size, short_by, now, dict(uses))  # fmt: skip


def _judge(
    policy: Policy, name: str, image: Image, newest: dict[str, dict[str, int]], idle: float, used_text: str
) -> tuple[str | None, str | None]:
    """(why the name stays, why it goes): one of them, or neither (no rule removes tagged names)."""
    pattern = policy.protected_by(name)
    if pattern is not None:
        return f"protected by {pattern}", None
    if not policy.selects_tagged:
        return None, None
    repo = split_name(name)[0]
    rank = newest[repo][image.id]
    if policy.keep is not None and rank <= policy.keep:
        return f"among the newest {policy.keep} of {repo} (#{rank})", None
    if policy.unused_days is not None and idle <= policy.unused_days * DAY:
        since = "its creation" if used_text.startswith("last used: unknown") else "its last use"
        return f"within {policy.unused_days:g} days of {since} ({used_text})", None
    parts = []
    if policy.keep is not None:
        parts.append(f"not among the newest {policy.keep} of {repo} (#{rank})")
    if policy.unused_days is not None:
        parts.append(f"unused for more than {policy.unused_days:g} days ({used_text})")
    return None, "; ".join(parts)


def _freed(state: EngineState, deleted: list[str]) -> int:
    """Bytes deleting all of these frees, each layer once (layers only they share included)."""
    return state.freed(deleted)


def apply(api: APIClient, plan: Plan, read: Callable[[], EngineState]) -> Iterator[OutcomeLine]:
    """Check the engine against the preview (PlanChanged, before anything is removed, if it moved), then
    remove item by item with plain `rmi`s, yielding every engine answer; a refusal is a line and the rest go
    on. An `error` line's kind tells the caller that something failed."""
    from docker.errors import APIError

    fresh = make_plan(read(), plan.policy, plan.uses, plan.now)
    if fresh.fingerprint() != plan.fingerprint():
        raise PlanChanged(fresh, "the engine changed since the preview; nothing was removed")  # type: ignore[arg-type]
    for item in plan.items:
        targets = item.untag or (item.image.id,)
        for target in targets:
            try:
                yield from engine_lines(api.remove_image(target))
            except APIError as exc:
                yield OutcomeLine("error", f"{target}: {engine_words(exc)}")
