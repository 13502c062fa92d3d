"""Issue 15's fault suite, R1 and R2, on real engines and registries started here.

R1: this file's own sandbox dockerd (not the session's: the other tests go on undisturbed) is killed with
SIGKILL, as a crash would, and restarted on the same data: idle, and during a save, a load, a pull and a push
started from the keyboard. No traceback; the job ends with one sentence in the outcome log; no partial file;
the images view reconnects within RECONNECT_LIMIT seconds of the engine's return and its panes then equal the
engine's own image list (`docker images`), which the restart left as it was.

R2 (the session's sandbox): a disk that fills during a save (a 1 MiB tmpfs), a folder that cannot be written
(a read-only mount: root writes anywhere else), an archive truncated, and one changed while it is loaded. A
sentence each, nothing left behind, the engine's images unchanged.

Every wait has a deadline; the figures (seconds to notice, to reconnect) are written to the terminal summary.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import docker
import pytest

from imgtui.engine import NONE, Engine
from imgtui.engine.transfer import Progress, TransferError
from imgtui.sandbox import Sandbox
from imgtui.sandbox.big import write as write_big
from imgtui.sandbox.seed import seed
from imgtui.ui.app import ImgtuiApp
from tests.conftest import wait_for
from tests.test_app import screen_text
from tests.test_removal import log, open_tag
from tests.test_transfer_ui import answer

pytestmark = pytest.mark.engine

RECONNECT_LIMIT = 2.0
"""Seconds from the engine's return (it answers `/_ping`) to panes that equal its image list."""
BIG = "fault/big:1"
FIGURES: list[str] = []


@dataclass
class Faulty:
    box: Sandbox
    archive: Path
    """BIG as a `docker save` archive (generated: 192 MiB of data gzip cannot shrink, in 3 layers)."""

    def api(self) -> docker.APIClient:
        return docker.APIClient(base_url=self.box.docker_host, version="1.41", timeout=120)

    def rows(self) -> set[tuple[str, str]]:
        """`docker images` as (name or dangling ID, image ID) pairs."""
        api = self.api()
        try:
            return rows_of(api.images())
        finally:
            api.close()

    def ensure_big(self) -> None:
        api = self.api()
        try:
            if not any(BIG in (row.get("RepoTags") or ()) for row in api.images()):
                with self.archive.open("rb") as source:
                    list(api.load_image(source))
        finally:
            api.close()


def rows_of(images: list[dict]) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    rows = set()
    for row in images:
        names = [n for n in row.get("RepoTags") or () if n != "<none>:<none>"]
        rows |= {(n, row["Id"]) for n in names} if names else {(row["Id"], row["Id"])}
    return rows


def pane_rows(app: ImgtuiApp) -> set[tuple[str, str]]:
    """What the repositories pane holds (every repository's tags, whatever the filter shows)."""
    return {(t.ref, t.image.id) for repo in app.images.repos.items for t in repo.tags}


@pytest.fixture(scope="module")
def faulty(request: pytest.FixtureRequest) -> Iterator[Faulty]:
    if request.config.getoption("--engine") != "dockerd":
        pytest.skip("the engine is killed and restarted on this machine's dockerd only (Sandbox.kill_engine)")
    state = Path(tempfile.mkdtemp(prefix="imgtui-f-", dir="/tmp"))
    box = Sandbox(state, engine="dockerd")
    try:
        box.start()
        seed(box.docker_host, box.registry, fill=False)
        big = write_big(state / "big", BIG, layers=3, files=192, total=192 << 20, overwritten=4)
        faulty = Faulty(box, big.path)
        faulty.ensure_big()
        yield faulty
    finally:
        box.destroy()


@pytest.fixture(scope="module", autouse=True)
def _figures(request: pytest.FixtureRequest) -> Iterator[None]:
    """The figures, at the end: on the terminal (past the output capture) and in pytest's cache (`pytest
    --cache-show 'imgtui/*'`)."""
    FIGURES.clear()
    yield
    if not FIGURES:
        return
    cache = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider
    if cache is not None:
        cache.set("imgtui/fault-figures", FIGURES)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for line in FIGURES:
            reporter.write_line(f"fault figures: {line}")


def kill_when(box: Sandbox, ready: Callable[[], bool], timeout: float = 60.0) -> float:
    """(In a thread.) Kill the engine as soon as `ready()` holds (polled every 2 ms); returns when."""
    deadline = time.monotonic() + timeout
    while not _holds(ready):
        if time.monotonic() > deadline:
            raise AssertionError(f"the moment to kill the engine did not come in {timeout} s")
        time.sleep(0.002)
    at = time.monotonic()
    box.kill_engine()
    return at


def _holds(ready: Callable[[], bool]) -> bool:
    try:
        return ready()
    except RuntimeError:  # a dict of the UI's that changed size while this thread read it
        return False


async def crash_and_return(  # type: ignore[no-untyped-def]
    pilot, app: ImgtuiApp, faulty: Faulty, what: str, killed_at: float, away: float = 0.0
) -> None:
    """After a kill: the view says the engine is away; the engine comes back on the same data (`away`
    seconds after the view noticed, at least); the view is connected again within RECONNECT_LIMIT seconds
    with panes equal to the engine's images."""
    await wait_for(pilot, lambda: not app.images.connected, timeout=10)
    noticed = time.monotonic() - killed_at
    assert "disconnected" in screen_text(app)
    await pilot.pause(away)
    await asyncio.to_thread(faulty.box.restart_engine)
    back = time.monotonic()
    expected = await asyncio.to_thread(faulty.rows)
    await wait_for(pilot, lambda: app.images.connected and pane_rows(app) == expected, timeout=15)
    reconnected = time.monotonic() - back
    FIGURES.append(f"{what}: the view noticed in {noticed:.2f} s, panes equal the engine {reconnected:.2f} s "
                   f"after its return ({time.monotonic() - killed_at:.2f} s after the kill)")  # fmt: skip
    assert reconnected < RECONNECT_LIMIT, f"{what}: {reconnected:.2f} s to reconnect"
    current = app.images.repos.current
    if current is not None and current.name != NONE:
        shown = {(t.ref, t.image.id) for t in app.images.tags.items}
        assert shown == {r for r in expected if r[0].rsplit(":", 1)[0] == current.name}, "the tags pane too"
    assert "Traceback" not in screen_text(app)
    assert await asyncio.to_thread(faulty.rows) == expected, "the engine's images did not move meanwhile"


def one_sentence(line: str) -> None:
    """A user's sentence: one line, no Python in it (tracebacks, exception class names, reprs)."""
    assert "\n" not in line and "Traceback" not in line, line
    assert not re.search(r"\b\w+(Error|Exception)\b|IncompleteRead|\w\(['\"(]", line), line


def failure_line(app: ImgtuiApp, title: str) -> str:
    lines = [line for line in app.images.outcome.lines_text if line.startswith(f"{title} failed: ")]
    assert len(lines) == 1, log(app)
    return lines[0]


# -- R1: the engine killed and restarted -----------------------------------------------------------------


async def test_engine_killed_while_idle(faulty: Faulty) -> None:
    faulty.ensure_big()
    before = faulty.rows()
    app = ImgtuiApp(Engine.connect(faulty.box.docker_host))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded and pane_rows(app) == before)
        killed_at = await asyncio.to_thread(kill_when, faulty.box, lambda: True)
        await crash_and_return(pilot, app, faulty, "idle, back at once", killed_at)
        killed_at = await asyncio.to_thread(kill_when, faulty.box, lambda: True)
        # Away long enough for the pings to slow down to their slowest (images.RECONNECT_EVERY).
        await crash_and_return(pilot, app, faulty, "idle, away for 4 s", killed_at, away=4.0)
    assert faulty.rows() == before
    app.engine.close()


async def test_engine_killed_during_a_save(faulty: Faulty, tmp_path: Path) -> None:
    faulty.ensure_big()
    before = faulty.rows()
    target = tmp_path / "big.tar"
    app = ImgtuiApp(Engine.connect(faulty.box.docker_host))

    def partly_written() -> bool:
        return any(p.stat().st_size > (1 << 20) for p in tmp_path.iterdir())

    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, "fault/big", "1")
        await pilot.press("S")
        await answer(pilot, app, str(target))
        killed_at = await asyncio.to_thread(kill_when, faulty.box, partly_written)
        title = f"save {BIG} to {target}"
        await wait_for(pilot, lambda: f"{title} failed: " in log(app), timeout=30)
        one_sentence(failure_line(app, title))
        assert list(tmp_path.iterdir()) == [], "neither the file nor its temporary part is left"
        await crash_and_return(pilot, app, faulty, "during a save", killed_at)
        FIGURES.append(f"during a save: {failure_line(app, title)}")
        # The same app saves again on the engine that came back (its transfer client reconnects too).
        await pilot.press("S")
        await answer(pilot, app, str(target))
        await wait_for(pilot, lambda: f"Saved {BIG} to {target}" in log(app), timeout=60)
        assert [p.name for p in tmp_path.iterdir()] == [target.name] and target.stat().st_size > (190 << 20)
    assert faulty.rows() == before
    app.engine.close()


async def test_engine_killed_during_a_load(faulty: Faulty) -> None:
    faulty.ensure_big()
    api = faulty.api()
    api.remove_image(BIG)
    api.close()
    before = faulty.rows()
    app = ImgtuiApp(Engine.connect(faulty.box.docker_host))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded and pane_rows(app) == before)
        await pilot.press("L")
        await answer(pilot, app, str(faulty.archive))

        def partly_sent() -> bool:
            return bool(app.images.job_bar.bar.progress > (4 << 20))

        killed_at = await asyncio.to_thread(kill_when, faulty.box, partly_sent)
        title = f"load {faulty.archive}"
        await wait_for(pilot, lambda: f"{title} failed: " in log(app), timeout=30)
        one_sentence(failure_line(app, title))
        await crash_and_return(pilot, app, faulty, "during a load", killed_at)
        FIGURES.append(f"during a load: {failure_line(app, title)}")
    assert faulty.rows() == before, "a load cut short loads nothing"
    app.engine.close()


async def test_engine_killed_during_a_push(faulty: Faulty, unique: str) -> None:
    faulty.ensure_big()
    before = faulty.rows()
    name = f"{faulty.box.registry}/killed-{unique}/big:1"
    app = ImgtuiApp(Engine.connect(faulty.box.docker_host))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, "fault/big", "1")
        await pilot.press("P")
        await answer(pilot, app, name)

        def pushing() -> bool:
            return "Pushing" in app.images.job_bar.layer_states.values()

        killed_at = await asyncio.to_thread(kill_when, faulty.box, pushing)
        title = f"push {name}"
        await wait_for(pilot, lambda: f"{title} failed: " in log(app), timeout=30)
        one_sentence(failure_line(app, title))
        await crash_and_return(pilot, app, faulty, "during a push", killed_at)
        FIGURES.append(f"during a push: {failure_line(app, title)}")
    # The push had sent something (a layer was being sent): the name made for it stays, as it should.
    big_id = next(i for n, i in before if n == BIG)
    after = faulty.rows()
    assert before <= after and after - before <= {(name, big_id)}, after - before
    api = faulty.api()
    if (name, big_id) in after:
        api.remove_image(name)
    api.close()
    app.engine.close()


async def test_engine_killed_during_a_pull(faulty: Faulty, unique: str) -> None:
    faulty.ensure_big()
    name = f"{faulty.box.registry}/pulled-{unique}/big:1"
    api = faulty.api()
    api.tag(BIG, name.rsplit(":", 1)[0], "1")
    for _ in api.push(name.rsplit(":", 1)[0], tag="1", stream=True, decode=True):
        pass
    api.remove_image(name)
    api.remove_image(BIG)  # its layers too: the pull has to fetch them
    api.close()
    before = faulty.rows()
    app = ImgtuiApp(Engine.connect(faulty.box.docker_host))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded and pane_rows(app) == before)
        await pilot.press("p")
        await answer(pilot, app, name)

        def fetching() -> bool:
            return bool({"Downloading", "Extracting"} & set(app.images.job_bar.layer_states.values()))

        killed_at = await asyncio.to_thread(kill_when, faulty.box, fetching)
        title = f"pull {name}"
        await wait_for(pilot, lambda: f"{title} failed: " in log(app), timeout=30)
        one_sentence(failure_line(app, title))
        await crash_and_return(pilot, app, faulty, "during a pull", killed_at)
        FIGURES.append(f"during a pull: {failure_line(app, title)}")
    assert faulty.rows() == before, "a pull cut short adds no image"
    app.engine.close()


# -- R2: the disk, the folder, the archive ---------------------------------------------------------------


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs with these options (root only) under tmp_path; unmounted afterwards."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, timeout=30
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", str(point)], capture_output=True, timeout=30)
        assert f" {point} " not in Path("/proc/self/mounts").read_text(), f"{point} is still mounted"


def never() -> bool:
    return False


T = TypeVar("T")


def bounded(fn: Callable[..., T], *args: object, timeout: float = 60.0) -> T:
    """`fn(*args)` with a deadline: the transfers' client has no read timeout (a save may pause for
    minutes), so a hung engine would hang the test; this fails it instead (the call goes on in a daemon
    thread)."""
    outcome: list[tuple[bool, object]] = []

    def call() -> None:
        try:
            outcome.append((True, fn(*args)))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=call, daemon=True, name="bounded")
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise AssertionError(f"{getattr(fn, '__name__', fn)} took more than {timeout:g} s")
    ok, value = outcome[0]
    if not ok:
        assert isinstance(value, BaseException)
        raise value
    return value  # type: ignore[return-value]


def test_a_full_disk_during_a_save(engine: Engine, api, mount_point) -> None:  # type: ignore[no-untyped-def]
    before = rows_of(api.images())
    small = mount_point("size=1m")
    target = small / "second.tar"
    started = time.monotonic()
    with pytest.raises(TransferError) as failure:
        bounded(engine.save, ["commit_test:second"], target, lambda p: None, never)
    said = str(failure.value)
    one_sentence(said)
    assert "No space left on device" in said and str(target) in said, said
    assert list(small.iterdir()) == [], "neither the file nor its temporary part is left"
    assert rows_of(api.images()) == before
    FIGURES.append(f"a full disk during a save ({time.monotonic() - started:.2f} s): {said}")


async def test_a_full_disk_during_a_save_from_the_keyboard(app: ImgtuiApp, api, mount_point) -> None:  # type: ignore[no-untyped-def]
    before = rows_of(api.images())
    small = mount_point("size=1m")
    target = small / "second.tar"
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, "commit_test", "second")
        await pilot.press("S")
        await answer(pilot, app, str(target))
        title = f"save commit_test:second to {target}"
        await wait_for(pilot, lambda: f"{title} failed: " in log(app), timeout=30)
        said = failure_line(app, title)
        one_sentence(said)
        assert "No space left on device" in said, said
        assert not app.images.job_bar.has_class("running")
    assert list(small.iterdir()) == []
    assert rows_of(api.images()) == before


def test_an_unwritable_folder(engine: Engine, api, mount_point) -> None:  # type: ignore[no-untyped-def]
    before = rows_of(api.images())
    folder = mount_point("size=1m,ro")
    with pytest.raises(TransferError) as failure:
        bounded(engine.save, ["commit_test:second"], folder / "second.tar", lambda p: None, never)
    said = str(failure.value)
    one_sentence(said)
    assert said == f"folder {folder} is not writable", said
    assert list(folder.iterdir()) == []
    assert rows_of(api.images()) == before
    FIGURES.append(f"an unwritable folder: {said}")


def test_a_truncated_archive(engine: Engine, api, tmp_path: Path, unique: str) -> None:  # type: ignore[no-untyped-def]
    """An archive cut in the middle: the engine refuses it in its words, and loads nothing (the name it
    would give is not there before or after)."""
    name = f"truncated-{unique}:1"
    api.tag("commit_test:second", *name.split(":"))
    whole = tmp_path / "whole.tar"
    bounded(engine.save, [name], whole, lambda p: None, never)
    api.remove_image(name)
    before = rows_of(api.images())
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(TransferError) as failure:
        bounded(engine.load, str(cut), lambda p: None, never)
    said = str(failure.value)
    one_sentence(said)
    assert said.startswith("the engine could not load cut.tar: "), said
    assert rows_of(api.images()) == before
    FIGURES.append(f"a truncated archive: {said}")


@pytest.mark.parametrize("change", ["appended", "rewritten", "truncated"])
def test_an_archive_changed_while_loading(
    engine: Engine, api, tmp_path: Path, unique: str, change: str
) -> None:  # type: ignore[no-untyped-def]
    """Another program writes the archive while it is being loaded (after its first MiB is sent): the load
    stops with a sentence, and the engine's images are as before (the archive's image is not there)."""
    name = f"changing-{unique}:1"
    api.tag("commit_test:second", *name.split(":"))
    archive = tmp_path / "changing.tar"
    bounded(engine.save, [name], archive, lambda p: None, never)
    api.remove_image(name)
    before = rows_of(api.images())
    changed = threading.Event()

    def meddle(progress: Progress) -> None:
        if changed.is_set():
            return
        changed.set()
        time.sleep(0.01)  # a modification time that differs on any filesystem's clock
        with archive.open("r+b") as f:
            if change == "appended":
                f.seek(0, os.SEEK_END)
                f.write(b"\0" * 1024)
            elif change == "rewritten":
                f.seek(2 << 20)
                f.write(b"x" * 512)
            else:
                f.truncate(3 << 20)

    with pytest.raises(TransferError) as failure:
        bounded(engine.load, str(archive), meddle, never)
    said = str(failure.value)
    one_sentence(said)
    assert said == f"{archive} changed while it was being loaded; the load was stopped", said
    assert changed.is_set()
    assert rows_of(api.images()) == before
    FIGURES.append(f"an archive {change} while loading: {said}")
