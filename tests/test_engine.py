"""Engine access against the real sandbox engine."""

from __future__ import annotations

import json

import pytest

from imgtui.engine import Engine, EngineUnavailable
from imgtui.sandbox.proxy import EngineProxy
from tests.conftest import PODMAN_COMMAND, layer_size
from tests.made_images import make_image


def test_listing_matches_docker_images(engine: Engine, docker_cli, api, cleanup) -> None:  # type: ignore[no-untyped-def]
    # a dangling image of its own: the seed's may have been pruned by a test before (cleanup, removal)
    cleanup.append(make_image(api, [], days_old=1, content=10))
    rows = [json.loads(line) for line in docker_cli("images", "--format", "{{json .}}").stdout.splitlines()]
    cli = {f"{r['Repository']}:{r['Tag']}" for r in rows if r["Tag"] != "<none>"}
    ours = {name for image in engine.list_images() for name in image.names}
    assert ours == cli
    dangling_cli = {r["ID"] for r in rows if r["Tag"] == "<none>"}
    assert {i.short_id for i in engine.list_images() if i.dangling} == dangling_cli
    assert dangling_cli, "at least the one made here"


def test_seed_names_share_one_id(engine: Engine) -> None:
    by_name = {n: i.id for i in engine.list_images() for n in i.names}
    assert by_name["my-image-name:0.0"] == by_name["alicek107/my-image-name:0.0"]


def test_history_shows_commit_layers_and_messages(engine: Engine, store: str) -> None:
    image = engine.inspect_image("commit_test:second")
    assert image is not None
    layers = engine.history(image.id)
    assert [layer.size for layer in layers[:2]] == [layer_size(store, 13), layer_size(store, 12)]
    if store == "podman":
        # Podman's commit keeps the message only in the image's config (Comment) and writes the base's name
        # (`FROM …`) and the shell in its history: imgtui shows each commit's message from the image the
        # row names; the command is Podman's, not what the container ran.
        assert [(layer.comment, layer.created_by) for layer in layers[:2]] == [
            ("my second commit", PODMAN_COMMAND),
            ("my first commit", PODMAN_COMMAND),
        ]
        assert layers[0].id == image.id and layers[0].tags == (), "Podman's history names no tags"
        return
    assert [layer.comment for layer in layers[:2]] == ["my second commit", "my first commit"]
    assert "echo test_second! >> second" in layers[0].created_by
    assert layers[0].tags == ("commit_test:second",)


def test_startup_requests_do_not_grow_with_images(proxy: EngineProxy, api, unique: str) -> None:  # type: ignore[no-untyped-def]
    """One /version to connect and one /images/json to list, however many images there are."""
    engine = Engine.connect(proxy.docker_host)
    engine.list_images()
    before = proxy.count()
    for n in range(20):
        api.tag("busybox:latest", f"many-{unique}/img{n}", "1")
    try:
        proxy.reset()
        engine = Engine.connect(proxy.docker_host)
        assert len(engine.list_images()) > 0
        assert proxy.count() == before == 2, proxy.requests
    finally:
        for n in range(20):
            api.remove_image(f"many-{unique}/img{n}:1")


def test_history_is_cached_by_image_id(proxy: EngineProxy) -> None:
    engine = Engine.connect(proxy.docker_host)
    image = engine.inspect_image("commit_test:first")
    assert image is not None
    proxy.reset()
    first = engine.history(image.id)
    second = engine.history(image.id)
    assert first == second
    assert proxy.count(contains="/history") == 1


def test_inspect_of_a_gone_image_is_none(engine: Engine) -> None:
    assert engine.inspect_image("sha256:" + "0" * 64) is None


def test_no_engine_is_one_clear_error() -> None:
    with pytest.raises(EngineUnavailable) as info:
        Engine.connect("unix:///tmp/imgtui-no-such-engine.sock", timeout=2)
    message = str(info.value)
    assert "unix:///tmp/imgtui-no-such-engine.sock" in message
    assert "No such file or directory" in message
    assert "Traceback" not in message


def test_an_engine_that_refuses_old_api_versions(sandbox, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Docker 29 accepts API 1.44 and up (tests/version_gate.py stands in for it): imgtui connects, lists,
    reads history, and never sends a request versioned below 1.44."""
    import tempfile
    from pathlib import Path

    from tests.version_gate import VersionGate

    real = Engine.connect(sandbox.docker_host)
    behind = real.info.api_version
    real.close()
    path = Path(tempfile.mkdtemp(prefix="imgtui-g-", dir="/tmp")) / "g.sock"
    gate = VersionGate(sandbox.socket, path, behind)
    try:
        engine = Engine.connect(gate.docker_host)
        assert engine.info.server_api == "1.52"
        assert engine.info.api_version == "1.45", "the newest both sides speak (docker-py's newest)"
        images = engine.list_images()
        assert images and engine.history(images[0].id)
        engine.close()
        versions = [v for v in gate.asked if v != "unversioned"]
        assert versions and all(tuple(map(int, v.split("."))) >= (1, 44) for v in versions), gate.asked
    finally:
        gate.stop()


def test_an_api_1_41_engine_is_spoken_to_in_1_41(engine: Engine, store: str) -> None:
    """Debian 12's dockerd 20.10 speaks at most 1.41, as does Podman 4.3's Docker-compatible API; the client
    never asks them for more."""
    if engine.info.version.startswith("20.10") or engine.info.podman:
        assert engine.info.api_version == engine.info.server_api == "1.41"
    else:
        assert engine.info.api_version == "1.45" and engine.info.server_api >= "1.45"


def test_api_versions_written_out_are_docker_pys() -> None:
    """A unix socket's connection reads the engine's version without importing docker-py; the versions it
    settles on are docker-py's own (a docker-py upgrade that moves them fails here)."""
    from docker.constants import DEFAULT_DOCKER_API_VERSION, MINIMUM_DOCKER_API_VERSION

    from imgtui.engine.client import NEWEST_API, OLDEST_API

    assert (NEWEST_API, OLDEST_API) == (DEFAULT_DOCKER_API_VERSION, MINIMUM_DOCKER_API_VERSION)


def test_the_first_screen_through_the_socket_is_what_docker_py_reads(
    docker_host: str, api, unique: str
) -> None:  # type: ignore[no-untyped-def]
    """On a unix socket the first screen's requests (the version, the list, a history, the events) go
    through the standard library until docker-py's client is made: the same images, layers, errors and
    events as through docker-py."""
    import threading

    from imgtui.engine import EngineError

    quick = Engine.connect(docker_host)
    through = Engine.connect(docker_host)
    assert through.api is not None  # made first: this engine asks everything through docker-py
    assert quick.info == through.info
    images = quick.list_images()
    # (the engine orders images by creation time; those made in the same second, in any order)
    by_id = sorted(images, key=lambda i: i.id)
    assert by_id == sorted(through.list_images(), key=lambda i: i.id) and len(images) >= 3
    for image in images[:5]:
        assert quick.history(image.id) == through.history(image.id)
    for engine in (quick, through):
        with pytest.raises(EngineError, match="^image 000000000000 no longer exists$"):
            engine.history("sha256:" + "0" * 64)
    streams = [quick.events(), through.events()]
    seen: list[list[tuple[str, str, str | None]]] = [[], []]

    def read(n: int) -> None:
        for event in streams[n]:
            seen[n].append((event.type, event.action, event.touched_image))
            if event.action == "tag":
                return

    readers = [threading.Thread(target=read, args=(n,), daemon=True) for n in (0, 1)]
    for reader in readers:
        reader.start()
    image_id = images[0].id
    api.tag(image_id, f"events-{unique}/x", "1")
    try:
        for reader in readers:
            reader.join(10)
        assert seen[0] == seen[1] == [("image", "tag", image_id)], seen
        # close() from another thread ends an iteration blocked on the socket
        again = quick.events()
        ended = threading.Event()

        def drain() -> None:
            for _ in again:
                pass
            ended.set()

        waiting = threading.Thread(target=drain, daemon=True)
        waiting.start()
        again.close()
        assert ended.wait(5), "close() ended the iteration"
    finally:
        api.remove_image(f"events-{unique}/x:1")
        for stream in streams:
            stream.close()
        quick.close()
        through.close()
