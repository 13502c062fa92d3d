"""R5 (issue 15): a long run of outside changes while the app is open, then every pane must be the engine's
state exactly, memory must not have grown, and the app must have asked the engine little per event.

1,000 operations by default (`IMGTUI_SOAK` sets another count), chosen by a seeded random generator among
`docker tag`, untag (`rmi` of one of several names), `rmi` of a whole image and `docker commit`, on images of
the test's own names, from another client (another shell), as fast as the engine answers them.

Measured on dockerd 20.10 (2 cores): 1,000 operations in 37 s, 1,055 image events, 0.66 requests per event,
RSS +7.9 MiB after a warm-up of 200; with 2,500 operations +8.5 MiB (Textual's caches filling, not a leak
that grows with the operations)."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.utils import parse_repository_tag

from imgtui.engine import NONE, Engine
from imgtui.ui.app import ImgtuiApp
from tests.conftest import wait_for

OPERATIONS = int(os.environ.get("IMGTUI_SOAK") or 1000)
RSS_GROWTH_MIB = 10.0
REQUESTS_PER_EVENT = 2.0


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def engine_state(api: docker.APIClient) -> dict[str, set[tuple[str, str]]]:
    """Repository -> {(tag, image ID)}, as `docker images` lists them (dangling ones under <none>)."""
    state: dict[str, set[tuple[str, str]]] = {}
    for row in api.images():
        names = [n for n in row.get("RepoTags") or [] if n != "<none>:<none>"]
        if not names:
            state.setdefault(NONE, set()).add((NONE, row["Id"]))
        for name in names:
            # docker-py's parsing: the containerd store lists an image pulled by digest as NAME@sha256:…
            repo, tag = parse_repository_tag(name)
            state.setdefault(repo, set()).add((tag or "latest", row["Id"]))
    return state


async def until_equal(pilot: Any, app: ImgtuiApp, api: docker.APIClient, timeout: float) -> None:
    """Wait until the panes equal the engine; on timeout, say where they differ."""
    try:
        await wait_for(pilot, lambda: app_state(app) == engine_state(api), timeout=timeout)
    except AssertionError:
        ours, theirs = app_state(app), engine_state(api)
        differ = {r: (sorted(ours.get(r, ())), sorted(theirs.get(r, ()))) for r in set(ours) | set(theirs)
                  if ours.get(r) != theirs.get(r)}  # fmt: skip
        raise AssertionError(f"panes (left) and engine (right) differ after {timeout} s: {differ}") from None


def app_state(app: ImgtuiApp) -> dict[str, set[tuple[str, str]]]:
    """The same, read from the repositories pane's rows (each row's repository and its tags)."""
    return {
        repo.name: {(t.tag if repo.name != NONE else NONE, t.image.id) for t in repo.tags}
        for repo in app.images.repos.items
    }


class Operations:
    """Random outside changes to images named `soak-U/rN:tN`, from another client."""

    def __init__(self, api: docker.APIClient, unique: str, seed: int = 15) -> None:
        self.api = api
        self.random = random.Random(seed)
        self.repos = [f"soak-{unique}/r{n}" for n in range(4)]
        self.done: Counter[str] = Counter()
        self.container = api.create_container(
            "busybox:latest",
            command=["true"],
            name=f"soak-{unique}",
            host_config=api.create_host_config(network_mode="none"),
        )["Id"]

    def name(self) -> str:
        return f"{self.random.choice(self.repos)}:t{self.random.randrange(8)}"

    def names_of(self, image_id: str) -> list[str]:
        return [n for n in self.api.inspect_image(image_id).get("RepoTags") or [] if n != "<none>:<none>"]

    def ours(self) -> list[tuple[str, list[str]]]:
        """(image ID, names) of the images that have one of our names."""
        out = []
        for row in self.api.images():
            names = [n for n in row.get("RepoTags") or [] if n.startswith("soak-")]
            if names:
                out.append((row["Id"], names))
        return out

    def run(self, count: int) -> None:
        for _ in range(count):
            self.one()

    def one(self) -> None:
        roll = self.random.random()
        try:
            if roll < 0.12:
                repo, _, tag = self.name().partition(":")
                self.api.commit(self.container, repository=repo, tag=tag, message="soak")
                self.done["commit"] += 1
                return
            mine = self.ours()
            if roll < 0.55 or not mine:
                source = (
                    self.random.choice(mine)[0] if mine and self.random.random() < 0.7 else "busybox:latest"
                )
                repo, _, tag = self.name().partition(":")
                self.api.tag(source, repo, tag)
                self.done["tag"] += 1
            elif roll < 0.85:
                image_id, names = self.random.choice(mine)
                self.api.remove_image(self.random.choice(names))  # untag, or delete with its last name
                self.done["untag"] += 1
            else:
                # Every name at once, of an image only this test names (by ID with force, the engine would
                # take busybox:latest too when a name of ours is on busybox's image).
                only = [(i, n) for i, n in mine if set(n) == set(self.names_of(i))]
                if not only:
                    return
                image_id, _ = self.random.choice(only)
                self.api.remove_image(image_id, force=True)
                self.done["rmi"] += 1
        except docker.errors.APIError as exc:
            self.done[f"refused: {exc.explanation or exc}"[:60]] += 1

    def clean(self) -> None:
        """Every name of the test's, one by one (an image left nameless goes with its last one); never by
        ID with force, which on the containerd store would take busybox:latest along with a name of ours."""
        for _, names in self.ours():
            for name in names:
                try:
                    self.api.remove_image(name)
                except docker.errors.APIError:
                    pass
        self.api.remove_container(self.container, force=True)


class Events:
    """Counts the engine's image events while it runs, on a stream of its own (the engine answers `since`
    from a buffer of its last 256 events only)."""

    def __init__(self, api: docker.APIClient) -> None:
        self.stream = api.events(decode=True, filters={"type": "image"})
        self.count = 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for _ in self.stream:
                self.count += 1
        except Exception:  # closed
            pass

    def close(self) -> int:
        self.stream.close()
        self.thread.join(timeout=5)
        return self.count


async def test_soak_outside_changes_leave_every_pane_exact(  # type: ignore[no-untyped-def]
    docker_host: str, api: docker.APIClient, unique: str
) -> None:
    """RSS is this process's: the app runs here (Pilot), with the test's own client, which is small. The
    app's requests are counted on its engine client (requests' response hook), its event stream aside."""
    ops = Operations(api, unique)
    engine = Engine.connect(docker_host)
    asked: Counter[str] = Counter()

    def count(response: Any, *args: Any, **kwargs: Any) -> None:
        path = response.request.path_url.split("?")[0]
        asked["inspect" if "/images/sha256" in path else path] += 1

    engine.api.hooks["response"].append(count)
    app = ImgtuiApp(engine)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.images.loaded)
            await asyncio.to_thread(ops.run, min(200, OPERATIONS // 5))  # caches fill, pools open
            await until_equal(pilot, app, api, 60)
            await pilot.pause(1.0)
            gc.collect()
            rss_before = rss_mib()
            asked.clear()
            events = Events(api)
            started = time.monotonic()
            await asyncio.to_thread(ops.run, OPERATIONS)
            ran = time.monotonic() - started
            await until_equal(pilot, app, api, 60)
            await pilot.pause(1.5)  # the coalesced disk usage read comes last
            seen = events.close()
            assert app_state(app) == engine_state(api), "still equal once everything settled"
            # The tags pane and the status line, too.
            repo = app.images.repos.current
            assert repo is not None
            assert [(t.tag, t.image.id) for t in app.images.tags.items] == [
                (t.tag, t.image.id) for t in repo.tags
            ]
            totals = app.images.catalog.totals()
            top = api.images()
            assert totals.images == len(top)
            untagged = [r for r in top if not [n for n in r.get("RepoTags") or [] if n != "<none>:<none>"]]
            assert totals.dangling == len(untagged)
            assert f"{len(top)} images, {len(untagged)} dangling" in str(app.images.status.render())
            gc.collect()
            grown = rss_mib() - rss_before
            requests = sum(asked.values())
            per_event = requests / max(seen, 1)
            print(
                f"\nsoak: {OPERATIONS} operations in {ran:.1f} s ({dict(ops.done)}); {seen} image events; "
                f"{requests} requests from the app ({per_event:.2f} per event: {dict(asked)}); "
                f"RSS {rss_before:.1f} MiB, then +{grown:.1f} MiB"
            )
            assert seen >= OPERATIONS // 2, "the operations made events"
            assert grown < RSS_GROWTH_MIB, f"RSS grew {grown:.1f} MiB"
            assert per_event <= REQUESTS_PER_EVENT, (requests, seen)
    finally:
        engine.close()
        ops.clean()
