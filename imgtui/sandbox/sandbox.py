"""One sandbox: a private Docker engine (see engines.py) and a registry on 127.0.0.1, under one state folder.

Everything lives under the state folder: the engine's data-root and socket, the registry's storage and
config, and a file naming which engine this sandbox runs. Nothing here ever talks to /var/run/docker.sock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from imgtui.sandbox.engines import ENGINES, HostDockerd, NestedDockerd, make_engine
from imgtui.sandbox.install import SandboxError
from imgtui.sandbox.podman import SandboxPodman
from imgtui.sandbox.processes import (
    engine_answers,
    free_port,
    pid_alive,
    port_free,
    read_number,
    stop_pid,
    unmount_under,
)
from imgtui.sandbox.sshd import SandboxSshd

DEFAULT_STATE = Path(os.environ.get("IMGTUI_SANDBOX", "/tmp/imgtui-sandbox"))


def default_state(engine: str) -> Path:
    """`/tmp/imgtui-sandbox` for this machine's dockerd, `/tmp/imgtui-sandbox-trixie` and so on for the
    others, so that they run side by side."""
    return DEFAULT_STATE if engine == "dockerd" else DEFAULT_STATE.with_name(f"{DEFAULT_STATE.name}-{engine}")


class Sandbox:
    """One private engine + registry under `state`. `engine` is a name of ENGINES; by default the one this
    state folder was started with, else `dockerd`."""

    def __init__(self, state: Path | str = DEFAULT_STATE, engine: str | None = None) -> None:
        self.state = Path(state).absolute()
        self.engine_file = self.state / "engine"
        if engine is None:
            try:
                engine = self.engine_file.read_text().strip() or "dockerd"
            except OSError:
                engine = "dockerd"
        if engine not in ENGINES:
            raise SandboxError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
        self.engine_kind = engine
        self.engine: HostDockerd | NestedDockerd | SandboxPodman = make_engine(engine, self.state)
        self.registry_dir = self.state / "registry"
        self.registry_config = self.state / "registry.yml"
        self.registry_pidfile = self.state / "registry.pid"
        self.registry_portfile = self.state / "registry.port"
        self.registry_log = self.state / "registry.log"
        self.sshd = SandboxSshd(self.state, self.docker_host)
        """An sshd on 127.0.0.1 in front of the engine (started by `start_sshd`), for ssh:// engines."""

    # -- the engine's places ------------------------------------------------------------------------------
    @property
    def data_root(self) -> Path:
        """The engine's data-root, as a folder of this machine (`du` it to see what the engine holds)."""
        return self.engine.data_root

    @property
    def socket(self) -> Path:
        return self.engine.socket

    @property
    def pidfile(self) -> Path:
        return self.engine.pidfile

    @property
    def log(self) -> Path:
        return self.engine.log

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def registry_port(self) -> int:
        port = read_number(self.registry_portfile)
        if port is None:
            self.state.mkdir(parents=True, exist_ok=True)
            port = free_port()
            self.registry_portfile.write_text(str(port))
        return port

    @property
    def registry(self) -> str:
        """`127.0.0.1:PORT`, usable as the registry part of an image name."""
        return f"127.0.0.1:{self.registry_port}"

    def env(self) -> dict[str, str]:
        """The environment for a process that should use this engine and nothing else."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_HOST"] = self.docker_host
        return env

    # -- state -----------------------------------------------------------------------------------------
    def dockerd_running(self) -> bool:
        return self.engine.running()

    def registry_running(self) -> bool:
        pid = read_number(self.registry_pidfile)
        return pid is not None and pid_alive(pid, str(self.registry_config))

    def engine_answers(self) -> bool:
        return engine_answers(self.socket)

    def registry_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.registry}/v2/", timeout=2) as response:
                return int(response.status) == 200
        except Exception:
            return False

    # -- start / stop ----------------------------------------------------------------------------------
    def start(self, registry: bool = True, timeout: float = 60.0) -> str:
        """Start (or reuse) the engine and the registry; returns DOCKER_HOST."""
        self.state.mkdir(parents=True, exist_ok=True)
        self.engine_file.write_text(self.engine_kind + "\n")
        if isinstance(self.engine, SandboxPodman):
            self.engine.insecure = (self.registry,)
        if not self.engine.running():
            self.engine.start(timeout if isinstance(self.engine, HostDockerd) else max(timeout, 120.0))
        if registry and not (self.registry_running() and self.registry_answers()):
            self._start_registry(timeout)
        return self.docker_host

    def _start_registry(self, timeout: float) -> None:
        pid = read_number(self.registry_pidfile)
        if pid is not None:
            stop_pid(pid, str(self.registry_config))
        self.registry_pidfile.unlink(missing_ok=True)
        self.registry_dir.mkdir(parents=True, exist_ok=True)
        port = self.registry_port
        if not port_free(port):
            port = free_port()
            self.registry_portfile.write_text(str(port))
        self.registry_config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {self.registry_dir}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
        )
        registry = shutil.which("docker-registry") or "/usr/bin/docker-registry"
        with self.registry_log.open("ab") as log:
            proc = subprocess.Popen(
                [registry, "serve", str(self.registry_config)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.registry_pidfile.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if self.registry_answers():
                return
            time.sleep(0.1)
        tail = self.registry_log.read_text(errors="replace")[-1500:]
        raise SandboxError(f"the registry did not start; the end of {self.registry_log}:\n{tail}")

    def start_sshd(self) -> str:
        """Start (or reuse) the sshd in front of the engine; returns its ssh:// address. Reach it with the
        environment of `sshd.env()` (an ssh config of its own, with the alias `sshd.alias`)."""
        self.sshd.start()
        return self.sshd.address

    def kill_engine(self) -> None:
        """Kill dockerd as a crash would (SIGKILL; the registry keeps running); `restart_engine` brings it
        back on the same data. This machine's dockerd only."""
        if not isinstance(self.engine, HostDockerd):
            raise SandboxError(
                f"killing the engine is done for this machine's dockerd only, not {self.engine_kind}"
            )
        self.engine.kill()

    def restart_engine(self, timeout: float = 60.0) -> None:
        """Start the engine again after `kill_engine`, on the same data and storage driver."""
        if not isinstance(self.engine, HostDockerd):
            raise SandboxError(
                f"restarting the engine is done for this machine's dockerd only, not {self.engine_kind}"
            )
        self.engine.restart(timeout)

    def stop(self) -> None:
        """Stop the registry and the engine (dockerd stops its own containerd)."""
        pid = read_number(self.registry_pidfile)
        if pid is not None:
            stop_pid(pid, str(self.registry_config))
        self.registry_pidfile.unlink(missing_ok=True)
        self.sshd.stop()
        self.engine.stop()

    def destroy(self) -> None:
        """Stop, then delete the state folder (unmounting what dockerd may have left mounted)."""
        self.stop()
        unmount_under(self.state)
        shutil.rmtree(self.state, ignore_errors=True)

    def status(self) -> dict[str, object]:
        return {
            "state": str(self.state),
            "engine": f"{self.engine_kind}: {ENGINES[self.engine_kind]}",
            "DOCKER_HOST": self.docker_host,
            "dockerd": "running" if self.dockerd_running() else "stopped",
            "registry": f"{self.registry}" if self.registry_running() else "stopped",
            "sshd": f"{self.sshd.address} ({self.sshd.ssh_command})" if self.sshd.running() else "stopped",
        }

    def status_json(self) -> str:
        return json.dumps(self.status(), indent=2)
