"""A private Podman API service (`podman system service`) for the tests: Podman's Docker-compatible API on a
socket under a folder of its own, with its own storage, configuration and events log (nothing of a user's
Podman or containers is read or written), no network, and cgroupfs (no systemd needed)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import docker

from imgtui.sandbox.install import SandboxError

CONTAINERS_CONF = """[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{state}/events.log"

[network]
default_network = "none"
"""
REGISTRIES_CONF = "unqualified-search-registries = []\n"
STORAGE_CONF = """[storage]
driver = "vfs"
runroot = "{state}/run"
graphroot = "{state}/storage"
"""


class PodmanService:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.socket = state / "podman.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "CONTAINER"))}
        env.update(
            CONTAINERS_CONF=str(self.state / "containers.conf"),
            CONTAINERS_REGISTRIES_CONF=str(self.state / "registries.conf"),
            CONTAINERS_STORAGE_CONF=str(self.state / "storage.conf"),
            XDG_CONFIG_HOME=str(self.state / "config"),
            XDG_DATA_HOME=str(self.state / "data"),
            XDG_RUNTIME_DIR=str(self.state / "xdg-run"),
        )
        return env

    def start(self, timeout: float = 30) -> PodmanService:
        if shutil.which("podman") is None:
            raise SandboxError("podman is not installed: bash scripts/install installs it (apt-get, as root)")
        self.state.mkdir(parents=True, exist_ok=True)
        for name, text in (("containers.conf", CONTAINERS_CONF), ("registries.conf", REGISTRIES_CONF),
                           ("storage.conf", STORAGE_CONF)):  # fmt: skip
            (self.state / name).write_text(text.format(state=self.state))
        (self.state / "xdg-run").mkdir(mode=0o700, exist_ok=True)
        log = (self.state / "service.log").open("ab")
        self.process = subprocess.Popen(
            ["podman", "system", "service", "--time=0", self.docker_host],
            env=self.env(), stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SandboxError(f"podman system service exited: {self._tail()}")
            if self.socket.exists():
                try:
                    client = docker.APIClient(base_url=self.docker_host, version="auto", timeout=5)
                    client.ping()
                    client.close()
                    return self
                except Exception:  # noqa: BLE001 - not answering yet
                    pass
            time.sleep(0.2)
        self.stop()
        raise SandboxError(f"podman system service did not answer in {timeout:.0f} s: {self._tail()}")

    def _tail(self) -> str:
        path = self.state / "service.log"
        return path.read_text(errors="replace")[-1500:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None
