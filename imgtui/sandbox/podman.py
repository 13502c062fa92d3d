"""A private Podman API service (`podman system service`) for the tests: Podman's Docker-compatible API on a
socket under a folder of its own, with its own storage, configuration and events log (nothing of a user's
Podman or containers is read or written), no network, and cgroupfs (no systemd needed)."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import docker

from imgtui.sandbox.install import SandboxError
from imgtui.sandbox.processes import engine_answers, pid_alive, read_number, stop_pid

CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{state}/events.log"

[network]
default_network = "none"
"""
REGISTRIES_CONF = "unqualified-search-registries = []\n{insecure}"
INSECURE = '\n[[registry]]\nlocation = "{address}"\ninsecure = true\n'
"""A registry on 127.0.0.1 serves plain HTTP: Podman is told so for each one (containers-registries.conf
matches a host with its port, so each address is listed)."""
STORAGE_CONF = """[storage]
driver = "{driver}"
runroot = "{state}/run"
graphroot = "{state}/storage"
"""


def _limits() -> dict[str, int]:
    """The open-files and process limits containers get: a modest 4096, below this process's own hard
    limits. Podman run as root asks for 1048576, which a machine (or a container) without
    CAP_SYS_RESOURCE refuses ("error setting rlimit type 7: operation not permitted"); its host's
    figures were refused here too, lower ones work."""
    return {
        "nofile": min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096),
        "nproc": min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 4096),
    }


class PodmanService:
    def __init__(self, state: Path, insecure: tuple[str, ...] = (), driver: str = "overlay") -> None:
        self.state = state
        self.driver = driver
        """Podman's storage driver: `overlay`, its default (each layer's own files once), or `vfs` (a full
        copy of the image's files per layer)."""
        self.socket = state / "podman.sock"
        self.insecure = insecure
        """Registries (`127.0.0.1:PORT`) reached over plain HTTP."""
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
        insecure = "".join(INSECURE.format(address=a) for a in self.insecure)
        fields = dict(state=self.state, insecure=insecure, driver=self.driver, **_limits())
        for name, text in (("containers.conf", CONTAINERS_CONF), ("registries.conf", REGISTRIES_CONF),
                           ("storage.conf", STORAGE_CONF)):  # fmt: skip
            (self.state / name).write_text(text.format(**fields))
        (self.state / "xdg-run").mkdir(mode=0o700, exist_ok=True)
        log = (self.state / "service.log").open("ab")
        self.socket.unlink(missing_ok=True)
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
                    (self.state / "podman.pid").write_text(f"{self.process.pid}\n")
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


class SandboxPodman:
    """Podman as a sandbox engine (`--engine podman`): a PodmanService under `state`, its storage root under
    `state/storage`, found again from its pid file by a later process."""

    kind = "podman"

    def __init__(self, state: Path) -> None:
        self.state = state
        self.data_root = state / "storage"
        self.socket = state / "podman.sock"
        self.pidfile = state / "podman.pid"
        self.log = state / "service.log"
        self.insecure: tuple[str, ...] = ()
        """Registries to reach over plain HTTP (the sandbox's own, set before `start`)."""

    def running(self) -> bool:
        pid = read_number(self.pidfile)
        return pid is not None and pid_alive(pid, str(self.socket)) and engine_answers(self.socket)

    def start(self, timeout: float = 60.0) -> None:
        if self.running():
            return
        PodmanService(self.state, self.insecure).start(timeout)

    def stop(self) -> None:
        pid = read_number(self.pidfile)
        if pid is not None:
            stop_pid(pid, str(self.socket), timeout=30)
        self.pidfile.unlink(missing_ok=True)
