"""Cleanup plans on hand-made engine states (pure functions), the policy file, and the state kept on disk
(last-used times from two runs at once, the lock). The same plans on the real engine, the CLI and the dialog
are in tests/test_cleanup.py."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from imgtui.cleanup import Locked, Policy, PolicyError, UsageLog, cleanup_lock, from_file, make_plan, used_ref
from imgtui.engine.models import Container, Image
from imgtui.engine.removal import EngineState

NOW = 1_800_000_000.0
DAY = 86400.0


def img(c: str, *names: str, days: float, size: int = 100) -> Image:
    when = datetime.fromtimestamp(NOW - days * DAY, timezone.utc)
    return Image(f"sha256:{c * 64}", names, (), when, size)


def ctr(name: str, image: Image, state: str) -> Container:
    return Container(name * 8, name, image.names[0] if image.names else image.id, image.id, "sh",
                     image.created, state, state)  # fmt: skip


def state(images: list[Image], containers: tuple[Container, ...] = (), children=None) -> EngineState:  # type: ignore[no-untyped-def]
    return EngineState({i.id: i for i in images}, children or {}, containers, {i.id: i.size for i in images},
                       sum(i.size for i in images))  # fmt: skip


V8, V9, V10 = img("8", "app:v8", days=45, size=300), img("9", "app:v9", days=20, size=200), \
    img("a", "app:v10", days=1, size=100)  # fmt: skip


def test_newest_by_created_time_not_by_name() -> None:
    """`v9` sorts after `v10` as a string; the newest by time is v10, and it stays."""
    plan = make_plan(state([V9, V8, V10]), Policy(keep=1), {}, NOW)
    assert [(i.untag, i.deletes, i.freed) for i in plan.items] == [
        (("app:v8",), True, 300),
        (("app:v9",), True, 200),
    ]
    assert plan.items[0].reasons == ("app:v8: not among the newest 1 of app (#3)",)
    assert plan.kept[0].name == "app:v10" and plan.kept[0].why == "among the newest 1 of app (#1)"
    assert plan.freed == 500
    assert plan.summary() == "2 images to delete, frees 500 B (500 bytes)"


def test_the_default_policy_takes_dangling_images_only() -> None:
    dangling = img("d", days=3, size=50)
    plan = make_plan(state([V8, V9, V10, dangling]), Policy(), {}, NOW)
    assert [(i.image.id, i.untag, i.reasons) for i in plan.items] == [(dangling.id, (), ("dangling image",))]
    assert plan.freed == 50 and plan.kept == ()


def test_unused_days_fall_back_to_created_time_and_say_so() -> None:
    plan = make_plan(state([V8, V9, V10]), Policy(unused_days=30), {}, NOW)
    assert [i.untag for i in plan.items] == [("app:v8",)]
    assert plan.items[0].last_used == "last used: unknown, created 45 days ago"
    assert plan.items[0].reasons == (
        "app:v8: unused for more than 30 days (last used: unknown, created 45 days ago)",
    )
    # A use seen by imgtui 2 days ago keeps it, and the plan says when.
    used = make_plan(state([V8, V9, V10]), Policy(unused_days=30), {V8.id: NOW - 2 * DAY}, NOW)
    assert used.items == () and ("app:v8", "within 30 days of its last use (last used 2 days ago)") in {
        (k.name, k.why) for k in used.kept
    }


def test_keep_and_unused_together_keep_what_either_keeps() -> None:
    """Past the newest 1, v9 is still kept: it was made 20 days ago, within 30 days."""
    plan = make_plan(state([V8, V9, V10]), Policy(keep=1, unused_days=30), {}, NOW)
    assert [i.untag for i in plan.items] == [("app:v8",)]
    assert plan.items[0].reasons == (
        "app:v8: not among the newest 1 of app (#3); unused for more than 30 days (last used: unknown, "
        "created 45 days ago)",
    )


def test_protected_names_stay_and_their_image_is_only_untagged() -> None:
    both = img("b", "app:v7", "app:stable", days=60, size=400)
    plan = make_plan(state([both, V10]), Policy(keep=1, protect=("*:stable",)), {}, NOW)
    [item] = plan.items
    assert item.untag == ("app:v7",) and not item.deletes and item.freed == 0
    assert item.reasons == ("app:v7: not among the newest 1 of app (#2)", "untag only: app:stable stays")
    assert ("app:stable", "protected by *:stable") in {(k.name, k.why) for k in plan.kept}
    assert plan.summary() == "0 images to delete, 1 name to untag, frees 0 B (0 bytes)"
    # A pattern without a tag matches the repository.
    assert make_plan(state([both, V10]), Policy(keep=0, protect=("app",)), {}, NOW).items == ()


def test_images_used_by_containers_are_skipped_with_the_container() -> None:
    web = img("w", "web:1", days=90)
    plan = make_plan(state([web, img("x", "web:2", days=1)], (ctr("front", web, "exited"),)), Policy(keep=1),
                     {}, NOW)  # fmt: skip
    assert plan.items == ()
    assert [(s.image.id, s.names, s.why) for s in plan.skipped] == [
        (web.id, ("web:1",), "used by container front (exited)")
    ]
    assert plan.summary() == "Nothing to remove; 1 image skipped"


def test_a_parent_image_only_untags_and_frees_nothing() -> None:
    parent, child = img("p", "base:1", days=50), img("c", "base:2", days=1)
    plan = make_plan(state([parent, child], children={parent.id: (child.id,)}), Policy(keep=1), {}, NOW)
    [item] = plan.items
    assert (
        not item.deletes
        and item.freed == 0
        and item.reasons[-1] == "untag only: a child image needs its layers"
    )


def test_until_free_takes_least_recently_used_first_and_says_when_short() -> None:
    a = img("1", "a:1", days=10, size=1000)
    b = img("2", "b:1", days=50, size=2000)
    c = img("3", "c:1", days=5, size=4000)
    uses = {b.id: NOW - 1 * DAY}  # b was made long ago but used yesterday: it goes last
    plan = make_plan(state([a, b, c]), Policy(until_free=4500), uses, NOW)
    assert [i.untag for i in plan.items] == [("a:1",), ("c:1",)]
    assert plan.freed == 5000 and plan.short_by == 0
    assert plan.items[0].reasons == (
        "least recently used (last used: unknown, created 10 days ago), to free 4.5 kB",
    )
    short = make_plan(state([a, b, c]), Policy(until_free=10_000, protect=("c:*",)), uses, NOW)
    assert [i.untag for i in short.items] == [("a:1",), ("b:1",)] and short.short_by == 7000
    assert short.summary().endswith("; 7 kB (7000 bytes) short of --until-free: nothing more may be removed")


def test_a_policy_says_what_it_does_in_one_line() -> None:
    assert Policy().describe() == "remove dangling images"
    assert Policy(keep=3, unused_days=30, protect=("*:latest", "postgres"), until_free=10**10).describe() == (
        "remove dangling images, and names whose image is not among the newest 3 of its repository and was "
        "unused for more than 30 days; never names matching *:latest postgres; then the least recently used "
        "images until 10 GB is freed"
    )
    assert Policy(unused_days=7.5).describe() == (
        "remove dangling images, and names whose image was unused for more than 7.5 days"
    )


def test_policy_file_and_its_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps({"keep": 3, "unused_days": 30, "protect": ["*:latest"], "until_free": "1.5GB"})
    )
    assert from_file(path) == Policy(3, 30.0, ("*:latest",), 1_500_000_000)
    for body, said in [
        ('{"keep": "3"}', "keep must be a whole number, not '3'"),
        ('{"kept": 3}', "unknown key 'kept' (known: keep, unused_days, protect, until_free)"),
        ('{"until_free": "lots"}', "until_free: 'lots' is not a size (like 10GB or 1.5GiB)"),
        ("[3]", 'must be a JSON object like {"keep": 3}'),
        ('{"keep": 3', "is not JSON"),
        ('{"unused_days": -1}', "unused_days must be a number of days, 0 or more, not -1.0"),
    ]:
        path.write_text(body)
        with pytest.raises(PolicyError) as error:
            from_file(path)
        assert said in str(error.value), (body, str(error.value))
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        from_file(tmp_path / "missing.json")


def test_which_events_are_uses() -> None:
    assert used_ref("container", "start", "c1", {"image": "app:1"}) == "app:1"
    assert used_ref("container", "exec_start: sh -c true", "c1", {"image": "app:1"}) == "app:1"
    assert used_ref("container", "rename", "c1", {"image": "app:1"}) is None
    assert used_ref("image", "pull", "busybox:latest", {}) == "busybox:latest"
    assert used_ref("image", "delete", "sha256:x", {}) is None


def test_two_runs_keep_both_their_uses(tmp_path: Path) -> None:
    """Two imgtui on one engine, each saving what it saw: the file ends with both, the later time wins; a
    damaged file reads as no uses (created times stand in), never as an error."""
    one, two = UsageLog("unix:///e.sock", tmp_path), UsageLog("unix:///e.sock", tmp_path)
    one.note("sha256:a", 100.0)
    two.note("sha256:b", 200.0)
    two.note("sha256:a", 50.0)
    one.save()
    two.save()
    assert UsageLog("unix:///e.sock", tmp_path).load() == {"sha256:a": 100.0, "sha256:b": 200.0}
    assert UsageLog("unix:///other.sock", tmp_path).load() == {}, "each engine has its own file"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    one.path.write_text("{not json")
    assert UsageLog("unix:///e.sock", tmp_path).load() == {}


def test_the_lock_is_held_across_processes(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from imgtui.cleanup import cleanup_lock\n"
        f"with cleanup_lock('unix:///e.sock', Path({str(tmp_path)!r})):\n"
        "    print('held', flush=True); sys.stdin.readline()\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(Locked, match="another imgtui clean of this engine is running"):
            with cleanup_lock("unix:///e.sock", tmp_path):
                pass
        with cleanup_lock("unix:///other.sock", tmp_path):
            pass  # another engine's cleanup is not held up
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    with cleanup_lock("unix:///e.sock", tmp_path):
        pass  # free again once the holder ended
