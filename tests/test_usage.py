"""Disk usage (`u`, `docker system df -v`) on the real sandbox engine: volumes and build cache made for real
(a volume filled by a container, a BuildKit build from busybox, tests/buildkit.py), figures checked against
what was written, and each kind pruned from the view with the engine's figure next to the preview's."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest

from imgtui.engine import Engine
from imgtui.engine.usage import age_text, parse_age
from imgtui.sandbox.proxy import EngineProxy
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.screens.usage import UsageScreen, bar
from tests.buildkit import WHY_NOT, build, can_build
from tests.conftest import wait_for
from tests.test_removal import log
from tests.test_transfer_ui import answer

VOLUME_BYTES = 100 * 1024
WRITABLE_BYTES = 5000
BIG_LAYER = 300 * 1024
CONTAINERD_WRITABLE = 12288
"""What the containerd store gives as SizeRw for that 5000-byte file: the disk its snapshot uses, in 4 KiB
blocks (measured on dockerd 26.1; cf. conftest.SMALL_FILE_SNAPSHOT)."""


PODMAN_WRITABLE = 5012
"""What Podman gives as SizeRw for that 5000-byte file: 12 bytes more, which its runtime writes into the
container (measured on Podman 4.3.1, overlay)."""


def writable(store: str) -> int:
    return {"classic": WRITABLE_BYTES, "podman": PODMAN_WRITABLE}.get(store, CONTAINERD_WRITABLE)


def test_ages_and_bars() -> None:
    assert parse_age("24h") == 86400 and parse_age("1h30m") == 5400 and parse_age("7d") == 604800
    assert parse_age("0") == 0 and parse_age("") == 0 and age_text(5400) == "90m" and age_text(0) == "any age"
    with pytest.raises(ValueError, match="is not an age"):
        parse_age("yesterday")
    with pytest.raises(ValueError, match="is not an age"):
        parse_age("24 hours")
    assert bar(1, 2, 10).plain == "█████·····"
    assert bar(0, 2, 4).plain == "····" and bar(5, 5, 4).plain == "████"
    assert bar(1, 16, 2).plain == "▏·", "an eighth of a cell"


@pytest.fixture
def made(api: docker.APIClient, unique: str) -> Iterator[dict[str, str]]:
    """A volume a stopped container wrote 100 KiB into (used), an empty one nobody uses (unused, made
    empty then filled by a container that is then removed: 100 KiB), a stopped container with a 5000-byte
    writable layer, and a BuildKit build of busybox + 300 KiB."""
    no_net = {"network_mode": "none"}
    used, unused = f"used-{unique}", f"unused-{unique}"
    names = {"used": used, "unused": unused, "writer": f"writer-{unique}", "image": f"built-{unique}:1"}
    for volume in (used, unused):
        api.create_volume(volume)
    fill = f"dd if=/dev/zero of=/data/f bs=1024 count={VOLUME_BYTES // 1024}"
    for volume, keep in ((used, True), (unused, False)):
        box = api.create_container("busybox:latest", ["sh", "-c", fill], volumes=["/data"],
                                   host_config=api.create_host_config(binds=[f"{volume}:/data"], **no_net),
                                   name=f"{volume}-user" if keep else None)  # fmt: skip
        api.start(box)
        api.wait(box, timeout=60)
        if not keep:
            api.remove_container(box)
    write = f"head -c {WRITABLE_BYTES} /dev/zero > /w"
    writer = api.create_container("busybox:latest", ["sh", "-c", write], name=names["writer"],
                                  host_config=api.create_host_config(**no_net))  # fmt: skip
    api.start(writer)
    api.wait(writer, timeout=60)
    if can_build(api):
        build(api, names["image"], f"FROM busybox:latest\nRUN head -c {BIG_LAYER} /dev/zero > /big\n"
                                   f"RUN echo {unique} > /id\n")  # fmt: skip
    else:
        names["image"] = ""
    yield names
    for container in (f"{used}-user", names["writer"]):
        try:
            api.remove_container(container, force=True)
        except docker.errors.APIError:
            pass
    for volume in (used, unused):
        try:
            api.remove_volume(volume)
        except docker.errors.APIError:
            pass
    try:
        if names["image"]:
            api.remove_image(names["image"], force=True)
    except docker.errors.APIError:
        pass


def test_one_request_gives_every_kind_with_exact_figures(
    proxy: EngineProxy, made: dict[str, str], store: str, unique: str
) -> None:
    engine = Engine.connect(proxy.docker_host)
    try:
        proxy.reset()
        usage = engine.read_usage()
        if store == "classic":
            assert proxy.count(contains="/system/df") == 1 and len(proxy.requests) == 1, proxy.requests
        volumes = {v.name: v for v in usage.volumes}
        used, unused = volumes[made["used"]], volumes[made["unused"]]
        assert used.size == VOLUME_BYTES and used.users == (f"{made['used']}-user",) and not used.unused
        assert unused.size == VOLUME_BYTES and unused.users == () and unused.unused
        writer = next(c for c in usage.containers if c.name == made["writer"])
        assert writer.size_rw == writable(store) and not writer.running
        if made["image"]:
            built = next(i for i in usage.images if made["image"] in i.names)
            if store == "classic":
                assert built.unique == BIG_LAYER + len(f"{unique}\n")
            big = [r for r in usage.cache if r.size == BIG_LAYER]
            assert big and big[0].shared, "the RUN layer's record is shared with the image it made"
        kinds = {k.kind: k for k in usage.kinds()}
        assert kinds["volumes"].reclaimable >= VOLUME_BYTES
        assert kinds["volumes"].size - kinds["volumes"].reclaimable >= VOLUME_BYTES
        assert kinds["containers"].reclaimable >= writable(store)
        assert kinds["build cache"].size == sum(r.size for r in usage.cache if not r.shared)
        # The images' figure is imgtui's disk figure: the engine's (classic store) or the model (containerd).
        assert kinds["images"].size == engine.disk_usage()
    finally:
        engine.close()


async def test_the_view_shows_each_kind_and_prunes_volumes_by_name(
    app: ImgtuiApp, api: docker.APIClient, made: dict[str, str], unique: str
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen) and app.screen.usage is not None)
        view = app.screen
        assert isinstance(view, UsageScreen)
        assert [k.kind for k in view.kinds.items] == ["images", "containers", "volumes", "build cache"]
        await pilot.press("j", "j")
        assert view.kind == "volumes" and view.details["volumes"].display
        rows = {v.name: v for v in view.details["volumes"].items}
        assert rows[made["used"]].users == (f"{made['used']}-user",)
        unused = [v for v in view.details["volumes"].items if v.unused]
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        text = dialog.shown_text
        for volume in unused:  # every unused volume, by name, with its size
            assert any(line.startswith(volume.name) for line in text.splitlines()), volume.name
        assert f"{made['unused']}  {fmt_size(VOLUME_BYTES):>8}  local volume" in text
        assert f"{made['used']}  stays: used by {made['used']}-user" in text
        # A volume made after the preview is not named by it: the confirmation finds the change and removes
        # nothing, showing the new preview instead.
        late = f"late-{unique}"
        api.create_volume(late)
        try:
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog) and app.screen is not dialog)
            again = app.screen
            assert isinstance(again, ChoiceDialog)
            assert "changed since the preview: nothing was removed" in (again.banner or "")
            assert late in again.shown_text
            assert {v["Name"] for v in api.volumes()["Volumes"]} >= {made["unused"], late}
            await pilot.press("escape")
        finally:
            api.remove_volume(late)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        freed = sum(v.size for v in unused)
        assert f"frees {fmt_size(freed)} ({freed} bytes)" in app.screen.shown_text  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(view.last_result), timeout=30)
        assert (
            f"the removed volumes took {fmt_size(freed)} ({freed} bytes); the preview said"
            in view.last_result
        )
        assert f"the preview said {fmt_size(freed)} ({freed} bytes)" in view.last_result
        names = {v["Name"] for v in api.volumes()["Volumes"] or []}
        assert made["unused"] not in names and made["used"] in names
        assert f"Deleted volume {made['unused']}" in log(app)
        await wait_for(pilot, lambda: made["unused"] not in {v.name for v in view.details["volumes"].items})


def fmt_size(n: int) -> str:
    from imgtui.ui import format as fmt

    return fmt.size(n)


async def test_build_cache_prune_takes_an_age_and_reports_the_engines_figure(
    app: ImgtuiApp, api: docker.APIClient, made: dict[str, str]
) -> None:
    if not made["image"]:
        pytest.skip(WHY_NOT)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen) and app.screen.usage is not None)
        view = app.screen
        assert isinstance(view, UsageScreen)
        await pilot.press("j", "j", "j")
        assert view.kind == "build cache"
        assert any(r.size == BIG_LAYER and r.shared for r in view.details["build cache"].items)
        # Everything was just built: nothing is unused for a day.
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, NameDialog))
        await answer(pilot, app, "24h")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        assert app.screen.title_text == "Prune build cache unused for 1d?"  # type: ignore[attr-defined]
        assert "No records to prune unused for 1d" in app.screen.shown_text  # type: ignore[attr-defined]
        assert "used within 1d" in app.screen.shown_text  # type: ignore[attr-defined]
        await pilot.press("u")  # another age: any
        await answer(pilot, app, "0")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ChoiceDialog) and "any age" in app.screen.title_text
        )  # type: ignore[attr-defined]
        text = app.screen.shown_text  # type: ignore[attr-defined]
        plan_usage = view.usage
        assert plan_usage is not None
        expected = sum(r.size for r in plan_usage.cache if not r.shared and not r.in_use)
        assert expected > 0 and f"({expected} bytes)" in text
        assert "shared with an image" in text, "the shared records are listed as staying"
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(view.last_result), timeout=60)
        said = f"the engine reclaimed {fmt_size(expected)} ({expected} bytes); the preview said"
        assert said in view.last_result, view.last_result
        assert f"the preview said {fmt_size(expected)} ({expected} bytes)" in view.last_result
        left = api.df()["BuildCache"] or []
        kept = [r for r in left if r["Shared"] or r["InUse"] or r["Type"] in ("internal", "frontend")]
        assert kept == left, "what the preview said stays, stays; the rest went"


async def test_containers_prune_preview_names_the_stopped_ones_and_images_use_the_prune_dialog(
    app: ImgtuiApp, api: docker.APIClient, made: dict[str, str], store: str
) -> None:
    """The containers prune is previewed (and cancelled: the session's seed containers are stopped ones
    that other tests rely on); `p` on images opens the images view's own prune preview."""
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen) and app.screen.usage is not None)
        view = app.screen
        assert isinstance(view, UsageScreen)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        assert app.screen.title_text in ("Prune dangling images?",)  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert app.screen is view
        await pilot.press("j", "p")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        text = app.screen.shown_text  # type: ignore[attr-defined]
        writer = api.inspect_container(made["writer"])["Id"][:12]
        assert (
            f"{writer}  {fmt_size(writable(store)):>8}  {made['writer']} (busybox:latest, Exited (0)" in text
        )
        assert "commit_test2" in text and "stopped container" in text
        await pilot.press("escape")
        assert made["writer"] in {c["Names"][0][1:] for c in api.containers(all=True)}, (
            "cancel removes nothing"
        )
        assert "Cancelled: no containers pruned" in log(app)
