"""Layer contents of images built on the sandbox engine, with waste known to the byte: from the engine's save
stream (the legacy layout on the classic store, the OCI layout with gzip blobs on the containerd store), from
archive files in each layout, and from the cache without reading the image again."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from imgtui.engine import Engine
from imgtui.layers import Analysis, Change, LayerError
from imgtui.layers.cache import LayerCache
from imgtui.layers.sources import from_file
from imgtui.layers.tree import Trees
from imgtui.sandbox.seed import run_and_commit
from tests.conftest import PODMAN_COMMAND, PODMAN_RUNTIME_FILES

FIRST = (
    "head -c 2000 /dev/urandom > /data_a && head -c 300 /dev/urandom > /data_b && "
    "head -c 50 /dev/urandom > /mode && head -c 70 /dev/urandom > /again && mkdir /cache /opaq && "
    "head -c 400 /dev/urandom > /cache/x && head -c 600 /dev/urandom > /cache/y && "
    "head -c 111 /dev/urandom > /opaq/p && head -c 222 /dev/urandom > /opaq/q"
)
SECOND = (
    "head -c 5000 /dev/urandom > /data_a && rm /data_b /again && chmod 755 /mode && rm -r /cache && "
    "rm -r /opaq && mkdir /opaq && echo r > /opaq/r"
)
THIRD = "head -c 70 /dev/urandom > /again"
WASTED = {  # path -> (bytes, written by, hidden by); layer 0 is busybox
    "/data_a": (2000, 1, 2), "/data_b": (300, 1, 2), "/mode": (50, 1, 2), "/again": (70, 1, 2),
    "/cache/x": (400, 1, 2), "/cache/y": (600, 1, 2), "/opaq/p": (111, 1, 2), "/opaq/q": (222, 1, 2),
}  # fmt: skip


@pytest.fixture(scope="module")
def wasteful(docker_host: str) -> Iterator[str]:
    """busybox + three commits whose waste is known; yields its name."""
    api = docker.APIClient(base_url=docker_host, version="auto")
    name = "wasteful/app"
    made = [run_and_commit(api, "busybox:latest", "waste1", ["sh", "-c", FIRST], name, "1", remove=True)]
    made.append(run_and_commit(api, f"{name}:1", "waste2", ["sh", "-c", SECOND], name, "2", remove=True))
    made.append(run_and_commit(api, f"{name}:2", "waste3", ["sh", "-c", THIRD], name, "3", remove=True))
    yield f"{name}:3"
    for tag in ("3", "2", "1"):
        api.remove_image(f"{name}:{tag}")
    api.close()


def check(result: Analysis, podman: bool = False) -> None:
    found = {w.path: (w.bytes, w.written_by, w.hidden_by) for w in result.wasted}
    assert found == WASTED
    assert result.wasted_bytes == 3753
    assert [layer.index for layer in result.layers] == [0, 1, 2, 3]
    second = {(c.entry.path, c.change) for c in result.layers[2].changes}
    assert ("/data_a", Change.MODIFIED) in second and ("/data_b", Change.REMOVED) in second
    assert ("/opaq/r", Change.ADDED) in second
    assert ("/again", Change.ADDED) in {(c.entry.path, c.change) for c in result.layers[3].changes}
    user = result.layers[1].size_bytes + result.layers[2].size_bytes + result.layers[3].size_bytes
    assert user == 3753 + 5000 + 50 + 2 + 70, "what the three commits hold"
    assert result.efficiency == pytest.approx(1 - 3753 / result.size_bytes)
    if podman:
        assert [layer.command for layer in result.layers[1:]] == [PODMAN_COMMAND] * 3
    else:
        assert "chmod 755 /mode" in result.layers[2].command


def test_from_the_engine_then_from_the_cache(
    engine: Engine, wasteful: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = LayerCache(tmp_path / "cache")
    seen: list[int] = []
    check(engine.analyze(wasteful, seen.append, lambda: False, cache), engine.info.podman)
    assert seen and seen[-1] > 1_000_000, "progress in bytes of the save stream"

    def refuse() -> io.BytesIO:
        raise AssertionError("a cached image is not read again")

    image = engine.api.inspect_image(wasteful)
    from imgtui.layers.sources import from_engine

    fresh = engine.analyze(wasteful, seen.append, lambda: False, None)  # no cache: read and stacked now
    read: list[str] = []
    original = LayerCache.get

    def counting(self: LayerCache, key: str):  # type: ignore[no-untyped-def]
        read.append(key)
        return original(self, key)

    with monkeypatch.context() as patched:
        patched.setattr(LayerCache, "get", counting)
        opened = from_engine(wasteful, image, refuse, cache)
        assert read == [], "the cached analysis opens without decoding any layer"
        assert [layer.count(Change.ADDED) for layer in opened.layers] == [
            layer.count(Change.ADDED) for layer in fresh.layers
        ]
        assert opened.layers[3].changes == fresh.layers[3].changes and len(read) == 1, "one layer, when asked"
        check(opened, engine.info.podman)
        assert opened == fresh, "the same analysis as one made from the save stream"
    # A layer the cache lost (pruned for space) after the image was opened: a sentence, when it is asked for.
    again = from_engine(wasteful, image, refuse, cache)
    for path in cache.folder.glob("layer-*"):
        path.unlink()
    with pytest.raises(LayerError, match="no longer in the cache .*open the image again"):
        _ = again.layers[1].changes
    trees = Trees(again)
    with pytest.raises(LayerError):
        trees.build("layer", 1)
    assert trees.failed, "the view reads the image again instead of keeping this analysis"
    # Read again from the engine.
    check(engine.analyze(wasteful, lambda d: None, lambda: False, cache), engine.info.podman)


def oci_save(engine: Engine) -> bool:
    """Docker 25 (API 1.44) and later save an OCI layout (with a manifest.json beside it), whatever the
    image store; before, the legacy layout (`V1ID/layer.tar`)."""
    major, minor = (int(n) for n in engine.info.api_version.split(".")[:2])
    return (major, minor) >= (1, 44)


def test_from_archive_files_in_each_layout(engine: Engine, wasteful: str, tmp_path: Path) -> None:
    saved = tmp_path / "saved.tar"
    engine.save([wasteful], saved, lambda p: None, lambda: False)
    check(from_file(saved, wasteful), engine.info.podman)
    with tarfile.open(saved) as tar:
        names = set(tar.getnames())
    if oci_save(engine):
        assert "index.json" in names and any(n.startswith("blobs/sha256/") for n in names), "an OCI layout"
        oci = tmp_path / "oci.tar"  # the same without manifest.json: the order comes from index.json
        with tarfile.open(saved) as source, tarfile.open(oci, "w") as out:
            for member in source:
                if member.name != "manifest.json":
                    out.addfile(member, source.extractfile(member) if member.isfile() else None)
        check(from_file(oci), engine.info.podman)
    else:
        assert "manifest.json" in names and any(n.endswith("/layer.tar") for n in names), "the legacy layout"
        manifest = json.loads(tarfile.open(saved).extractfile("manifest.json").read())  # type: ignore[union-attr]
        # Podman writes the name it lists (docker.io/ in front of a Docker Hub name).
        assert manifest[0]["RepoTags"] == [f"docker.io/{wasteful}" if engine.info.podman else wasteful]


def test_one_file_out_of_a_layer(engine: Engine, wasteful: str, tmp_path: Path) -> None:
    """e's reading: one file of one layer out of the engine's save stream, only it copied out; the wasted
    version of /data_a (layer 1) is checked against Python's tarfile reading the same layer of a save."""
    from imgtui.layers.files import NotFound, from_archive_source

    analysis = engine.analyze(wasteful, lambda d: None, lambda: False, LayerCache(tmp_path / "cache"))
    assert len(analysis.keys) == 4
    extract = from_archive_source(lambda: engine.save_stream(wasteful), analysis.keys)
    out = io.BytesIO()
    assert extract(2, "/opaq/r", out, lambda: False, None) == 2 and out.getvalue() == b"r\n"

    saved = tmp_path / "saved.tar"
    engine.save([wasteful], saved, lambda p: None, lambda: False)
    with tarfile.open(saved) as outer:
        member = outer.extractfile(analysis.keys[1])
        with tarfile.open(fileobj=member, mode="r:*") as layer:  # plain or gzip, as the store wrote it
            expected = layer.extractfile("data_a").read()  # type: ignore[union-attr]
    assert len(expected) == 2000
    out = io.BytesIO()
    assert extract(1, "/data_a", out, lambda: False, None) == 2000 and out.getvalue() == expected
    out = io.BytesIO()
    assert extract(1, "/data_a", out, lambda: False, 100) == 2000 and out.getvalue() == expected[:100]
    with pytest.raises(NotFound):
        extract(3, "/data_a", io.BytesIO(), lambda: False, None)  # layer 3 only wrote /again


def analyze_cli(docker_host: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "CI"))}
    env.update(DOCKER_HOST=docker_host, IMGTUI_CACHE=str((cwd or Path("/tmp")) / "layer-cache"))
    return subprocess.run([sys.executable, "-m", "imgtui", "analyze", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip


def test_analyze_prints_writes_json_and_checks_ci_rules(
    docker_host: str, wasteful: str, tmp_path: Path
) -> None:
    out = tmp_path / "analysis.json"
    done = analyze_cli(docker_host, wasteful, "--json", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wasted 3.8 kB (3753 bytes)" in done.stdout and "/data_a" in done.stdout
    data = json.loads(out.read_text())
    assert data["image"]["name"] == wasteful and data["image"]["wasted_bytes"] == 3753
    assert data["image"]["top_wasted"][0] == {
        "path": "/data_a",
        "bytes": 2000,
        "written_by": 1,
        "hidden_by": 2,
    }
    assert [layer["index"] for layer in data["layers"]] == [0, 1, 2, 3]
    assert data["layers"][2]["removed"] >= 3 and data["layers"][2]["modified"] >= 2
    assert 0 < data["image"]["efficiency"] < 1

    # 3753 wasted of 8875 bytes the commits add: dive's default highestUserWastedPercent (0.1) fails it.
    failed = analyze_cli(docker_host, wasteful, "--ci", cwd=tmp_path)
    assert failed.returncode == 1 and "FAIL  highest_user_wasted_percent" in failed.stdout
    assert "PASS  lowest_efficiency" in failed.stdout
    (tmp_path / ".dive-ci").write_text(
        "rules:\n  # as dive reads it\n  lowestEfficiency: 0.95\n  highestWastedBytes: 4KB\n"
        "  highestUserWastedPercent: disabled\n"
    )
    passed = analyze_cli(docker_host, wasteful, "--ci", cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout
    assert (
        "skip  highest_user_wasted_percent" in passed.stdout and "PASS  highest_wasted_bytes" in passed.stdout
    )
    tighter = analyze_cli(docker_host, wasteful, "--ci", "--highest-wasted-bytes", "3KB", cwd=tmp_path)
    assert tighter.returncode == 1 and "FAIL  highest_wasted_bytes" in tighter.stdout
    missing = analyze_cli(docker_host, "no-such-image:1", cwd=tmp_path)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith("imgtui analyze: ")


async def test_enter_on_a_layer_opens_its_contents(docker_host: str, wasteful: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The images view: enter on the layer that deleted things opens what it changed; w shows the waste; the
    filter narrows paths; escape comes back. Read through the job bar, cached for the second open."""
    from textual.widgets import Input, Log

    from imgtui.ui.app import ImgtuiApp
    from imgtui.ui.screens.contents import ContentsScreen
    from imgtui.ui.screens.file import FileScreen
    from tests.conftest import wait_for
    from tests.test_removal import open_tag

    monkeypatch.setenv("IMGTUI_CACHE", str(tmp_path / "cache"))
    engine = Engine.connect(docker_host)
    app = ImgtuiApp(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        repo, tag = wasteful.split(":")
        await open_tag(pilot, app, repo, tag)
        layers = app.images.layer_table
        await wait_for(pilot, lambda: layers.row_count > 0 and not layers.pending)
        await pilot.press("tab")
        # The layer that deleted things: its command on Docker; on Podman, whose history gives every commit
        # the command /bin/sh, the comment naming the image it was made on.
        if engine.info.podman:
            wanted = lambda row: row.comment == "FROM docker.io/wasteful/app:1"  # noqa: E731
        else:
            wanted = lambda row: "chmod" in row.created_by  # noqa: E731
        for _ in range(layers.row_count + 1):
            if layers.current is not None and wanted(layers.current):
                break
            await pilot.press("j")
        else:
            raise AssertionError(f"no such layer: {[(r.created_by, r.comment) for r in layers.shown_items]}")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ContentsScreen) and app.screen.files is not None,
                       timeout=30)  # fmt: skip
        screen = app.screen
        assert isinstance(screen, ContentsScreen) and screen.index == 2
        files = screen.files
        assert files is not None
        assert (
            files.nodes["/data_b"].change is Change.REMOVED
            and files.nodes["/data_a"].change is Change.MODIFIED
        )
        assert "wasted 3.8 kB" in str(screen.query_one("#contents-summary").render())
        # e on /opaq/r (the layer wrote "r"): its text, then saved out of the image.
        tree = screen.entries
        opaq = next(n for n in tree.root.children if n.data == "/opaq")
        opaq.expand()
        await wait_for(pilot, lambda: bool(opaq.children))
        tree.move_cursor(next(n for n in opaq.children if n.data == "/opaq/r"))
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, FileScreen) and app.screen.query_one(Log).lines)
        shown = app.screen
        assert isinstance(shown, FileScreen) and list(shown.query_one(Log).lines) == ["r"]
        await pilot.press("s")
        field = shown.query_one("#file-save", Input)
        assert field.has_focus and field.value == str(Path.cwd() / "r"), "the working folder, its own name"
        field.value = str(tmp_path / "r.out")
        await pilot.press("enter")
        await wait_for(pilot, lambda: (tmp_path / "r.out").exists() and not shown.saving)
        assert (tmp_path / "r.out").read_bytes() == b"r\n"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".r.out")] == [], "no temporary left"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("w")
        await wait_for(pilot, lambda: screen.scope == "wasted" and screen.files is not None)
        assert screen.files is not None and screen.files.nodes["/"].size == 3753
        await pilot.press("slash", *"cache")
        await wait_for(pilot, lambda: screen.only == {"/", "/cache", "/cache/x", "/cache/y"}, timeout=5)
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.screen is app.images)
        assert not app.images.job_bar.busy
        # Again: the analysis kept in memory, no job, not even the disk cache read.
        shutil.rmtree(tmp_path / "cache")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ContentsScreen) and app.screen.files is not None)
        assert not app.images.job_bar.busy and not (tmp_path / "cache").exists()
    engine.close()


def test_from_the_registry_without_a_pull(
    api: docker.APIClient, sandbox, wasteful: str, tmp_path: Path, docker_host: str
) -> None:  # type: ignore[no-untyped-def]
    """Pushed to the sandbox registry and read from there: the same layers and waste, no image pulled; a
    second read (and another image on the same base) fetches no blob the cache holds."""
    from imgtui.layers.sources import from_registry
    from imgtui.registry import Registry
    from tests.registries import push

    repo = "waste/reg"
    push(api, wasteful, f"{sandbox.registry}/{repo}:1")
    api.remove_image(f"{sandbox.registry}/{repo}:1")
    before = {i["Id"] for i in api.images(all=True)}
    registry = Registry(sandbox.registry)
    blobs: list[str] = []
    registry.session.hooks["response"].append(
        lambda r, *a, **k: blobs.append(r.request.url) if "/blobs/" in r.request.url else None
    )
    cache = LayerCache(tmp_path / "cache")
    seen: list[int] = []
    check(from_registry(registry, repo, "1", cache, seen.append), sandbox.engine_kind == "podman")
    assert len([u for u in blobs if "/blobs/" in u]) == 5, "the config and 4 layer blobs"
    assert seen and seen[-1] >= 1_000_000
    blobs.clear()
    again = from_registry(registry, repo, "1", cache)
    assert again.wasted_bytes == 3753
    assert blobs == [], "every layer from the cache, the config from the client's own"
    assert {i["Id"] for i in api.images(all=True)} == before, "nothing was pulled into the engine"

    from imgtui.layers.files import from_registry_blobs

    out = io.BytesIO()
    assert from_registry_blobs(registry, repo, again.keys)(2, "/opaq/r", out, lambda: False, None) == 2
    assert out.getvalue() == b"r\n" and blobs == [
        f"http://{sandbox.registry}/v2/{repo}/blobs/{again.keys[2]}"
    ]

    cli = analyze_cli(docker_host, f"{sandbox.registry}/{repo}:1", "--json", "-", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    assert '"wasted_bytes": 3753' in cli.stdout


async def test_compare_two_marked_tags(docker_host: str, wasteful: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """space on wasteful/app:2, cursor on :3, =: the three layers they share are skipped; the one file the
    top layer of :3 wrote (it re-adds /again, 70 bytes) is the difference."""
    from imgtui.layers.compare import ONLY_RIGHT
    from imgtui.ui.app import ImgtuiApp
    from imgtui.ui.screens.compare import CompareScreen
    from tests.conftest import wait_for
    from tests.test_removal import open_tag

    monkeypatch.setenv("IMGTUI_CACHE", str(tmp_path / "cache"))
    engine = Engine.connect(docker_host)
    app = ImgtuiApp(engine)
    repo = wasteful.split(":")[0]
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, repo, "2")
        await pilot.press("space")
        await pilot.press("home")
        while app.images.tags.current is not None and app.images.tags.current.tag != "3":
            await pilot.press("j")
        await pilot.press("equals_sign")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), timeout=60)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        result = screen.comparison
        assert (result.left, result.right, result.shared_layers) == (f"{repo}:2", f"{repo}:3", 3)
        assert [(d.path, d.what, d.left_bytes, d.right_bytes) for d in result.differences] == [
            ("/again", ONLY_RIGHT, 0, 70)
        ]
        summary = str(screen.query_one("#compare-summary").render())
        assert "3 shared layers skipped · 1 file differs: 1 only in B" in summary and summary.endswith(
            "B holds +70 B"
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.images)
    engine.close()


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Podman API service (imgtui/sandbox/podman.py); yields its DOCKER_HOST."""
    from imgtui.sandbox.podman import PodmanService

    service = PodmanService(Path(tempfile.mkdtemp(prefix="imgtui-podman-", dir="/tmp"))).start()
    yield service.docker_host
    service.stop()
    shutil.rmtree(service.state, ignore_errors=True)


def test_from_podman_through_its_docker_api(
    podman: str, engine: Engine, wasteful: str, tmp_path: Path
) -> None:
    """The same image loaded into Podman and read through its Docker-compatible API (its save names layers
    HEX.tar, not N/layer.tar): the same exact waste; one file out of a layer."""
    from imgtui.layers.files import from_archive_source

    saved = tmp_path / "saved.tar"
    engine.save([wasteful], saved, lambda p: None, lambda: False)
    client = docker.APIClient(base_url=podman, version="auto", timeout=120)
    with saved.open("rb") as data:
        for _ in client.load_image(data) or []:
            pass
    name = f"localhost/{wasteful}"  # Podman qualifies a short name with localhost/
    # Podman 4.3 names an image loaded from a docker-save archive, not one from an OCI layout (the
    # containerd store's save): that one it only records in the image's History; name it here.
    loaded = [i for i in client.images() if name in (i.get("RepoTags") or ()) or any(
        wasteful in h for h in i.get("History") or ())]  # fmt: skip
    assert len(loaded) == 1, client.images()
    if name not in (loaded[0].get("RepoTags") or ()):
        client.tag(loaded[0]["Id"], name.rsplit(":", 1)[0], name.rsplit(":", 1)[1])
    client.close()
    pod = Engine.connect(podman)
    analysis = pod.analyze(name, lambda d: None, lambda: False, LayerCache(tmp_path / "cache"))
    check(analysis, engine.info.podman)
    out = io.BytesIO()
    extract = from_archive_source(lambda: pod.save_stream(name), analysis.keys)
    assert extract(2, "/opaq/r", out, lambda: False, None) == 2 and out.getvalue() == b"r\n"
    pod.close()


def test_the_seed_images_open_to_their_files(engine: Engine, tmp_path: Path) -> None:
    """The demo images of the study notes (imgtui/sandbox/seed.py): each commit's layer holds the one file
    its command wrote, to the byte; nothing is wasted; an export + import is one layer holding them both."""
    cache = LayerCache(tmp_path / "cache")

    def files(name: str) -> tuple[list[dict[str, int]], int]:
        found = engine.analyze(name, lambda d: None, lambda: False, cache)
        top = [{c.entry.path: c.entry.size for c in layer.changes if c.entry.kind.value == "file"}
               for layer in found.layers[1:]]  # fmt: skip
        return top, found.wasted_bytes

    runtime = PODMAN_RUNTIME_FILES if engine.info.podman else {}  # in a first commit on busybox
    assert files("commit_test:second") == ([{"/first": 12, **runtime}, {"/second": 13}], 0)
    assert files("demo/app:latest") == ([{"/app/VERSION": 10, **runtime}], 0)
    single = engine.analyze("my-image-name:0.0", lambda d: None, lambda: False, cache)
    assert len(single.layers) == 1 and single.wasted_bytes == 0
    paths = {c.entry.path: c.entry.size for c in single.layers[0].changes}
    assert paths["/first"] == 12 and paths["/bin/busybox"] > 1_000_000


def test_shared_layers_are_not_read_again(engine: Engine, wasteful: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """wasteful/app:2 read first; then :3, on the same three layers plus one: from the engine's save stream
    only its own layer is parsed (the others' members go by unread); then none from an archive file."""
    import imgtui.layers.reading as reading
    from imgtui.layers.sources import from_stream

    cache = LayerCache(tmp_path / "cache")
    repo = wasteful.split(":")[0]
    engine.analyze(f"{repo}:2", lambda d: None, lambda: False, cache)
    parsed: list[str] = []
    original = reading.read_layer

    def counting(raw, digest):  # type: ignore[no-untyped-def]
        parsed.append(digest)
        return original(raw, digest)

    monkeypatch.setattr(reading, "read_layer", counting)
    check(engine.analyze(wasteful, lambda d: None, lambda: False, cache), engine.info.podman)
    # The legacy layout (Docker before 25) names each layer by an ID that, for an image's top layer, mixes
    # in the image's config: :2's top layer has another name in :3's save and is parsed again. The OCI
    # layout (Docker 25 and later, either store) names blobs by digest, and so does Podman's save
    # (`HEX.tar`, the layer's digest) though its API is 1.41.
    assert len(parsed) == (1 if oci_save(engine) or engine.info.podman else 2), parsed

    saved = tmp_path / "saved.tar"
    engine.save([wasteful], saved, lambda p: None, lambda: False)
    parsed.clear()
    with saved.open("rb") as raw:
        layers, _, _ = from_stream(raw, wasteful, cache=cache)
    assert parsed == [] and len(layers) == 4, "every layer of the archive known"
