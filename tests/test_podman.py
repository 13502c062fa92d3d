"""Podman, through the Docker-compatible API of a private `podman system service` (imgtui/sandbox/podman.py:
its own socket, storage and configuration; a user's Podman or Docker sockets are never touched): found
where it listens when no Docker socket is, named on the status line, and removal previews sized from
its layers. The whole engine suite runs on Podman too: `pytest --engine podman` (or `pytest -m podman`)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from imgtui.engine import Engine
from imgtui.engine.connection import local_sockets, resolve_endpoint
from imgtui.sandbox.podman import PodmanService
from imgtui.sandbox.processes import unmount_under
from imgtui.sandbox.seed import busybox_rootfs, run_and_commit
from imgtui.ui.app import ImgtuiApp
from tests.conftest import wait_for

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def runtime() -> Iterator[Path]:
    """An XDG_RUNTIME_DIR whose `podman/podman.sock` is a private Podman service's socket, as a rootless
    `systemctl --user start podman.socket` makes it; busybox imported into it."""
    runtime = Path(tempfile.mkdtemp(prefix="imgtui-xdg-", dir="/tmp"))
    service = PodmanService(runtime / "podman").start()
    api = docker.APIClient(base_url=service.docker_host, version="auto", timeout=120)
    api.import_image_from_data(busybox_rootfs(), repository="busybox:latest", changes=['CMD ["/bin/sh"]'])
    api.close()
    yield runtime
    service.stop()
    unmount_under(runtime)
    shutil.rmtree(runtime, ignore_errors=True)


def no_docker(runtime: Path) -> list[tuple[str, str]]:
    """The sockets imgtui tries, with Docker's moved to a path where nothing listens (this machine may have
    one of its own, which a test must not use)."""
    sockets = local_sockets({"XDG_RUNTIME_DIR": str(runtime)})
    return [(f"unix://{runtime}/no-docker.sock", "default socket"), *sockets[1:]]


def test_the_rootless_socket_is_found_when_no_docker_socket_is(runtime: Path) -> None:
    endpoint = resolve_endpoint(environ={"XDG_RUNTIME_DIR": str(runtime)}, candidates=no_docker(runtime))
    assert endpoint.base_url == f"unix://{runtime}/podman/podman.sock"
    assert endpoint.source == "Podman's socket (rootless)"
    sockets = local_sockets({"XDG_RUNTIME_DIR": str(runtime)})
    assert [url for url, _ in sockets] == [
        "unix:///var/run/docker.sock",
        "unix:///run/podman/podman.sock",
        f"unix://{runtime}/podman/podman.sock",
    ], "Docker's socket first, then Podman's rootful one, then the user's"
    # DOCKER_HOST still wins over any socket found.
    named = resolve_endpoint(environ={"DOCKER_HOST": "unix:///somewhere.sock", "XDG_RUNTIME_DIR": "/x"})
    assert named.base_url == "unix:///somewhere.sock" and named.source == "DOCKER_HOST"


def test_nothing_found_names_dockers_default_socket(tmp_path: Path) -> None:
    missing = [(f"unix://{tmp_path}/a.sock", "default socket"), (f"unix://{tmp_path}/b.sock", "Podman")]
    endpoint = resolve_endpoint(environ={}, candidates=missing)
    assert (endpoint.base_url, endpoint.source) == (f"unix://{tmp_path}/a.sock", "default socket")


async def test_the_status_line_names_podman(runtime: Path) -> None:
    endpoint = resolve_endpoint(environ={"XDG_RUNTIME_DIR": str(runtime)}, candidates=no_docker(runtime))
    engine = Engine.connect_endpoint(endpoint)
    try:
        assert engine.info.product == "Podman" and engine.info.version == "4.3.1", engine.info
        app = ImgtuiApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.images.loaded)
            status = str(app.query_one("#status").content)  # type: ignore[attr-defined]
            assert "Podman 4.3.1 (API 1.41)" in status, status
            assert app.images.engine_label == f"unix://{runtime}/podman/podman.sock"
    finally:
        engine.close()


def test_removal_preview_frees_the_layers_only_the_image_has(runtime: Path) -> None:
    """Podman's `/system/df` counts a base image's whole size as shared and gives 0 as `LayersSize`; the
    preview counts the image's own layers (their history sizes) instead. A commit adding a 3-byte file:
    its layer frees what Podman's history gives for it; the base's layer stays (another image needs it)."""
    host = f"unix://{runtime}/podman/podman.sock"
    api = docker.APIClient(base_url=host, version="auto", timeout=120)
    engine = Engine.connect(host)
    try:
        usage = api.df()
        assert usage["LayersSize"] == 0, "Podman's own figure: why imgtui does not use it"
        image_id = run_and_commit(
            api, "busybox:latest", "three-bytes", ["sh", "-c", "printf abc > /three"], "three", "bytes",
            remove=True,
        )  # fmt: skip
        own, base = (layer.size for layer in engine.history(image_id))
        assert 0 < own < 10_000 and base > 1_000_000, (own, base)
        plan = engine.plan_removal("three:bytes", image_id, "image")
        assert plan.deletes and plan.unique_size == own and plan.shared_size == base
        assert plan.summary()[-1] == f"Deletes the image and frees {own} bytes not shared with other images"
        assert not plan.containerd, "no containerd wording (estimates, dangling leftovers) on Podman"
        lines = [line.text for line in engine.remove(plan, "remove")]
        assert any(line.startswith("Deleted: ") for line in lines), lines
        assert engine.inspect_image(image_id) is None
    finally:
        engine.close()
        api.close()


def test_force_says_podman_removes_the_containers_and_does_so(runtime: Path) -> None:
    """Docker's forced rmi past a stopped container deletes only the image record (past a running one it
    only untags); Podman's removes the containers too, running ones stopped first: the preview says so."""
    host = f"unix://{runtime}/podman/podman.sock"
    api = docker.APIClient(base_url=host, version="auto", timeout=120)
    engine = Engine.connect(host)
    try:
        image_id = run_and_commit(
            api, "busybox:latest", "forced-build", ["sh", "-c", "printf x > /x"], "forced", "one", remove=True
        )
        for name, command in (("forced-stopped", ["true"]), ("forced-running", ["sleep", "600"])):
            made = api.create_container(
                "forced:one",
                command=command,
                name=name,
                host_config=api.create_host_config(network_mode="none"),
            )
            if name == "forced-running":
                api.start(made)
        plan = engine.plan_removal("forced:one", image_id, "image")
        assert plan.blocked and plan.force_allowed
        assert plan.force_outcome() == (
            "Force on Podman stops and removes containers forced-running, forced-stopped too (its rmi "
            f"--force does), then deletes the image {image_id[7:19]}: frees {plan.unique_size} bytes."
        ), plan.force_outcome()
        list(engine.remove(plan, "force"))
        assert engine.inspect_image(image_id) is None
        left = {c.name for c in engine.containers()}
        assert not left & {"forced-stopped", "forced-running"}, left
    finally:
        engine.close()
        api.close()


def test_podmans_answers_are_read_the_way_docker_gives_them() -> None:
    """Podman's own forms of what Docker says (measured on Podman 4.3.1), read into Docker's: an image
    event's ID without `sha256:` (a container's ID is left alone), the events that name no image, a load's
    one line for all its names, and a search, push, pull or login it could not make over plain HTTP (one
    sentence)."""
    from imgtui.engine.models import EngineEvent
    from imgtui.engine.transfer import _loaded_lines, podman_plain_http, podman_search_words

    hex_id = "af84a9daff7dee24bbf6019c090b75ee32b4bac64586e1db054f44732a3a9ed9"
    tagged = EngineEvent.from_raw({"Type": "image", "Action": "tag", "Actor": {"ID": hex_id}})
    assert tagged.touched_image == f"sha256:{hex_id}" and not tagged.names_no_image
    started = EngineEvent.from_raw({"Type": "container", "Action": "start", "Actor": {"ID": hex_id}})
    assert started.actor_id == hex_id
    commit = EngineEvent.from_raw({"Type": "container", "Action": "commit", "Actor": {"ID": hex_id}})
    loaded = EngineEvent.from_raw({"Type": "image", "Action": "loadfromarchive", "Actor": {"ID": ""}})
    assert commit.names_no_image and loaded.names_no_image and loaded.touched_image is None
    pulled = {"Type": "image", "Action": "pull", "Actor": {"ID": "", "Attributes": {"name": "r:5/a:1"}}}
    assert EngineEvent.from_raw(pulled).touched_image == "r:5/a:1", "Podman names a pull in its attributes"
    assert _loaded_lines("Loaded image: docker.io/arch/one:1,docker.io/library/two:2") == [
        "Loaded image: arch/one:1",
        "Loaded image: two:2",
    ]
    assert _loaded_lines("Loaded image: arch/one:1") == ["Loaded image: arch/one:1"], "Docker's, as it is"
    said = (
        'search failed: 1 error occurred:\n\t* couldn\'t search registry "127.0.0.1:39071": pinging '
        'container registry 127.0.0.1:39071: Get "https://127.0.0.1:39071/v2/": tls: first record does not '
        "look like a TLS handshake"
    )
    assert podman_search_words("127.0.0.1:39071/ubuntu", said) == (
        "search failed: 127.0.0.1:39071 answers plain HTTP, and Podman searches a registry over HTTPS unless "
        "its registries.conf lists that registry as insecure"
    )
    assert podman_search_words("ubuntu", "search failed: unauthorized") is None
    pushed = (
        "trying to reuse blob sha256:5745 at destination: pinging container registry 127.0.0.1:44067: Get "
        '"https://127.0.0.1:44067/v2/": http: server gave HTTP response to HTTPS client'
    )
    assert podman_plain_http("push 127.0.0.1:44067/x:1", "127.0.0.1:44067", pushed) == (
        "push 127.0.0.1:44067/x:1 failed: 127.0.0.1:44067 answers plain HTTP, and Podman reaches a registry "
        "over HTTPS unless its registries.conf lists that registry as insecure"
    )
    assert podman_plain_http("push", "127.0.0.1:44067", "unauthorized") == "unauthorized"
