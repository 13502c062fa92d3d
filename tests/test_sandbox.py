"""The sandbox script itself: a second private engine, started over stale pid files and stopped cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import docker

from imgtui.sandbox import Sandbox


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
