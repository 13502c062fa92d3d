"""The fleet: three real engines at once. Two private dockerds of this module reached on their unix sockets
(`a`, which also runs a registry on 127.0.0.1, and `b`), and a third (`c`) reached only over ssh://, through
an sshd of its own on 127.0.0.1 (imgtui/sandbox/sshd.py) and the Host alias of its client config. The
session's sandbox engine is left alone: pruning the fleet's dangling images would take its seeded ones.

Each engine holds `fleet/common:1` (one image, pushed from `a` to its registry and pulled by `b` and `c`:
the same ID and digest on all three) and `fleet/app:1` imported again and again, each import leaving the one
before dangling: 2 dangling images on `a`, 1 on `b`, 3 on `c`. All three are dockerd on the classic image
store, whose SpaceReclaimed is byte for byte what imgtui's preview says (README "Sizes on both image stores").
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from imgtui.engine import Engine
from imgtui.fleet import EngineSpec, Fleet, FleetError, Report, find, gather, parse, read_file
from imgtui.sandbox import Sandbox
from imgtui.sandbox.seed import busybox_rootfs
from imgtui.sandbox.sshd import WRONG_PORT_ALIAS
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.screens.fleet import FleetScreen
from tests.conftest import wait_for
from tests.test_contexts import write_context

pytestmark = pytest.mark.engine

DANGLING = {"a": 2, "b": 1, "c": 3}
"""Dangling images made on each engine (fleet/app:1 imported one time more than this)."""
COMMON = "fleet/common"


@dataclass
class Engines:
    boxes: dict[str, Sandbox]
    common_id: str
    common_digest: str
    ssh_command: str

    @property
    def a(self) -> str:
        return self.boxes["a"].docker_host

    @property
    def b(self) -> str:
        return self.boxes["b"].docker_host

    @property
    def c(self) -> str:
        """Engine c, over ssh only: the alias of c's own sshd client config."""
        return self.boxes["c"].sshd.alias

    @property
    def addresses(self) -> list[str]:
        return [self.a, self.b, self.c]

    def api(self, name: str) -> docker.APIClient:
        return docker.APIClient(base_url=self.boxes[name].docker_host, version="auto", timeout=60)


def one_file_tar(data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("payload")
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_dangling(api: docker.APIClient, count: int) -> None:
    """Remove fleet/app:1 and prune what is dangling, then import fleet/app:1 count + 1 times (distinct random
    payloads): each import leaves the one before it dangling."""
    try:
        api.remove_image("fleet/app:1")
    except docker.errors.NotFound:
        pass
    api.prune_images(filters={"dangling": True})
    for n in range(count + 1):
        api.import_image_from_data(
            one_file_tar(os.urandom(10_000 * (n + 1))), repository="fleet/app", tag="1"
        )


@pytest.fixture(scope="module")
def engines() -> Iterator[Engines]:
    boxes = {
        name: Sandbox(Path(tempfile.mkdtemp(prefix=f"imgtui-f{name}-", dir="/tmp")), engine="dockerd")
        for name in "abc"
    }
    errors: list[BaseException] = []

    def start(name: str) -> None:
        try:
            boxes[name].start(registry=name == "a")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(n,)) for n in boxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        if errors:
            raise errors[0]
        boxes["c"].start_sshd()
        registry = boxes["a"].registry
        api_a = docker.APIClient(base_url=boxes["a"].docker_host, version="auto", timeout=120)
        api_a.import_image_from_data(busybox_rootfs(), repository=COMMON, tag="1")
        api_a.tag(f"{COMMON}:1", f"{registry}/{COMMON}", "1")
        for line in api_a.push(f"{registry}/{COMMON}", "1", stream=True, decode=True):
            assert "error" not in line, line
        common = api_a.inspect_image(f"{COMMON}:1")
        digest = common["RepoDigests"][0].split("@", 1)[1]
        for name in "bc":
            api = docker.APIClient(base_url=boxes[name].docker_host, version="auto", timeout=120)
            api.pull(f"{registry}/{COMMON}", "1")
            api.tag(f"{registry}/{COMMON}:1", COMMON, "1")
            assert api.inspect_image(f"{COMMON}:1")["Id"] == common["Id"]
            api.close()
        api_a.close()
        yield Engines(boxes, common["Id"], digest, boxes["c"].sshd.ssh_command)
    finally:
        for box in boxes.values():
            box.destroy()


@pytest.fixture
def fleet_env(engines: Engines, monkeypatch: pytest.MonkeyPatch) -> Engines:
    """ssh with engine c's own config (key, known_hosts, aliases; never ~/.ssh, no agent), and every engine
    holding the module's images with its DANGLING count of dangling images."""
    monkeypatch.setenv("IMGTUI_SSH_COMMAND", engines.ssh_command)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    for name, count in DANGLING.items():
        api = engines.api(name)
        make_dangling(api, count)
        api.close()
    return engines


@pytest.fixture
def fleet(fleet_env: Engines) -> Iterator[Fleet]:
    made = Fleet([EngineSpec(a) for a in fleet_env.addresses], timeout=20)
    yield made
    made.close()


def by_name(reports: list[Report], engines: Engines) -> dict[str, Report]:
    names = dict(zip(engines.addresses, "abc"))
    return {names[r.spec.address]: r for r in reports}


# -- the engine list ---------------------------------------------------------------------------------------
def test_the_engine_list_from_flags_and_a_file(tmp_path: Path) -> None:
    listed = tmp_path / "fleet"
    listed.write_text("# my servers\nssh://imgtui-sandbox   # over ssh\n\n/run/x.sock\ncontext:prod\n")
    specs = gather(["unix:///a.sock", "ssh://imgtui-sandbox"], listed)
    assert [s.address for s in specs] == ["unix:///a.sock", "ssh://imgtui-sandbox", "unix:///run/x.sock",
                                          "context:prod"]  # fmt: skip
    assert [s.label for s in specs][-1] == "context prod"
    with pytest.raises(FleetError, match=r"line 2: 'example.com' is not an engine"):
        (tmp_path / "bad").write_text("unix:///ok.sock\nexample.com\n")
        read_file(tmp_path / "bad")
    with pytest.raises(FleetError, match="lists no engine"):
        (tmp_path / "empty").write_text("# nothing\n")
        read_file(tmp_path / "empty")
    with pytest.raises(FleetError, match="names no context"):
        parse("context:")


# -- three engines -----------------------------------------------------------------------------------------
def test_three_engines_with_their_totals(fleet: Fleet, fleet_env: Engines) -> None:
    """Each engine's images and dangling images, counted exactly; what pruning them frees is the sum of
    each dangling image's own bytes (no layer shared between them), and at least their payloads."""
    answered: list[str] = []
    reports = by_name(fleet.poll(report=lambda r: answered.append(r.spec.address)), fleet_env)
    assert sorted(answered) == sorted(fleet_env.addresses), "each engine reported as it answered"
    for name, count in DANGLING.items():
        report = reports[name]
        assert report.ok, report.error
        assert len(report.images) == count + 2 and report.dangling == count, name
        assert report.plan is not None and len(report.plan.images) == count
        own = [report.image_bytes(i) for i in report.plan.images]
        assert report.reclaimable == sum(own)
        payloads = sum(10_000 * (n + 1) for n in range(count))  # the imports before the last one
        assert report.reclaimable >= payloads
    assert reports["c"].info is not None and reports["c"].info.host == "ssh://imgtui-sandbox"
    assert reports["a"].info is not None and reports["a"].info.product == "Docker"


def test_one_image_found_on_all_three(fleet: Fleet, fleet_env: Engines) -> None:
    """By name, by ID prefix and by digest: fleet/common:1 on each engine, and nothing else."""
    reports = fleet.poll()
    short = fleet_env.common_id.removeprefix("sha256:")[:12]
    for query, how in (
        ("fleet/common:1", "name"),
        (short, "ID"),
        (fleet_env.common_id, "ID"),
        (fleet_env.common_digest, "digest"),
        (fleet_env.common_digest.removeprefix("sha256:")[:10], "digest"),
    ):
        hits, unsearched = find(reports, query)
        assert sorted(h.engine for h in hits) == sorted(fleet_env.addresses), query
        assert {h.image.id for h in hits} == {fleet_env.common_id}, query
        assert all(h.matched.startswith(how) for h in hits), (query, [h.matched for h in hits])
        assert unsearched == []
    hits, _ = find(reports, "fleet/app")
    assert sorted(h.engine for h in hits) == sorted(fleet_env.addresses), "the tagged app on each engine"
    assert find(reports, "no-such-image")[0] == []


def test_the_clean_preview_is_what_each_engine_reclaimed(fleet: Fleet, fleet_env: Engines) -> None:
    """One prune per engine, one log line per answer; the engine's own SpaceReclaimed equals the preview's
    bytes exactly, and afterwards no engine has a dangling image while their tagged images stay."""
    reports = fleet.poll()
    lines: list[str] = []
    applied = fleet.clean(reports, report=lambda a: lines.append(a.log_line().text))
    assert len(applied) == 3 and len(lines) == 3
    for report, answer in zip(reports, applied):
        assert answer.ok and answer.spec == report.spec, answer.error
        assert report.plan is not None
        assert answer.reclaimed == report.reclaimable > 0, report.label
        assert {f"Deleted: {i.id}" for i in report.plan.images} <= {line.text for line in answer.lines}
        said = answer.log_line().text
        assert said.startswith(f"{report.label}: pruned {len(report.plan.images)} of ")
        assert f"({answer.reclaimed} bytes); the preview said {report.reclaimable} bytes" in said
    after = by_name(fleet.poll(), fleet_env)
    for name in DANGLING:
        assert after[name].dangling == 0 and len(after[name].images) == 2, name
    assert fleet.clean(fleet.poll()) == [], "nothing left to prune: no engine is asked"


def test_one_engine_under_two_addresses_is_counted_and_pruned_once(fleet_env: Engines) -> None:
    """Engine a by its socket and by a symlink to it (as a socket and an ssh:// address, or two contexts, may
    name one engine): the second is `same engine as` the first, left out of the totals, and not pruned
    twice; the preview still equals what a reclaimed."""
    link = Path(tempfile.mkdtemp(prefix="imgtui-ln-", dir="/tmp")) / "a.sock"
    link.symlink_to(fleet_env.boxes["a"].socket)
    fleet = Fleet(
        [EngineSpec(fleet_env.a), EngineSpec(f"unix://{link}"), EngineSpec(fleet_env.b)], timeout=20
    )
    try:
        reports = fleet.poll()
        assert [r.same_as for r in reports] == [None, fleet_env.a, None]
        assert reports[1].status == f"same engine as {fleet_env.a}" and not reports[1].counted
        assert reports[0].info is not None and reports[2].info is not None
        assert reports[0].info.identity and reports[0].info.identity != reports[2].info.identity
        assert reports[1].plan is not None and reports[1].reclaimable == reports[0].reclaimable > 0
        applied = fleet.clean(reports)
        assert [a.spec for a in applied] == [reports[0].spec, reports[2].spec]
        assert [a.reclaimed for a in applied] == [reports[0].reclaimable, reports[2].reclaimable]
        assert all(a.ok for a in applied), [a.error for a in applied]
    finally:
        fleet.close()


def test_a_killed_engine_is_marked_and_the_others_go_on(fleet: Fleet, fleet_env: Engines) -> None:
    """Engine b dies between two polls: its report says unreachable, a and c keep answering with the same
    figures; an address that accepts but never answers is timed out; b answers again once restarted."""
    first = by_name(fleet.poll(), fleet_env)
    box = fleet_env.boxes["b"]
    box.kill_engine()
    try:
        second = by_name(fleet.poll(), fleet_env)
        assert second["b"].error is not None and second["b"].error.startswith("unreachable: "), second["b"]
        assert str(box.socket) in second["b"].error or "connect" in second["b"].error
        for name in "ac":
            assert second[name].ok and second[name].images == first[name].images
            assert second[name].reclaimable == first[name].reclaimable
        hits, unsearched = find(list(second.values()), "fleet/common")
        assert len(hits) == 2 and [r.label for r in unsearched] == [fleet_env.b]
        applied = fleet.clean(list(second.values()))
        assert sorted(a.spec.address for a in applied) == sorted([fleet_env.a, fleet_env.c])
    finally:
        box.restart_engine()
    third = by_name(fleet.poll(), fleet_env)
    assert third["b"].ok and third["b"].images == first["b"].images, "b is back, nothing pruned there"
    assert third["b"].dangling == DANGLING["b"]
    assert third["a"].dangling == 0 and third["c"].dangling == 0


def test_a_silent_engine_times_out_and_a_wrong_host_is_one_sentence(
    fleet_env: Engines, tmp_path: Path
) -> None:
    """A unix socket that accepts connections and never answers (a hung engine) is given up on after the
    timeout; an ssh alias whose port nobody listens on says what ssh said; the real engine answers."""
    silent = Path(tempfile.mkdtemp(prefix="imgtui-sl-", dir="/tmp")) / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(silent))
    server.listen(8)  # never accepted, never answered: connect() succeeds, the answer never comes
    specs = [EngineSpec(fleet_env.a), EngineSpec(f"unix://{silent}"), EngineSpec(f"ssh://{WRONG_PORT_ALIAS}")]
    fleet = Fleet(specs, timeout=3)
    try:
        reports = fleet.poll()
    finally:
        fleet.close()
        server.close()
    assert reports[0].ok and reports[0].dangling == DANGLING["a"]
    assert reports[1].error == "timed out: no answer within 3 s", reports[1].error
    wrong = reports[2].error or ""
    assert wrong.startswith("unreachable: ") and WRONG_PORT_ALIAS in wrong and "refused" in wrong.lower(), (
        wrong
    )


# -- imgtui clean over several engines ---------------------------------------------------------------------
def run_clean(engines: Engines, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "SSH_AUTH"))}
    environ["IMGTUI_SSH_COMMAND"] = engines.ssh_command
    return subprocess.run([sys.executable, "-m", "imgtui", "clean", *args], capture_output=True, text=True,
                          env=environ, timeout=120)  # fmt: skip


def test_imgtui_clean_over_several_engines(fleet_env: Engines, tmp_path: Path) -> None:
    """--host twice and a fleet file: one plan section per engine; --yes applies each; a dead engine in the
    list fails that engine only, and the exit code and stderr say which."""
    listed = tmp_path / "fleet"
    listed.write_text(f"{fleet_env.c}  # over ssh\n")
    engines = ["--host", fleet_env.a, "--host", fleet_env.b, "--fleet", str(listed)]
    preview = run_clean(fleet_env, *engines)
    assert preview.returncode == 0, preview.stderr
    sections = preview.stdout.split("Cleanup of ")[1:]
    assert [s.split(": ", 1)[0] for s in sections] == [fleet_env.a, fleet_env.b, "ssh://imgtui-sandbox"]
    for section, count in zip(sections, DANGLING.values()):
        assert f"{count} image{'' if count == 1 else 's'} to delete" in section, section
    as_json = run_clean(fleet_env, *engines, "--json")
    assert as_json.returncode == 0, as_json.stderr
    documents = __import__("json").loads(as_json.stdout)["engines"]
    assert [d["engine"] for d in documents] == [fleet_env.a, fleet_env.b, fleet_env.c]
    assert [len(d["items"]) for d in documents] == list(DANGLING.values())
    assert all(d["error"] is None and d["freed_bytes"] > 0 for d in documents)
    dead = tmp_path / "gone.sock"
    done = run_clean(fleet_env, *engines, "--host", f"unix://{dead}", "--yes")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"1 of 4 engines failed: unix://{dead}" in done.stderr
    assert done.stdout.count("Reclaimed ") == 3, done.stdout
    for name in "abc":
        api = fleet_env.api(name)
        assert api.images(filters={"dangling": True}) == [], name
        api.close()


# -- the fleet view ----------------------------------------------------------------------------------------
def rows(screen: FleetScreen) -> dict[str, list[str]]:
    """Each engine's row as shown: engine, status, images, dangling, reclaimable."""
    table = screen.table
    return {
        row.report.spec.address: [str(c).strip() for c in table.get_row(table.item_key(row))]
        for row in table.items
    }


async def test_the_fleet_view_at_80x24(fleet_env: Engines) -> None:
    """From the images view, F: one row an engine with its figures; / finds fleet/common on all three; b
    killed mid-view turns to unreachable on r while a and c keep theirs; D previews every engine's dangling
    images with their bytes and prunes a and c, one log line each."""
    engine = Engine.connect(fleet_env.a)
    fleet = Fleet([EngineSpec(a) for a in fleet_env.addresses], timeout=20)
    app = ImgtuiApp(engine, fleet=fleet)
    box = fleet_env.boxes["b"]
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.images)
            await pilot.press("F")
            await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            await wait_for(pilot, lambda: screen.polls >= 1, timeout=30)
            shown = rows(screen)
            for address, count in zip(fleet_env.addresses, DANGLING.values()):
                cells = shown[address]
                assert cells[2:4] == [str(count + 2), str(count)], cells
                assert cells[1].startswith("Docker") and cells[4].endswith("kB"), cells
            assert "6 dangling images" in str(screen.table.border_title)
            await pilot.press("slash")
            await wait_for(pilot, lambda: isinstance(app.screen, NameDialog))
            await pilot.press(*fleet_env.common_id.removeprefix("sha256:")[:12], "enter")
            await wait_for(pilot, lambda: screen.found_text != "")
            short = fleet_env.common_id.removeprefix("sha256:")[:12]
            assert screen.found_text.startswith(f"{short!r}: 3 images on 3 engines"), screen.found_text

            box.kill_engine()
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.polls >= 2, timeout=30)
            shown = rows(screen)
            assert shown[fleet_env.b][1].startswith("unreachable"), shown[fleet_env.b]
            assert shown[fleet_env.b][2:] == ["-", "-", "-"]
            for address, count in ((fleet_env.a, 2), (fleet_env.c, 3)):
                assert shown[address][2:4] == [str(count + 2), str(count)], shown[address]
            assert "1 not answering" in str(screen.table.border_title)

            await pilot.press("D")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            said = app.screen.shown_text  # type: ignore[attr-defined]
            assert f"{fleet_env.b}: left alone (unreachable" in said
            previewed = {}
            for address, count in ((fleet_env.a, 2), (fleet_env.c, 3)):
                report = screen.reports[EngineSpec(address)]
                previewed[address] = report.reclaimable
                assert f"{address}: {count} dangling images, frees" in said
                assert f"({report.reclaimable} bytes)" in said
                for image in report.plan.images:  # type: ignore[union-attr]
                    assert f"{image.short_id}" in said and f"frees {report.image_bytes(image)} bytes" in said
            await pilot.press("y")
            await wait_for(pilot, lambda: screen.cleans >= 1, timeout=60)
            assert len(screen.log_text) == 2, screen.log_text
            for address, count in ((fleet_env.a, 2), (fleet_env.c, 3)):
                line = next(
                    x for x in screen.log_text if x.startswith(f"{address}: pruned {count} of {count}")
                )
                assert f"({previewed[address]} bytes); the preview said {previewed[address]} bytes" in line, (
                    line
                )
            await wait_for(pilot, lambda: screen.polls >= 3, timeout=30)
            assert rows(screen)[fleet_env.b][1].startswith("unreachable")
            assert rows(screen)[fleet_env.a][3] == "0" and rows(screen)[fleet_env.c][3] == "0"
    finally:
        box.restart_engine()
        app.engine.close()
        fleet.close()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("--fleet", "/nonexistent/fleet.txt"),
            "imgtui: the fleet file /nonexistent/fleet.txt cannot be read: No such file or directory\n",
        ),
        (
            ("--host", "unix:///nonexistent/1.sock", "--host", "example.com"),
            "imgtui: --host: 'example.com' is not an engine: give unix:///path, tcp://host:port, "
            "ssh://[user@]host[:port] or context:NAME\n",
        ),
        (
            ("--host", "unix:///nonexistent/1.sock", "--host", "/nonexistent/2.sock"),
            "imgtui: unix:///nonexistent/1.sock: unreachable: connection failed: No such file or directory\n"
            "imgtui: unix:///nonexistent/2.sock: unreachable: connection failed: No such file or directory\n"
            "imgtui: no engine of the fleet answered\n",
        ),
    ],
)
def test_a_fleet_that_cannot_start_is_one_sentence_each(args: tuple[str, ...], said: str) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    result = subprocess.run([sys.executable, "-m", "imgtui", *args], capture_output=True, text=True,
                            env=environ, timeout=60)  # fmt: skip
    assert (result.returncode, result.stderr) == (2, said)


# -- docker contexts -----------------------------------------------------------------------------------------
@pytest.fixture
def contexts(fleet_env: Engines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DOCKER_CONFIG with contexts `a` (engine a's socket) and `c` (engine c over ssh), beside `default`,
    whose DOCKER_HOST is a socket nobody listens on (conftest's guard against the user's engine)."""
    config = tmp_path / "docker-config"
    write_context(config, "a", fleet_env.a, "engine a")
    write_context(config, "c", fleet_env.c, "engine c over ssh")
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return config


async def test_f_with_no_engines_given_opens_every_docker_context(contexts: Path, fleet_env: Engines) -> None:
    """F in the images view of a single engine: the fleet of every docker context, `default` unreachable and
    said so, `a` and `c` with their figures."""
    engine = Engine.connect(fleet_env.a)
    app = ImgtuiApp(engine)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.images.loaded)
            await pilot.press("F")
            await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            await wait_for(pilot, lambda: screen.polls >= 1, timeout=30)
            shown = rows(screen)
            assert list(shown) == ["context:default", "context:a", "context:c"]
            assert shown["context:default"][1:] == ["unreachable: connecti…", "-", "-", "-"], shown
            said = "context default: unreachable: connection failed: No such file or directory"
            assert screen.detail_text == said, "the row under the cursor, in full"
            assert shown["context:a"][2:4] == [str(DANGLING["a"] + 2), str(DANGLING["a"])]
            assert shown["context:c"][2:4] == [str(DANGLING["c"] + 2), str(DANGLING["c"])]
            assert shown["context:a"][0] == "context a"
    finally:
        engine.close()
        if app.fleet is not None:
            app.fleet.close()


def test_imgtui_clean_over_every_context(contexts: Path, fleet_env: Engines) -> None:
    """`imgtui clean --all-contexts`: a section per context; `default` (nobody listening) fails on its own."""
    environ = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    environ["IMGTUI_SSH_COMMAND"] = fleet_env.ssh_command
    result = subprocess.run([sys.executable, "-m", "imgtui", "clean", "--all-contexts"], capture_output=True,
                            text=True, env=environ, timeout=120)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("Cleanup of context default: unreachable: connection failed")
    assert "Cleanup of unix://" in result.stdout and "Cleanup of ssh://imgtui-sandbox" in result.stdout
    assert "1 of 3 engines failed: context default" in result.stderr
