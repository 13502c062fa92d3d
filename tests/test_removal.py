"""Removal, prune, bulk, tag, inspect and containers through the UI (Pilot), against the real engine.

Each test builds its own images with unique names (the seeds' commit_test scenario, made again) so that
tests do not depend on each other's leftovers.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest

from imgtui.engine import NONE, Engine
from imgtui.sandbox import Sandbox
from imgtui.sandbox.seed import run_and_commit
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.screens.containers import ContainersScreen
from imgtui.ui.screens.inspect import InspectScreen
from tests.conftest import wait_for


def disk_used(folder: Path) -> int:
    """`du -s` in bytes: the blocks the files take, as the disk sees them."""
    out = subprocess.run(["du", "-s", "--block-size=1", str(folder)], capture_output=True, text=True)
    return int(out.stdout.split()[0])


def settled_disk_used(folder: Path, timeout: float = 10.0) -> int:
    """disk_used once it stops changing (the containerd store collects garbage just after a removal)."""
    last = disk_used(folder)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = disk_used(folder)
        if now == last:
            return now
        last = now
    return last


NET = {"network_mode": "none"}


@dataclass
class Scenario:
    """The seeds' story with unique names: base -> `repo:first` (container c1) -> `repo:second` (c2 keeps
    using :first, stopped)."""

    repo: str
    c1: str
    c2: str
    first: str
    second: str


@pytest.fixture
def scenario(api: docker.APIClient, unique: str, cleanup: list[str]) -> Scenario:
    repo = f"ct-{unique}"
    c1, c2 = f"ct1-{unique}", f"ct2-{unique}"
    cleanup += [f"c:{c1}", f"c:{c2}"]
    write_first = ["sh", "-c", "echo test_first! >> first"]
    write_second = ["sh", "-c", "echo test_second! >> second"]
    first = run_and_commit(
        api, "busybox:latest", c1, write_first, repo, "first", message="my first commit", author="alicek106"
    )
    second = run_and_commit(
        api, f"{repo}:first", c2, write_second, repo, "second", message="my second commit", author="alicek106"
    )
    cleanup += [second, first]
    api.remove_container(c1)
    return Scenario(repo, c1, c2, first, second)


async def open_tag(pilot, app: ImgtuiApp, repo: str, tag: str) -> None:  # type: ignore[no-untyped-def]
    """Filter the repositories to `repo`, open it, and put the cursor on `tag`, with keys."""
    await wait_for(pilot, lambda: repo in {r.name for r in app.images.repos.items})
    await pilot.press("slash", *repo, "enter")
    await wait_for(
        pilot, lambda: app.images.repos.current is not None and app.images.repos.current.name == repo
    )
    await pilot.press("enter")
    for _ in range(app.images.tags.row_count + 1):
        if app.images.tags.current is not None and app.images.tags.current.tag == tag:
            return
        await pilot.press("j")
    raise AssertionError(f"no tag {tag} in {repo}")


async def dialog(pilot, app: ImgtuiApp) -> ChoiceDialog:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
    assert isinstance(app.screen, ChoiceDialog)
    return app.screen


def log(app: ImgtuiApp) -> str:
    return "\n".join(app.images.outcome.lines_text)


def exists(api: docker.APIClient, ref: str) -> bool:
    try:
        api.inspect_image(ref)
    except docker.errors.NotFound:
        return False
    return True


async def test_seed_story_refused_then_untag_then_delete(
    app_for, api, scenario: Scenario, store: str
) -> None:  # type: ignore[no-untyped-def]
    """Seed 000/001: :first is refused while c2 (stopped) uses it; stopping+removing c2 then only untags
    :first on the classic store (the child :second needs it) and removing :second deletes both, one Deleted
    line per image. The containerd store answers `Deleted` for :first already, yet keeps it as a dangling
    image until :second goes."""
    classic = store in ("classic", "podman")  # Podman untags a parent image as the classic store does
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, scenario.repo, "first")
        await pilot.press("d")
        box = await dialog(pilot, app)
        text = box.shown_text
        assert f"Used by container {scenario.c2} (Exited (0)" in text
        assert "refuses" in text and "must force" in text
        if store == "podman":
            assert (
                f"Force on Podman removes container {scenario.c2} too (its rmi --force does), then untags "
                f"{scenario.repo}:first; a child image keeps its layers." in text
            )
        elif classic:
            assert "Force untags" in text and "a child image still needs its layers" in text
        else:
            assert "Force untags" in text and "stays behind as a dangling <none> image" in text
        assert "Only untags" not in text, "refused, so the preview does not also say what a removal would do"
        assert {c.value for c in box.choices} == {"stop_and_remove", "force"}, "no plain yes while refused"
        await pilot.press("y")
        assert app.screen is box and exists(api, f"{scenario.repo}:first"), (
            "y does nothing on a refused removal"
        )
        await pilot.press("s")
        await wait_for(pilot, lambda: "Reclaimed" in log(app))
        assert f"Removed container {scenario.c2}" in log(app)
        assert f"Untagged: {scenario.repo}:first" in log(app)
        if store == "podman":
            assert "Deleted:" not in log(app) and not exists(api, f"{scenario.repo}:first")
            assert not exists(api, scenario.first), "Podman drops the image record (the child has its layers)"
        elif classic:
            assert "Deleted:" not in log(app), "a child image still needs :first, so nothing is deleted"
            assert exists(api, scenario.first) and not exists(api, f"{scenario.repo}:first")
        else:
            assert f"Deleted: {scenario.first}" in log(app), "the containerd store's own words"
            assert exists(api, scenario.first) and not exists(api, f"{scenario.repo}:first")
            assert any(t.image.id == scenario.first for t in app.images.catalog.repository(NONE).tags), (  # type: ignore[union-attr]
                "and it is listed as dangling"
            )
        await wait_for(pilot, lambda: [t.tag for t in app.images.tags.items] == ["second"])

        await pilot.press("d")
        box = await dialog(pilot, app)
        assert "Deletes the image" in box.shown_text
        await pilot.press("y")
        await wait_for(pilot, lambda: log(app).count("Reclaimed") == 2)
        assert f"Untagged: {scenario.repo}:second" in log(app)
        assert f"Deleted: {scenario.second}" in log(app)
        if store != "podman":  # Podman dropped :first's record already, with its untag
            assert f"Deleted: {scenario.first}" in log(app)
            assert log(app).count(f"Deleted: {scenario.first}") == (1 if classic else 2)
        assert not exists(api, scenario.second) and not exists(api, scenario.first)
        await wait_for(pilot, lambda: scenario.repo not in {r.name for r in app.images.repos.items})


async def test_force_past_a_running_container_leaves_a_dangling_image(  # type: ignore[no-untyped-def]
    app_for, api, unique: str, cleanup: list[str], store: str
) -> None:
    if store == "podman":
        pytest.skip("Docker's rule; Podman's rmi --force removes the containers (tests/test_podman.py)")
    repo = f"run-{unique}"
    image_id = run_and_commit(api, "busybox:latest", f"mk-{unique}", ["true"], repo, "1", remove=True)
    cleanup.append(image_id)
    runner = api.create_container(f"{repo}:1", command=["sleep", "600"], name=f"runner-{unique}",
                                  host_config=api.create_host_config(**NET))  # fmt: skip
    cleanup.append(f"c:runner-{unique}")
    api.start(runner)
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, repo, "1")
        await pilot.press("d")
        box = await dialog(pilot, app)
        assert "stays behind as a dangling <none> image while running container" in box.shown_text
        await pilot.press("f")
        await wait_for(pilot, lambda: "Reclaimed" in log(app))
        assert f"Untagged: {repo}:1" in log(app) and "Deleted:" not in log(app)
        assert "rmi -f" in log(app)
        await wait_for(
            pilot, lambda: any(t.image.id == image_id for t in app.images.catalog.repository(NONE).tags)
        )  # type: ignore[union-attr]
        # The dangling view: the <none> repository, sortable.
        await pilot.press("shift+tab", "escape")
        assert app.focused is app.images.repos and app.images.repos.filter_text == ""
        await pilot.press("end", "enter")
        assert app.images.repos.current is not None and app.images.repos.current.name == NONE
        assert image_id in {t.image.id for t in app.images.tags.items}
        await pilot.press("s")
        assert app.images.tags.sort_by == "size"
        sizes = [t.image.size for t in app.images.tags.shown_items]
        assert sizes == sorted(sizes, reverse=True)


async def test_prune_frees_what_the_preview_said(
    app_for, api, sandbox: Sandbox, store: str, unique: str, cleanup: list[str]
) -> None:  # type: ignore[no-untyped-def]
    """The prune preview against what the engine's data-root really gives back (`du` before and after):
    within 5%, or 128 KiB an image, on both stores. On the classic store the engine's own SpaceReclaimed
    is also exactly what the preview said; on the containerd store it counts only manifests and configs,
    and the log says so."""
    repo = f"dang-{unique}"
    made = []
    for n in range(3):  # each commit takes the name from the one before: two are left dangling
        write = ["sh", "-c", f"head -c {60000 * (n + 1)} /dev/urandom > /f{n}"]
        made.append(run_and_commit(api, "busybox:latest", f"d{n}-{unique}", write, repo, "1", remove=True))
    cleanup.extend(made)
    old, new = made[:2], made[2]
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.press("D")
        box = await dialog(pilot, app)
        assert all(i[7:19] in box.shown_text for i in old) and new[7:19] not in box.shown_text
        assert "bigger hammer" in box.shown_text
        previewed = app.screen.choices  # type: ignore[attr-defined]
        assert any(c.value == "prune" for c in previewed)
        said = next(line for line in box.shown_text.splitlines() if line.endswith("bytes)"))
        preview_bytes = int(said.rsplit("(", 1)[1].split()[0])
        count = int(said.split()[0])
        before = disk_used(sandbox.data_root)
        await pilot.press("y")
        await wait_for(pilot, lambda: "SpaceReclaimed" in log(app))
        freed = before - settled_disk_used(sandbox.data_root)
        line = next(x for x in app.images.outcome.lines_text if x.startswith("SpaceReclaimed"))
        assert abs(freed - preview_bytes) <= max(0.05 * freed, 128 * 1024 * count), (
            freed,
            preview_bytes,
            line,
        )
        assert freed >= 2 * 60000, "the two dangling layers' random bytes came back"
        reclaimed = int(line.split()[1])
        if store == "classic":
            assert reclaimed == preview_bytes, line
            assert f"the preview said {preview_bytes} bytes" in line
        elif store == "podman":
            assert reclaimed > freed and "as Podman counts it" in line, line
            assert f"the preview said {preview_bytes} bytes (the layers only they had)" in line
        else:
            assert "as the containerd image store counts it" in line
            assert f"estimate of the disk freed was {preview_bytes} bytes" in line
        assert all(f"Deleted: {i}" in log(app) for i in old)
        assert not any(exists(api, i) for i in old) and exists(api, new)


async def test_bulk_remove_of_marked_rows_goes_on_past_a_failure(  # type: ignore[no-untyped-def]
    app_for, api, unique: str, cleanup: list[str]
) -> None:
    prefix = f"bulk-{unique}"
    ids = {}
    for name in ("a", "b", "c", "d"):
        write = ["sh", "-c", f"echo {name} > /x"]
        ids[name] = run_and_commit(
            api, "busybox:latest", f"{prefix}-{name}", write, f"{prefix}/{name}", "1", remove=True
        )
        cleanup.append(ids[name])
    user = api.create_container(f"{prefix}/a:1", command=["true"], name=f"{prefix}-user",
                                host_config=api.create_host_config(**NET))  # fmt: skip
    cleanup.append(f"c:{prefix}-user")
    assert user
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await wait_for(pilot, lambda: f"{prefix}/d" in {r.name for r in app.images.repos.items})
        await pilot.press("slash", *prefix, "enter")
        assert [r.name for r in app.images.repos.shown_items] == [f"{prefix}/{n}" for n in "abcd"]
        await pilot.press("space", "space", "space")  # a, b, c marked; the cursor moves down each time
        assert app.images.repos.marked == {f"{prefix}/a", f"{prefix}/b", f"{prefix}/c"}
        assert "3 marked" in str(app.images.repos.border_title)
        await pilot.press("d")
        box = await dialog(pilot, app)
        assert "Remove 3 names?" in box.shown_text
        assert f"{prefix}/a:1: refused by the engine, used by container {prefix}-user" in box.shown_text
        assert f"{prefix}/b:1: deletes" in box.shown_text
        await pilot.press("y")
        await wait_for(pilot, lambda: "Reclaimed" in log(app))
        assert f"{prefix}/a:1:" in log(app) and "1 failed" in log(app)
        assert f"Deleted: {ids['b']}" in log(app) and f"Deleted: {ids['c']}" in log(app)
        assert exists(api, ids["a"]) and exists(api, ids["d"])
        assert not exists(api, ids["b"]) and not exists(api, ids["c"])
        assert app.images.repos.marked == set()


async def test_tag_validates_then_shows_the_new_name(app_for, api, scenario: Scenario, unique: str) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, scenario.repo, "second")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, NameDialog))
        box = app.screen
        assert isinstance(box, NameDialog)
        await pilot.press("ctrl+u", *"Bad", "space", *"Name:1", "enter")
        assert app.screen is box and "spaces" in box.error
        await pilot.press("ctrl+u", *"MyApp:1", "enter")
        assert app.screen is box and "lowercase" in box.error
        await pilot.press("ctrl+u", *f"localhost:5000/team/new-{unique}", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, NameDialog))
        full = f"localhost:5000/team/new-{unique}:latest"
        await wait_for(pilot, lambda: full in app.images.catalog.names_for(scenario.second))
        assert f"Tagged {scenario.second[7:19]} as {full}" in log(app)
        assert api.inspect_image(full)["Id"] == scenario.second
        assert "+1" in " ".join(str(c) for c in app.images.tags.get_row_at(app.images.tags.cursor_row))
        api.remove_image(full)


async def test_a_change_between_preview_and_confirm_removes_nothing(  # type: ignore[no-untyped-def]
    app_for, api, unique: str, cleanup: list[str]
) -> None:
    repo = f"conc-{unique}"
    image_id = run_and_commit(api, "busybox:latest", f"mk-{unique}", ["true"], repo, "1", remove=True)
    cleanup.append(image_id)
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, repo, "1")
        await pilot.press("d")
        box = await dialog(pilot, app)
        assert "Deletes the image" in box.shown_text
        # Meanwhile, in another shell: a container starts using the image.
        api.create_container(f"{repo}:1", command=["true"], name=f"late-{unique}",
                             host_config=api.create_host_config(**NET))  # fmt: skip
        cleanup.append(f"c:late-{unique}")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog) and app.screen is not box)
        again = app.screen
        assert isinstance(again, ChoiceDialog)
        assert "changed since the preview; nothing was removed" in again.shown_text
        assert f"Used by container late-{unique}" in again.shown_text
        assert exists(api, f"{repo}:1")
        await pilot.press("escape")
        assert "Cancelled: nothing removed" in log(app)
        assert exists(api, f"{repo}:1")


async def test_inspect_tree_search_and_copy(app_for, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, scenario.repo, "second")
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen))
        screen = app.screen
        assert isinstance(screen, InspectScreen)
        await pilot.press("slash", *"author", "enter")
        await pilot.pause()
        assert screen.selected == (".Author", "alicek106")
        await pilot.press("c")
        assert app.clipboard == "alicek106"
        await pilot.press("slash", "ctrl+u", *"comment", "enter")
        await pilot.pause()
        assert screen.selected == (".Comment", "my second commit")
        await pilot.press("escape")
        assert not isinstance(app.screen, InspectScreen)


async def test_containers_view_rename_remove_and_jump(app_for, api, scenario: Scenario, unique: str) -> None:  # type: ignore[no-untyped-def]
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, scenario.repo, "first")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.loaded)
        screen = app.screen
        assert isinstance(screen, ContainersScreen)
        assert [c.name for c in screen.table.items] == [scenario.c2], "only the containers of this image"
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, NameDialog))
        await pilot.press("ctrl+u", *f"renamed-{unique}", "enter")
        await wait_for(pilot, lambda: [c.name for c in screen.table.items] == [f"renamed-{unique}"])
        await pilot.press("g")
        await wait_for(pilot, lambda: not isinstance(app.screen, ContainersScreen))
        assert app.images.tags.current is not None and app.images.tags.current.image.id == scenario.first
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.loaded)
        screen = app.screen
        assert isinstance(screen, ContainersScreen)
        await pilot.press("d")
        box = await dialog(pilot, app)
        assert "writable layer" in box.shown_text
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.table.items == [])
        with pytest.raises(docker.errors.NotFound):
            api.inspect_container(f"renamed-{unique}")


def test_prune_prunes_nothing_if_the_candidates_changed(docker_host: str, api, unique: str, cleanup) -> None:  # type: ignore[no-untyped-def]
    """A new dangling image between preview and confirmation: nothing is pruned, a new preview comes."""
    from imgtui.engine import PlanChanged

    engine = Engine.connect(docker_host)
    plan = engine.plan_prune(all_unused=False)
    repo = f"late-dangling-{unique}"
    for n in (1, 2):
        cleanup.append(
            run_and_commit(api, "busybox:latest", f"ld{n}-{unique}", ["true"], repo, "1", remove=True)
        )
    with pytest.raises(PlanChanged) as changed:
        engine.prune(plan)
    assert isinstance(changed.value.plan, type(plan))
    assert exists(api, cleanup[0]), "the image that became dangling after the preview is still there"
    engine.close()


def test_a_removal_frees_what_its_preview_said(
    engine: Engine, api, sandbox: Sandbox, unique: str, cleanup
) -> None:  # type: ignore[no-untyped-def]
    """One image with 300 kB of its own (random, so its compressed copy is as big): the preview's "frees" and
    the status line's disk figure both move by what `du` of the data-root gives back, on both stores."""
    repo = f"solo-{unique}"
    write = ["sh", "-c", "head -c 300000 /dev/urandom > /r"]
    image_id = run_and_commit(api, "busybox:latest", f"solo-{unique}", write, repo, "1", remove=True)
    cleanup.append(image_id)
    plan = engine.plan_removal(f"{repo}:1", image_id, "tag")
    assert plan.deletes and plan.unique_size >= 300_000
    status_before = engine.disk_usage()
    before = disk_used(sandbox.data_root)
    lines = [line.text for line in engine.remove(plan, "remove")]
    assert f"Deleted: {image_id}" in lines
    freed = before - settled_disk_used(sandbox.data_root)
    status_freed = status_before - engine.disk_usage()
    tolerance = max(0.05 * freed, 128 * 1024)
    assert abs(freed - plan.unique_size) <= tolerance, (freed, plan.unique_size)
    assert abs(freed - status_freed) <= tolerance, (freed, status_freed)


def test_force_past_a_stopped_container_does_what_the_preview_says(  # type: ignore[no-untyped-def]
    engine: Engine, api, store: str, unique: str, cleanup
) -> None:
    """Done, then the container started: the classic store deletes the image record and the container still
    starts; the containerd store only untags, leaving a dangling image. The preview says which."""
    if store == "podman":
        pytest.skip("Docker's rule; Podman's rmi --force removes the containers (tests/test_podman.py)")
    repo = f"forced-{unique}"
    image_id = run_and_commit(api, "busybox:latest", f"fmk-{unique}", ["sh", "-c", "echo x > /x"], repo, "1",
                              remove=True)  # fmt: skip
    cleanup.append(image_id)
    user = api.create_container(f"{repo}:1", command=["cat", "/x"], name=f"fuser-{unique}",
                                host_config=api.create_host_config(**NET))  # fmt: skip
    cleanup.append(f"c:fuser-{unique}")
    plan = engine.plan_removal(f"{repo}:1", image_id, "tag")
    assert plan.blocked and plan.force_allowed
    said = plan.force_outcome()
    lines = [line.text for line in engine.remove(plan, "force")]
    api.start(user)
    assert api.wait(user)["StatusCode"] == 0 and api.logs(user) == b"x\n", "the container still starts"
    if store == "classic":
        assert "deletes the image record" in said and "still starts" in said
        assert f"Deleted: {image_id}" in lines and not exists(api, image_id)
    else:
        assert "stays behind as a dangling <none> image" in said
        assert not any(line.startswith("Deleted") for line in lines)
        assert exists(api, image_id) and api.inspect_image(image_id)["RepoTags"] == []


def test_force_is_not_offered_where_the_engine_refuses_it(  # type: ignore[no-untyped-def]
    engine: Engine, api, unique: str, cleanup, store: str
) -> None:
    """A dangling image that a running container uses cannot be removed even with force (both stores)."""
    if store == "podman":
        pytest.skip("Docker's rule; Podman's rmi --force removes the containers (tests/test_podman.py)")
    repo = f"pinned-{unique}"
    image_id = run_and_commit(api, "busybox:latest", f"pmk-{unique}", ["true"], repo, "1", remove=True)
    cleanup.append(image_id)
    runner = api.create_container(f"{repo}:1", command=["sleep", "600"], name=f"prun-{unique}",
                                  host_config=api.create_host_config(**NET))  # fmt: skip
    cleanup.append(f"c:prun-{unique}")
    api.start(runner)
    api.remove_image(f"{repo}:1", force=True)  # now dangling, still running
    plan = engine.plan_removal(image_id, image_id, "tag")
    assert plan.blocked and not plan.force_allowed
    assert "Force is refused here" in plan.force_outcome()
    with pytest.raises(docker.errors.APIError, match="cannot be forced"):
        api.remove_image(image_id, force=True)
