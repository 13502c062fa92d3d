"""The sandbox script itself: a second private engine, started over stale pid files and stopped cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import docker
import pytest

from imgtui.sandbox import Sandbox


@pytest.mark.engine
def test_start_over_stale_pidfiles_then_stop_cleanly() -> None:
    box = Sandbox(Path(tempfile.mkdtemp(prefix="imgtui-s-", dir="/tmp")))
    try:
        box.state.mkdir(parents=True, exist_ok=True)
        # Pid files left by a crash, naming a live process that is not ours (this test's own pid).
        box.pidfile.write_text(str(os.getpid()))
        box.registry_pidfile.write_text(str(os.getpid()))
        host = box.start()
        assert host == f"unix://{box.socket}" and box.engine_answers() and box.registry_answers()
        api = docker.APIClient(base_url=host, version="auto")
        info = api.info()
        assert info["DockerRootDir"] == str(box.data_root)
        api.close()
        assert box.start() == host, "a second start reuses the running engine"
        box.stop()
        assert not box.dockerd_running() and not box.registry_running()
        assert not box.engine_answers() and not box.registry_answers()
    finally:
        box.destroy()
    assert not box.state.exists()


def test_cli_prints_the_docker_host_and_never_the_system_socket(sandbox: Sandbox) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "imgtui.sandbox", "--state", str(sandbox.state), "start"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert f"export DOCKER_HOST={sandbox.docker_host}" in result.stdout
    assert "/var/run/docker.sock" not in result.stdout
    status = subprocess.run(
        [sys.executable, "-m", "imgtui.sandbox", "--state", str(sandbox.state), "status"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert '"dockerd": "running"' in status.stdout
    assert sandbox.registry in status.stdout


def test_seed_fills_a_registry_for_the_registry_view(sandbox, api, store) -> None:  # type: ignore[no-untyped-def]
    """What `python -m imgtui.sandbox demo` shows in the registry view (R), on a registry of its own here."""
    import tempfile
    from pathlib import Path

    from imgtui.registry import Registry
    from imgtui.registry.operations import plan_delete, remote_status
    from imgtui.sandbox.seed import fill_registry
    from tests.registries import run_registry

    running = run_registry(Path(tempfile.mkdtemp(prefix="imgtui-seed-", dir="/tmp")))
    host = running.address
    try:
        fill_registry(api, host)
        registry = Registry(host)
        assert registry.catalog().names == ("base/os", "demo/app", "team/tools")
        assert plan_delete(registry, "team/tools", "v2").siblings == ("stable", "v2")
        multi = registry.manifest("base/os", "multi")
        # The classic store pushes Docker v2 manifests (so a Docker list over them), the containerd store OCI.
        assert multi.kind == {"classic": "docker list", "containerd": "oci index"}[store]
        assert [p.platform for p in multi.platforms] == [
            "linux/amd64",
            "linux/arm64",
        ]

        def local_digests(ref: str) -> list[str]:
            repo = ref.rsplit(":", 1)[0]
            return [
                d.split("@")[1] for d in api.inspect_image(ref)["RepoDigests"] if d.startswith(repo + "@")
            ]

        assert (
            remote_status(registry, "team/tools", "v2", local_digests(f"{host}/team/tools:v2")).state
            == "up to date"
        )
        assert (
            remote_status(registry, "team/tools", "stable", local_digests(f"{host}/team/tools:stable")).state
            == "differs"
        )
        assert (
            remote_status(registry, "demo/app", "next", local_digests(f"{host}/demo/app:next")).state
            == "not pushed"
        )
    finally:
        for image in api.images():
            for name in image.get("RepoTags") or ():
                if name.startswith(host + "/"):
                    api.remove_image(name)
        running.stop()
