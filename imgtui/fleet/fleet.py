"""Several engines at once: each one's totals (images, dangling, what pruning its dangling images frees), an
image found across them, and their dangling images pruned engine by engine.

Every question goes to all engines through one bounded thread pool (WORKERS at a time), each engine with a
deadline of `timeout` seconds (its requests carry the same timeout): an engine that is down, refuses, or is
slow gets a sentence of its own, and the others' answers come in as they arrive. The bytes are those of the
single-engine prune preview (removal.plan_prune): on the classic store exactly the engine's SpaceReclaimed.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TypeVar

from imgtui.engine import removal
from imgtui.engine.client import Engine, EngineUnavailable, describe
from imgtui.engine.contexts import ContextError
from imgtui.engine.models import EngineInfo, Image, OutcomeLine, familiar, split_name
from imgtui.engine.removal import PlanChanged, PrunePlan
from imgtui.fleet.specs import EngineSpec

NOT_ANSWERED = "no Docker engine answered at "
"""How Engine.connect_endpoint's failure begins (then the address, its source, and the reason)."""
WORKERS = 4
"""Engines asked at the same time."""
T = TypeVar("T")


def _size(n: int) -> str:
    import humanize

    return humanize.naturalsize(n)


@dataclass(frozen=True)
class Report:
    """One engine's answer to a poll, or why there is none."""

    spec: EngineSpec
    info: EngineInfo | None = None
    images: tuple[Image, ...] = ()
    plan: PrunePlan | None = None
    """The prune of its dangling images, as previewed (each image's bytes in `plan.unique`)."""
    error: str | None = None
    """`unreachable: …`, `timed out: …`, `refused: …`; None when the engine answered."""
    seconds: float = 0.0
    same_as: str | None = None
    """The label of an engine listed before this one that is the same engine (same_engines): its
    figures are not counted twice, and it is pruned once, there."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def counted(self) -> bool:
        """It answered, and is not an engine listed before under another address."""
        return self.ok and self.same_as is None

    @property
    def dangling(self) -> int:
        """Every dangling image, those a container or a child image keeps included."""
        return sum(1 for i in self.images if i.dangling)

    @property
    def reclaimable(self) -> int:
        """What pruning its dangling images frees (layers only they have, each once)."""
        return self.plan.freed if self.plan is not None else 0

    @property
    def about(self) -> bool:
        """The bytes are imgtui's estimate (containerd image store)."""
        return self.plan is not None and self.plan.containerd

    def image_bytes(self, image: Image) -> int:
        """What this one dangling image frees on its own."""
        return self.plan.unique.get(image.id, 0) if self.plan is not None else 0

    @property
    def status(self) -> str:
        if self.error is not None:
            return self.error
        assert self.info is not None
        if self.same_as is not None:
            return f"same engine as {self.same_as}"
        return f"{self.info.product} {self.info.version}"


@dataclass(frozen=True)
class Hit:
    """An image found on one engine, and what matched."""

    engine: str
    image: Image
    matched: str
    """`name busybox:latest`, `ID sha256:1a2b…`, `digest reg/x@sha256:…`."""


@dataclass(frozen=True)
class Applied:
    """One engine's answer to the prune of its dangling images."""

    spec: EngineSpec
    plan: PrunePlan | None
    lines: tuple[OutcomeLine, ...] = ()
    """The engine's own `Deleted:` lines (its layers' too)."""
    reclaimed: int = 0
    """The engine's SpaceReclaimed."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def log_line(self) -> OutcomeLine:
        """The one line the log shows for this answer."""
        name = self.spec.label
        if self.error is not None:
            return OutcomeLine("error", f"{name}: {self.error}")
        plan = self.plan
        assert plan is not None
        said_deleted = {line.text.removeprefix("Deleted: ") for line in self.lines if line.kind == "deleted"}
        deleted = sum(1 for image in plan.images if image.id in said_deleted)  # layers have lines too
        said = f"the preview said {plan.freed} bytes"
        if plan.containerd:
            counted = " (as the containerd image store counts it: manifests and configs, not layers)"
            said = f"imgtui's estimate of the disk freed was {plan.freed} bytes"
        elif plan.podman:
            counted = " (as Podman counts it: whole sizes, shared layers included)"
        else:
            counted = ""
        planned = f"{len(plan.images)} dangling image{'' if len(plan.images) == 1 else 's'}"
        got = f"the engine reclaimed {_size(self.reclaimed)} ({self.reclaimed} bytes){counted}"
        return OutcomeLine("reclaimed", f"{name}: pruned {deleted} of {planned}, {got}; {said}")


@dataclass
class _Member:
    spec: EngineSpec
    engine: Engine | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def error_sentence(exc: BaseException, timeout: float) -> str:
    """`unreachable: …` for an engine that did not answer, `refused: …` for one that said no."""
    said = describe(exc)
    if said.startswith(NOT_ANSWERED) and "): " in said:
        said = said.split("): ", 1)[1]  # the row names the engine already: the reason only
    if isinstance(exc, (EngineUnavailable, ContextError)):
        if "did not answer in time" in said or "timed out" in said.lower():
            return f"timed out: no answer within {timeout:g} s"
        return f"unreachable: {said}"
    if "did not answer in time" in said:
        return f"timed out: no answer within {timeout:g} s"
    return f"refused: {said}"


def same_engines(reports: list[Report]) -> list[Report]:
    """Each report of an engine already listed under another address marked so: the same identity (engine
    ID, host name, data-root) and the same images. Two engines that only look alike (cloned machines) differ
    in their images sooner or later; until then both are shown, one counted."""
    first: dict[tuple[str, frozenset[str]], str] = {}
    marked = []
    for report in reports:
        identity = report.info.identity if report.ok and report.info is not None else ""
        key = (identity, frozenset(i.id for i in report.images))
        if identity and key in first:
            report = dataclasses.replace(report, same_as=first[key])
        elif identity:
            first[key] = report.label
        marked.append(report)
    return marked


class Fleet:
    """The engines of `specs`; every method blocks (call it from a worker) and never raises for one engine:
    its failure is in its report."""

    def __init__(self, specs: Iterable[EngineSpec], timeout: float = 10.0, workers: int = WORKERS) -> None:
        self.members = [_Member(s) for s in dict.fromkeys(specs)]
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="imgtui-fleet")

    @property
    def specs(self) -> list[EngineSpec]:
        return [m.spec for m in self.members]

    # -- asking every engine -----------------------------------------------------------------------------
    def _each(
        self,
        ask: Callable[[_Member], T],
        failed: Callable[[_Member, str], T],
        members: list[_Member] | None = None,
        report: Callable[[T], object] | None = None,
    ) -> list[T]:
        """`ask(member)` for every member through the pool; a member whose call raised, or ran past the
        timeout from when it started, gets `failed(member, sentence)` instead. Results in the members'
        order; `report` is called with each as it comes."""
        members = self.members if members is None else members
        started: dict[int, float] = {}

        def run(n: int) -> T:
            started[n] = time.monotonic()
            member = members[n]
            if not member.lock.acquire(timeout=self.timeout):
                raise EngineUnavailable(
                    "the engine did not answer in time (still busy with the last request)"
                )
            try:
                return ask(member)
            except BaseException:
                self._drop(member)  # reconnect next time
                raise
            finally:
                member.lock.release()

        futures: dict[Future[T], int] = {self._pool.submit(run, n): n for n in range(len(members))}
        results: dict[int, T] = {}

        def settle(n: int, value: T) -> None:
            results[n] = value
            if report is not None:
                report(value)

        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.05, return_when=FIRST_COMPLETED)
            for future in done:
                n = futures[future]
                error = future.exception()
                if error is None:
                    settle(n, future.result())
                else:
                    settle(n, failed(members[n], error_sentence(error, self.timeout)))
            now = time.monotonic()
            for future in list(pending):
                n = futures[future]
                if n in started and now - started[n] > self.timeout:
                    pending.discard(future)  # its thread ends with its own request timeout
                    settle(n, failed(members[n], f"timed out: no answer within {self.timeout:g} s"))
        return [results[n] for n in range(len(members))]

    def _engine(self, member: _Member) -> Engine:
        if member.engine is None:
            member.engine = Engine.connect_endpoint(member.spec.endpoint(), self.timeout)
        return member.engine

    def _drop(self, member: _Member) -> None:
        engine, member.engine = member.engine, None
        if engine is not None:
            engine.close()

    def connect(self) -> list[tuple[EngineSpec, Engine | None, str | None]]:
        """Connect to every engine (one request each): (spec, engine, None) or (spec, None, why not)."""

        def ask(member: _Member) -> tuple[EngineSpec, Engine | None, str | None]:
            return member.spec, self._engine(member), None

        return self._each(ask, lambda m, why: (m.spec, None, why))

    def poll(self, report: Callable[[Report], object] | None = None) -> list[Report]:
        """Every engine's images and the prune of its dangling images (four requests an engine, as the
        single-engine prune preview reads them)."""

        def ask(member: _Member) -> Report:
            began = time.monotonic()
            engine = self._engine(member)
            state = engine.removal_state()
            plan = removal.plan_prune(state, False)
            images = tuple(sorted(state.images.values(), key=lambda i: i.id))
            return Report(member.spec, engine.info, images, plan, None, time.monotonic() - began)

        return same_engines(self._each(ask, lambda m, why: Report(m.spec, error=why), report=report))

    def clean(
        self, reports: list[Report], report: Callable[[Applied], object] | None = None
    ) -> list[Applied]:
        """Prune the dangling images each report previewed, engine by engine (engines with nothing to prune,
        or that did not answer the poll, are left alone). An engine whose dangling images changed since the
        preview prunes nothing (its answer says so)."""
        planned = {r.spec: r.plan for r in reports if r.counted and r.plan is not None and r.plan.images}
        members = [m for m in self.members if m.spec in planned]

        def ask(member: _Member) -> Applied:
            plan = planned[member.spec]
            engine = self._engine(member)
            try:
                lines, reclaimed = engine.prune(plan)
            except PlanChanged as changed:
                return Applied(member.spec, plan, error=f"nothing pruned: {changed}; refresh to see it")
            return Applied(member.spec, plan, tuple(lines), reclaimed)

        return self._each(ask, lambda m, why: Applied(m.spec, planned[m.spec], error=why), members, report)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for member in self.members:
            if member.lock.acquire(blocking=False):
                try:
                    self._drop(member)
                finally:
                    member.lock.release()


# -- finding an image ---------------------------------------------------------------------------------------
HEX = set("0123456789abcdef")
MIN_PREFIX = 4
"""Hex digits an ID or digest prefix needs (fewer match too much)."""


def match(image: Image, query: str) -> str | None:
    """What of `image` the query names: a name (whole, its repository, or part of it), an ID or a digest
    (whole or a prefix of at least MIN_PREFIX hex digits, `sha256:` optional); None if nothing."""
    q = query.strip().lower()
    if not q:
        return None
    hex_part = q.removeprefix("sha256:")
    is_hex = len(hex_part) >= MIN_PREFIX and set(hex_part) <= HEX
    if is_hex and image.id.lower().removeprefix("sha256:").startswith(hex_part):
        return f"ID {image.id}"
    for digest in image.digests:
        name, _, value = digest.lower().partition("@")
        if "@" in q:
            wanted_name, _, wanted = q.partition("@")
            if familiar(wanted_name) == name and value.startswith(wanted) and len(wanted) > len("sha256:"):
                return f"digest {digest}"
        elif is_hex and value.removeprefix("sha256:").startswith(hex_part):
            return f"digest {digest}"
    wanted_name = familiar(q)
    for name in image.names:
        low = name.lower()
        if low == wanted_name or split_name(low)[0] == wanted_name or q in low:
            return f"name {name}"
    return None


def find(reports: Iterable[Report], query: str) -> tuple[list[Hit], list[Report]]:
    """The images the query names on each engine that answered, and the engines that could not be searched."""
    hits, unsearched = [], []
    for report in reports:
        if not report.ok:
            unsearched.append(report)
            continue
        for image in report.images:
            matched = match(image, query)
            if matched is not None:
                hits.append(Hit(report.label, image, matched))
    return hits, unsearched
