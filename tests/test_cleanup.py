"""Cleanup policies on the sandbox engine: the plan of images made days and months ago (loaded from archives
written by tests/made_images.py, each with its own random layer of a known size), applying it, `imgtui
clean` as cron runs it (dry run, JSON, --yes, the lock), and the `C` dialog with Pilot, where a container
made from an image while imgtui runs makes that image recently used.

On the classic image store an image's own bytes are its layer's content bytes, so the plans' figures are
exact and the engine's disk usage moves by exactly that much; on the containerd store they are imgtui's
model (README "Sizes on both image stores") and are checked against `du` of the data-root.

The engine is shared with the other tests: each test first prunes the dangling images left by earlier tests
and protects every name it did not make (exact names are globs that match only themselves), so the plans
are exact and nothing of the others is removed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest

from imgtui.cleanup import Policy, apply, cleanup_lock, make_plan
from imgtui.engine import Engine
from imgtui.engine.models import familiar
from imgtui.engine.removal import EngineState
from imgtui.sandbox import Sandbox
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.dialogs.policy import PolicyDialog
from imgtui.ui.features.cleanup import Cleanup
from tests.conftest import wait_for
from tests.made_images import layered_archive, make_image
from tests.test_removal import disk_used, exists, settled_disk_used

NET = {"network_mode": "none"}


@dataclass
class Aged:
    """cl<u>/app:v8 (45 days, 30,000 bytes), cl<u>/app:v9 + :stable (20 days, 20,000), cl<u>/app:v10 (1 day,
    10,000; `v10` < `v9` as strings), cl<u>/web:1 (40 days, 5,000, a created container uses it),
    cl<u>/web:2 (2 days, 1,000), and a dangling image (3 days, 3,000)."""

    prefix: str
    ids: dict[str, str]
    container: str
    others: list[str]
    """Every other name on the engine, to protect."""

    def restrict(self, state: EngineState) -> EngineState:
        """The engine's state as if only these images were there (the engine is shared)."""
        mine = set(self.ids.values())
        return dataclasses.replace(state, images={k: v for k, v in state.images.items() if k in mine})


@pytest.fixture
def aged(api: docker.APIClient, unique: str, cleanup: list[str], on_podman: bool) -> Aged:
    api.prune_images(filters={"dangling": True})
    others = sorted({familiar(n) for row in api.images() for n in (row.get("RepoTags") or [])
                     if n != "<none>:<none>"})  # fmt: skip
    p = f"cl{unique}"
    ids = {
        "v8": make_image(api, [f"{p}/app:v8"], 45, 30_000),
        "v9": make_image(api, [f"{p}/app:v9", f"{p}/app:stable"], 20, 20_000),
        "v10": make_image(api, [f"{p}/app:v10"], 1, 10_000),
        "web1": make_image(api, [f"{p}/web:1"], 40, 5_000),
        "web2": make_image(api, [f"{p}/web:2"], 2, 1_000),
        "dangling": make_image(api, [], 3, 3_000),
    }
    cleanup.extend(ids.values())
    container = f"clw-{unique}"
    api.create_container(
        f"{p}/web:1", command=["/data"], name=container, host_config=api.create_host_config(**NET)
    )
    cleanup.append(f"c:{container}")
    # Podman names an image loaded from an archive that says `NAME` as `localhost/NAME`, and so does
    # everything that lists it (`podman images`, imgtui, the plans).
    return Aged(f"localhost/{p}" if on_podman else p, ids, container, others)


def test_plan_on_the_engine_and_what_applying_it_frees(
    engine: Engine, api: docker.APIClient, aged: Aged, sandbox: Sandbox, store: str
) -> None:
    """Keep the newest 1 of each repository, never `*:stable`: v8 goes (the oldest, not the first name in
    string order), v9 loses only its `v9` name, web:1 is skipped for its container, the dangling image goes;
    the engine's answers are passed on, and the disk gives back what the plan said."""
    p, ids = aged.prefix, aged.ids
    state = aged.restrict(engine.removal_state())
    plan = make_plan(state, Policy(keep=1, protect=("*:stable",)), {})
    assert [(i.image.id, i.untag, i.deletes) for i in plan.items] == [
        (ids["v8"], (f"{p}/app:v8",), True),
        (ids["v9"], (f"{p}/app:v9",), False),
        (ids["dangling"], (), True),
    ]
    assert plan.items[0].reasons == (f"{p}/app:v8: not among the newest 1 of {p}/app (#3)",)
    assert plan.items[0].last_used == "last used: unknown, created 45 days ago"
    assert plan.items[1].reasons == (f"{p}/app:v9: not among the newest 1 of {p}/app (#2)",
                                     f"untag only: {p}/app:stable stays")  # fmt: skip
    assert [(s.image.id, s.names, s.why) for s in plan.skipped] == [
        (ids["web1"], (f"{p}/web:1",), f"used by container {aged.container} (created)")
    ]
    assert sorted((k.name, k.why) for k in plan.kept) == [
        (f"{p}/app:stable", "protected by *:stable"),
        (f"{p}/app:v10", f"among the newest 1 of {p}/app (#1)"),
        (f"{p}/web:2", f"among the newest 1 of {p}/web (#1)"),
    ]
    if store == "classic":
        assert [i.freed for i in plan.items] == [30_000, 0, 3_000] and plan.freed == 33_000
        assert (
            plan.summary()
            == "2 images to delete, 1 name to untag, frees 33 kB (33000 bytes); 1 image skipped"
        )
    elif store == "podman":
        # Podman's size of a loaded layer is its tar's, in records of 10 KiB (Python's tarfile writes
        # them): 30,000 bytes take 40,960, 3,000 take 10,240. An exact figure, not an estimate.
        assert [i.freed for i in plan.items] == [40_960, 0, 10_240] and plan.freed == 51_200
        assert not plan.containerd and not plan.about
    else:
        # Each image is one layer of its own: the model splits nothing, so the figure is not an estimate.
        assert plan.containerd and not plan.about
        assert plan.freed >= 2 * 33_000, "each layer twice: unpacked and compressed (random bytes)"

    status_before, du_before = engine.disk_usage(), disk_used(sandbox.data_root)
    lines = [
        (line.kind, line.text)
        for line in apply(engine.api, plan, lambda: aged.restrict(engine.removal_state()))
    ]
    assert ("deleted", f"Deleted: {ids['v8']}") in lines
    assert ("untagged", f"Untagged: {p}/app:v9") in lines
    assert ("deleted", f"Deleted: {ids['dangling']}") in lines
    assert not [text for kind, text in lines if kind == "error"]
    freed_status = status_before - engine.disk_usage()
    freed_du = du_before - settled_disk_used(sandbox.data_root)
    if store == "classic":
        assert freed_status == 33_000, "the engine's own disk figure moved by what the plan said"
    assert abs(freed_du - plan.freed) <= max(0.05 * freed_du, 128 * 1024 * 2), (freed_du, plan.freed)
    assert not exists(api, ids["v8"]) and not exists(api, ids["dangling"])
    assert api.inspect_image(ids["v9"])["RepoTags"] == [f"{p}/app:stable"]
    assert exists(api, f"{p}/app:v10") and exists(api, f"{p}/web:1") and exists(api, f"{p}/web:2")


def test_a_change_after_the_preview_removes_nothing(
    engine: Engine, api: docker.APIClient, aged: Aged
) -> None:
    from imgtui.engine import PlanChanged

    read = lambda: aged.restrict(engine.removal_state())  # noqa: E731
    plan = make_plan(read(), Policy(keep=1, protect=("*:stable",)), {})
    api.create_container(f"{aged.prefix}/app:v8", command=["/data"], name=f"late-{aged.container}",
                         host_config=api.create_host_config(**NET))  # fmt: skip
    try:
        with pytest.raises(PlanChanged) as changed:
            list(apply(engine.api, plan, read))
        assert "nothing was removed" in str(changed.value)
        assert exists(api, aged.ids["v8"]) and exists(api, aged.ids["dangling"])
    finally:
        api.remove_container(f"late-{aged.container}")


def clean(*args: str, docker_host: str, state: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_HOST"] = docker_host
    if state is not None:
        env["IMGTUI_STATE"] = str(state)
    return subprocess.run([sys.executable, "-m", "imgtui", "clean", *args], capture_output=True, text=True,
                          env=env, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip


def policy_file(tmp_path: Path, aged: Aged, **rules: object) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({**rules, "protect": ["*:stable", *aged.others]}))
    return path


def test_clean_cli_dry_run_json_then_yes(
    docker_host: str, api: docker.APIClient, aged: Aged, tmp_path: Path, store: str
) -> None:
    """The cron way: the JSON plan is exact (keep 1, unused 30 days: v9 stays, made 20 days ago); without
    --yes nothing goes; --yes prints each engine answer and what the disk gave back."""
    p, ids = aged.prefix, aged.ids
    policy = policy_file(tmp_path, aged, keep=1, unused_days=30)
    dry = clean("--policy", str(policy), "--dry-run", "--json", docker_host=docker_host)
    assert dry.returncode == 0, dry.stderr
    body = json.loads(dry.stdout)
    assert body["engine"] == docker_host and body["policy"]["keep"] == 1
    items = [(i["image"], i["names"], i["action"], i["reasons"]) for i in body["items"]]
    assert items == [
        (ids["v8"], [f"{p}/app:v8"], "delete", [
            f"{p}/app:v8: not among the newest 1 of {p}/app (#3); unused for more than 30 days (last used: "
            "unknown, created 45 days ago)"
        ]),
        (ids["dangling"], [], "delete", ["dangling image"]),
    ]  # fmt: skip
    assert body["items"][0]["last_used"] is None and body["items"][0]["created"].startswith("20")
    assert body["skipped"] == [{"image": ids["web1"], "names": [f"{p}/web:1"],
                                "reason": f"used by container {aged.container} (created)"}]  # fmt: skip
    kept = {k["name"]: k["reason"] for k in body["kept"]}
    assert kept[f"{p}/app:v9"] == "within 30 days of its creation (last used: unknown, created 20 days ago)"
    if store == "classic":
        assert [i["bytes"] for i in body["items"]] == [30_000, 3_000] and body["freed_bytes"] == 33_000
        assert body["estimate"] is False

    plain = clean("--policy", str(policy), docker_host=docker_host)
    assert plain.returncode == 0 and plain.stdout.endswith(
        "Nothing was removed: pass --yes to apply this plan.\n"
    )
    assert plain.stdout.startswith(
        f"Cleanup of {docker_host}: remove dangling images, and names whose image is not among the newest 1 "
        "of its repository and was unused for more than 30 days; never names matching *:stable "
    )
    assert f"delete {ids['v8'][7:19]}  {p}/app:v8  (frees " in plain.stdout
    assert (
        f"skip   {ids['web1'][7:19]}  {p}/web:1  (used by container {aged.container} (created))"
        in plain.stdout
    )
    assert exists(api, ids["v8"]) and exists(api, ids["dangling"])

    done = clean("--policy", str(policy), "--yes", docker_host=docker_host)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert f"Deleted: {ids['v8']}" in out and f"Deleted: {ids['dangling']}" in out
    assert f"Untagged: {p}/app:v8" in out
    if store == "classic":
        assert (
            out[-1]
            == "Reclaimed 33 kB (33000 bytes) of disk, as imgtui counts it; the plan said 33000 bytes."
        )
    assert not exists(api, ids["v8"]) and exists(api, ids["v9"]) and exists(api, ids["web1"])

    again = clean("--policy", str(policy), "--yes", docker_host=docker_host)
    assert again.returncode == 0 and "Nothing to remove; 1 image skipped." in again.stdout


def test_clean_cli_until_free_takes_the_least_recently_used(
    docker_host: str, api: docker.APIClient, aged: Aged, tmp_path: Path, store: str
) -> None:
    """docuum's way, asked for one byte more than the dangling image frees: the least recently used image
    that may go comes next (v8, 45 days; v9 has a protected name), and that is enough; v10 and web:2 stay.
    Asked for 1 GB, it takes every image it may, passes web:1 (a container uses it) and says how far short
    it is."""
    from imgtui.cleanup.policy import size

    p, ids = aged.prefix, aged.ids
    path = policy_file(tmp_path, aged)
    dangling = json.loads(clean("--policy", str(path), "--dry-run", "--json", docker_host=docker_host).stdout)
    assert [i["image"] for i in dangling["items"]] == [ids["dangling"]]
    wanted = dangling["freed_bytes"] + 1
    dry = clean(
        "--policy", str(path), "--until-free", str(wanted), "--dry-run", "--json", docker_host=docker_host
    )
    assert dry.returncode == 0, dry.stderr
    body = json.loads(dry.stdout)
    assert [(i["image"], i["names"], i["reasons"]) for i in body["items"]] == [
        (ids["dangling"], [], ["dangling image"]),
        (ids["v8"], [f"{p}/app:v8"],
         [f"least recently used (last used: unknown, created 45 days ago), to free {size(wanted)}"]),
    ]  # fmt: skip
    assert body["policy"]["until_free"] == wanted and body["short_by_bytes"] == 0
    assert body["skipped"] == [], "web:1's turn never came"
    if store == "classic":
        assert wanted == 3001 and body["freed_bytes"] == 33_000
    short = clean(
        "--policy", str(path), "--until-free", "1GB", "--dry-run", "--json", docker_host=docker_host
    )
    body = json.loads(short.stdout)
    assert short.returncode == 0
    assert [i["image"] for i in body["items"]] == [ids["dangling"], ids["v8"], ids["web2"], ids["v10"]]
    assert body["skipped"] == [{"image": ids["web1"], "names": [f"{p}/web:1"],
                                "reason": f"used by container {aged.container} (created)"}]  # fmt: skip
    assert body["short_by_bytes"] == 10**9 - body["freed_bytes"]
    if store == "classic":
        assert body["freed_bytes"] == 44_000
    text = clean("--policy", str(path), "--until-free", "1GB", "--dry-run", docker_host=docker_host).stdout
    if store == "classic":
        assert (
            "frees 44 kB (44000 bytes); 1 image skipped; 1 GB (999956000 bytes) short of --until-free" in text
        )


def test_clean_cli_waits_for_no_one_when_locked(
    docker_host: str, api: docker.APIClient, aged: Aged, tmp_path: Path
) -> None:
    """A second run while another holds the engine's lock exits 3 at once, having removed nothing; a dry
    run is not held up; bad input is exit 2 with one sentence."""
    state = tmp_path / "state"
    with cleanup_lock(docker_host, state):
        held = clean("--yes", docker_host=docker_host, state=state)
        assert held.returncode == 3
        assert held.stderr.startswith("imgtui clean: another imgtui clean of this engine is running (lock ")
        assert held.stdout == ""
        assert exists(api, aged.ids["dangling"])
        dry = clean("--dry-run", docker_host=docker_host, state=state)
        assert dry.returncode == 0 and f"delete {aged.ids['dangling'][7:19]}" in dry.stdout
    bad = clean("--keep", "many", docker_host=docker_host)
    assert bad.returncode == 2 and "argument --keep: invalid int value: 'many'" in bad.stderr
    nowhere = clean("--yes", docker_host="unix:///tmp/imgtui-no-engine-here.sock")
    assert nowhere.returncode == 2 and "Traceback" not in nowhere.stderr
    assert nowhere.stderr.startswith(
        "imgtui clean: no Docker engine answered at unix:///tmp/imgtui-no-engine-here"
    )
    done = clean("--yes", docker_host=docker_host, state=state)
    assert done.returncode == 0 and f"Deleted: {aged.ids['dangling']}" in done.stdout.splitlines()


async def test_cleanup_dialog_uses_last_used_times_seen_live(
    app_for: Callable[[], object], api: docker.APIClient, aged: Aged, store: str
) -> None:
    """While the app runs, a container is made from v8 (45 days old) and removed again: v8 is now used
    today, so `keep 1, unused 30 days` keeps it, and the plan says so; the last-used file has it. `y`
    applies the plan: the dangling image goes, one log line per engine answer."""
    p, ids = aged.prefix, aged.ids
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: app.images.loaded)  # type: ignore[attr-defined]
        feature = app.images.query_one(Cleanup)  # type: ignore[attr-defined]
        user = f"use-{aged.container}"
        api.create_container(
            f"{p}/app:v8", command=["/data"], name=user, host_config=api.create_host_config(**NET)
        )
        api.remove_container(user)

        def v8_used() -> bool:
            """the create event of v8's container is kept on disk"""
            return ids["v8"] in feature.usage._read()

        await wait_for(pilot, v8_used)
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, PolicyDialog))  # type: ignore[attr-defined]
        await pilot.press("1", "tab", "3", "0", "tab")
        form = app.screen  # type: ignore[attr-defined]
        form.query_one("#policy-protect").value = " ".join(["*:stable", *aged.others])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))  # type: ignore[attr-defined]
        box = app.screen  # type: ignore[attr-defined]
        text = box.shown_text
        assert box.title_text == "Clean up?"
        assert f"delete {ids['dangling'][7:19]}  <none>  (frees " in text
        assert f"keep {p}/app:v8: within 30 days of its last use (last used today)" in text
        assert f"delete {ids['v8'][7:19]}" not in text
        assert f"skip {ids['web1'][7:19]}  {p}/web:1: used by container {aged.container} (created)" in text
        if store == "classic":
            assert "1 image to delete, frees 3 kB (3000 bytes); 1 image skipped" in text.splitlines()[2:4]
        await pilot.press("y")

        def applied() -> bool:
            """the cleanup's reclaimed line"""
            return any(line.startswith("Reclaimed") for line in app.images.outcome.lines_text)  # type: ignore[attr-defined]

        await wait_for(pilot, applied)
        log = list(app.images.outcome.lines_text)  # type: ignore[attr-defined]
        assert f"Deleted: {ids['dangling']}" in log
        if store == "classic":
            assert log[-1] == "Reclaimed 3 kB (3000 bytes); the plan said 3000 bytes"
    assert exists(api, ids["v8"]) and not exists(api, ids["dangling"])


async def test_the_policy_form_says_what_is_wrong(app_for: Callable[[], object]) -> None:
    """A bad field is one sentence in the form, which stays open; escape leaves without a plan."""
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: app.images.loaded)  # type: ignore[attr-defined]
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, PolicyDialog))  # type: ignore[attr-defined]
        await pilot.press("x", "enter")
        form = app.screen  # type: ignore[attr-defined]
        assert isinstance(form, PolicyDialog) and form.error == "keep: 'x' is not a whole number"
        await pilot.press("backspace", "tab", "tab", "tab", *"9XB", "enter")
        assert form.error == "until free: '9XB' is not a size (like 10GB or 1.5GiB)"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, (PolicyDialog, ChoiceDialog))  # type: ignore[attr-defined]


def test_a_layer_only_the_deleted_images_share_is_freed_too(
    engine: Engine, api: docker.APIClient, unique: str, cleanup: list[str], store: str
) -> None:
    """Two old versions of an app on one dependency layer that no other image has: deleting both frees that
    layer too, though it is in neither's own bytes (`Size - SharedSize`). The plan says so, and the engine's
    disk figure moves by exactly that. If it broke, the preview would promise 5,000 bytes and free 12,000."""
    if store != "classic":
        pytest.skip("the containerd store's model counts shared layers once already (test_sizes)")
    base, shared = os.urandom(5_000), os.urandom(7_000)
    p = f"share{unique}"
    for names, layers in ((f"{p}/base:1", [base]), (f"{p}/app:1", [base, shared, os.urandom(2_000)]),
                          (f"{p}/app:2", [base, shared, os.urandom(3_000)])):  # fmt: skip
        for _ in api.load_image(layered_archive([names], layers)):
            pass
        cleanup.append(names)
    ids = [api.inspect_image(f"{p}/app:{n}")["Id"] for n in (1, 2)]
    state = engine.removal_state()
    assert sum(state.unique[i] for i in ids) == 5_000, "each one's own top layer"
    assert state.freed(ids) == 12_000, "their tops and the layer only they share"
    mine = dataclasses.replace(state, images={i: state.images[i] for i in ids})
    plan = make_plan(mine, Policy(unused_days=30), {})
    assert sorted(i.image.id for i in plan.items if i.deletes) == sorted(ids)
    assert plan.freed == 12_000
    before = engine.disk_usage()
    lines = list(apply(engine.api, plan, lambda: dataclasses.replace(engine.removal_state(), images={
        i: v for i, v in engine.removal_state().images.items() if i in ids})))  # fmt: skip
    assert not [line.text for line in lines if line.kind == "error"], lines
    assert before - engine.disk_usage() == 12_000
    assert exists(api, f"{p}/base:1")
