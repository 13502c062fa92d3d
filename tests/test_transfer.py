"""Commit, save/load, push/pull through the domain layer, against the real engine and the sandbox registry."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from imgtui.engine import Engine
from imgtui.engine.transfer import CHUNK, PODMAN_PUSH, Progress, TransferError, check_save_path
from imgtui.sandbox import Sandbox
from imgtui.sandbox.seed import run_and_commit
from tests.conftest import layer_size


def never() -> bool:
    return False


@pytest.fixture
def engine_(docker_host: str):  # type: ignore[no-untyped-def]
    eng = Engine.connect(docker_host)
    yield eng
    eng.close()


def test_commit_with_author_and_message_shows_in_history(
    engine_: Engine, api, unique: str, store: str
) -> None:  # type: ignore[no-untyped-def]
    container = api.create_container(
        "busybox:latest", command=["sh", "-c", "echo hi > /hi"], name=f"cm-{unique}",
        host_config=api.create_host_config(network_mode="none"),
    )  # fmt: skip
    api.start(container)
    api.wait(container)
    try:
        image_id, name = engine_.commit(f"cm-{unique}", f"committed-{unique}", "alicek106", "my commit",
                                        ['ENV GREETING=hello'])  # fmt: skip
        assert name == f"committed-{unique}:latest", "no tag means latest"
        top = engine_.history(image_id)[0]
        assert top.comment == "my commit" and top.size == layer_size(store, 3)
        assert "GREETING=hello" in api.inspect_image(image_id)["Config"]["Env"]
        assert api.inspect_image(image_id)["Author"] == "alicek106"
    finally:
        api.remove_container(container)
        api.remove_image(f"committed-{unique}:latest")


def test_save_remove_load_restores_every_tag(engine_: Engine, api, unique: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    names = [f"arch-{unique}/one:1", f"arch-{unique}/two:2"]
    for name in names:
        api.tag("commit_test:second", *name.split(":"))
    target = check_save_path(str(tmp_path / "images.tar"), overwrite=False)
    seen: list[Progress] = []
    written = engine_.save(names, target, seen.append, never)
    assert target.stat().st_size == written > 1_000_000
    assert seen and seen[-1].done == written
    assert len(seen) == -(-written // CHUNK), "the stream is written in 1 MiB pieces, a report for each"
    assert not list(tmp_path.glob(".images.tar.*")), "no temporary file left behind"
    for name in names:
        api.remove_image(name)
    lines = engine_.load(str(target), seen.append, never)
    assert {f"Loaded image: {n}" for n in names} <= set(lines)
    for name in names:
        assert api.inspect_image(name)["Id"] == api.inspect_image("commit_test:second")["Id"]
        api.remove_image(name)
    with pytest.raises(TransferError, match="exists"):
        check_save_path(str(target), overwrite=False)
    assert check_save_path(str(target), overwrite=True) == target


def test_bad_paths_and_a_corrupt_tar_get_clear_messages(engine_: Engine, tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="does not exist"):
        check_save_path(str(tmp_path / "no-such-folder" / "x.tar"), overwrite=False)
    with pytest.raises(TransferError, match="is a folder"):
        check_save_path(str(tmp_path), overwrite=True)
    with pytest.raises(TransferError, match="does not exist"):
        engine_.load(str(tmp_path / "missing.tar"), lambda p: None, never)
    corrupt = tmp_path / "corrupt.tar"
    corrupt.write_bytes(b"this is not a tar archive" * 100)
    with pytest.raises(TransferError, match="could not load corrupt.tar"):
        engine_.load(str(corrupt), lambda p: None, never)


def test_push_then_pull_back_with_progress(
    engine_: Engine, api, sandbox: Sandbox, unique: str, store: str
) -> None:  # type: ignore[no-untyped-def]
    """Per-layer progress in each store's own words: a layer no other image has is pushed (`Pushed`), the
    image removed, and pulled back (the classic store ends the layer with `Pull complete`, the containerd
    store with `Download complete`, its counts hidden)."""
    name = f"{sandbox.registry}/pushed-{unique}/app:1"
    repository, tag = name.rsplit(":", 1)
    write = ["sh", "-c", "head -c 200000 /dev/urandom > /r"]
    run_and_commit(api, "busybox:latest", f"mkpush-{unique}", write, repository, tag, remove=True)
    events: list[Progress] = []
    lines, errors = engine_.push(name, events.append, never)
    assert errors == []
    if store == "podman":
        # Podman 4.3's push stream has no layer lines: the repository, then the digest; imgtui says so.
        assert lines[0] == f"The push refers to repository [{name}]" and lines[2:] == [PODMAN_PUSH], lines
        assert lines[1].startswith(f"{tag}: digest: sha256:") and len(lines) == 3, lines
    else:
        pushed_layers(lines, events)
    api.remove_image(name)
    events.clear()
    lines, errors = engine_.pull(name, events.append, never)
    assert errors == []
    done = {"classic": "Pull complete", "containerd": "Download complete", "podman": "Download complete"}[
        store
    ]
    # busybox's layer is still here; the new one comes back (named by its blob digest, which a push does
    # not use on the classic store). Podman lists the image's config too, which imgtui leaves out.
    fetched = [line.split(":")[0] for line in lines if line.endswith(f": {done}")]
    assert len(fetched) == 1, lines
    layer = fetched[0]
    assert any(line.startswith("Digest: sha256:") for line in lines), lines
    if store == "containerd":
        assert all(e.total == 0 for e in events if e.layer == layer), "hidecounts: no byte counts"
    image = api.inspect_image(name)
    if store == "podman":
        digest = next(line for line in lines if line.startswith("Digest: ")).split()[1]
        assert f"{repository}@{digest}" in image["RepoDigests"] and layer != image["Id"][7:19], lines
    api.remove_image(name)


def pushed_layers(lines: list[str], events: list[Progress]) -> None:
    # The new layer is pushed; busybox's too, or mounted from another repository of the registry when a test
    # before this one pushed an image on busybox there (the registry lives for the whole session).
    pushed = [line.split(":")[0] for line in lines if line.endswith(": Pushed")]
    mounted = [line.split(":")[0] for line in lines if ": Mounted from " in line]
    assert len(pushed) + len(mounted) == 2 and len(pushed) >= 1, lines
    assert all(any(e.layer == layer for e in events) for layer in pushed + mounted), "progress names each"
    assert not any(line.strip() == "" for line in lines), "no blank lines"


def test_pull_of_a_missing_image_is_an_error_not_a_traceback(
    engine_: Engine, sandbox: Sandbox, unique: str
) -> None:
    from imgtui.engine import EngineError

    with pytest.raises(EngineError, match="not found|manifest unknown|unknown") as refused:
        engine_.pull(f"{sandbox.registry}/no-such-{unique}:1", lambda p: None, never)
    assert str(refused.value).startswith(f"pulling {sandbox.registry}/no-such-{unique}:1: ")
    assert "\n" not in str(refused.value), "one line"


def test_export_then_import_keeps_only_the_filesystem(
    engine_: Engine, api, unique: str, tmp_path: Path, store: str
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "rootfs.tar"
    written = engine_.export("commit_test2", target, lambda p: None, never)
    assert target.stat().st_size == written > 1_000_000
    image_id = engine_.import_(str(target), f"flat-{unique}:0.0")
    layers = engine_.history(image_id)
    assert len(layers) == 1, "an imported image has one layer and no history of how it was made"
    if store == "podman":  # Podman writes one row: the file added, by its digest
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        assert (layers[0].created_by, layers[0].comment) == (
            f"/bin/sh -c #(nop) ADD file:{digest} in /",
            "imported from tarball",
        )
    else:
        assert layers[0].created_by == ""
    assert api.inspect_image(image_id)["Config"].get("Cmd") is None, "no config survives export/import"
    api.remove_image(f"flat-{unique}:0.0")


def test_search_through_the_engine_against_a_local_index(engine_: Engine) -> None:
    """Docker Hub is unreachable here: the engine searches a local server speaking the search API. Podman
    speaks HTTPS to it (its registries.conf lists only the sandbox registry as insecure, by host and port,
    and has no setting for a range): imgtui says so in one sentence."""
    from tests import search_server

    server = search_server.start()
    try:
        host = f"127.0.0.1:{server.server_address[1]}"
        if engine_.info.podman:
            with pytest.raises(TransferError) as refused:
                engine_.search(f"{host}/ubuntu")
            assert str(refused.value) == (
                f"search failed: {host} answers plain HTTP, and Podman searches a registry over HTTPS unless "
                "its registries.conf lists that registry as insecure"
            )
            return
        results = engine_.search(f"{host}/ubuntu")
        assert [(r.name, r.stars, r.official) for r in results] == [("library/ubuntu", 13460, True)]
        assert "Debian-based" in results[0].description
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(TransferError, match="search failed"):
        engine_.search(f"{host}/ubuntu")


def test_a_cancelled_save_leaves_no_file(engine_: Engine, tmp_path: Path) -> None:
    from imgtui.engine.transfer import Cancelled

    target = tmp_path / "cancelled.tar"
    chunks: list[Progress] = []
    with pytest.raises(Cancelled):
        engine_.save(["commit_test:second"], target, chunks.append, lambda: len(chunks) >= 1)
    assert chunks, "it had started"
    assert list(tmp_path.iterdir()) == [], "neither the file nor its temporary part is left"


def test_untag_takes_back_a_name_but_never_an_images_only_one(engine_: Engine, api, unique: str) -> None:  # type: ignore[no-untyped-def]
    """What a push that sent nothing uses to take back the name it made: removed when the image has
    others; kept, with why, when it now names another image or is the image's only name."""
    busybox = api.inspect_image("busybox:latest")["Id"]
    name = f"untag-{unique}/x:1"
    api.tag(busybox, *name.split(":"))
    assert engine_.untag(name, busybox) is None
    assert name not in (api.inspect_image(busybox).get("RepoTags") or [])
    assert engine_.untag(name, busybox) is None, "a name already gone is no failure"
    api.tag("commit_test:second", *name.split(":"))
    assert engine_.untag(name, busybox) == f"{name} names another image now"
    api.remove_image(name)
    only = f"only-{unique}:1"
    image = run_and_commit(
        api, "busybox:latest", f"only-{unique}", ["true"], f"only-{unique}", "1", remove=True
    )
    try:
        assert (
            engine_.untag(only, image)
            == f"{only} is the image's only name (removing it would delete the image)"
        )
        assert api.inspect_image(only)["Id"] == image
    finally:
        api.remove_image(only)
