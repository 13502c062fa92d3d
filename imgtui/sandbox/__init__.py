"""A private Docker engine and registry for demos, screenshots and tests, on a machine that has none.

Everything lives under one state folder: dockerd's data-root, exec-root, pidfile and unix socket, the
registry's storage and config. dockerd runs with no bridge and no iptables, the registry listens on
127.0.0.1 only, and nothing here ever talks to /var/run/docker.sock.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

DEFAULT_STATE = Path(os.environ.get("IMGTUI_SANDBOX", "/tmp/imgtui-sandbox"))
APT_PACKAGES = {
    "dockerd": "docker.io",
    "docker-registry": "docker-registry",
    "busybox": "busybox-static",
    "cgroupfs-mount": "cgroupfs-mount",
}
BUSYBOX = Path("/bin/busybox")


class SandboxError(Exception):
    """The sandbox could not be installed, started or seeded; the message says why."""


def _pid_alive(pid: int, needle: str) -> bool:
    """True if `pid` runs and its command line mentions `needle` (so a recycled pid is not ours)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return needle in cmdline


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_pid(pid: int, needle: str, timeout: float = 20.0) -> None:
    if not _pid_alive(pid, needle):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid, needle):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def ensure_installed(log: bool = True) -> None:
    """apt-get install what is missing, without letting the packages start a system engine."""
    missing = []
    for binary, package in APT_PACKAGES.items():
        if binary == "busybox":
            if not BUSYBOX.exists():
                missing.append(package)
        elif shutil.which(binary) is None and not Path(f"/usr/bin/{binary}").exists():
            missing.append(package)
    if not missing:
        return
    if os.geteuid() != 0:
        raise SandboxError(
            f"missing {', '.join(missing)}: run as root, or apt-get install {' '.join(missing)}"
        )
    if log:
        print(f"imgtui sandbox: installing {' '.join(missing)} with apt-get ...", flush=True)
    policy = Path("/usr/sbin/policy-rc.d")
    added_policy = not policy.exists()
    if added_policy:
        # Keep the packages' maintainer scripts from starting a system dockerd on /var/run/docker.sock.
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        for attempt in (1, 2):
            update = subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, text=True)
            result = subprocess.run(
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode == 0:
                return
            if attempt == 2:
                raise SandboxError(
                    f"apt-get install {' '.join(missing)} failed:\n"
                    f"{update.stderr[-1000:]}{result.stderr[-2000:]}"
                )
            time.sleep(3)
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)


def ensure_cgroups() -> None:
    """Containers need mounted cgroups. Machines booted without an init that mounts them (no systemd) get
    them from Debian's cgroupfs-mount script, which the package's blocked service start would have run."""
    root = Path("/sys/fs/cgroup")
    if (root / "cgroup.controllers").exists():
        return
    if (root / "memory").is_dir() and any((root / "memory").iterdir()):
        return
    script = shutil.which("cgroupfs-mount") or "/usr/bin/cgroupfs-mount"
    if Path(script).exists():
        subprocess.run([script], capture_output=True, check=False)


class Sandbox:
    """One private dockerd + registry under `state`."""

    def __init__(self, state: Path | str = DEFAULT_STATE) -> None:
        self.state = Path(state).absolute()
        self.data_root = self.state / "data"
        self.exec_root = self.state / "exec"
        self.pidfile = self.state / "dockerd.pid"
        self.socket = self.state / "docker.sock"
        self.log = self.state / "dockerd.log"
        self.daemon_config = self.state / "daemon.json"
        self.registry_dir = self.state / "registry"
        self.registry_config = self.state / "registry.yml"
        self.registry_pidfile = self.state / "registry.pid"
        self.registry_portfile = self.state / "registry.port"
        self.registry_log = self.state / "registry.log"

    # -- addresses -------------------------------------------------------------------------------------
    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def registry_port(self) -> int:
        port = _read_pid(self.registry_portfile)
        if port is None:
            self.state.mkdir(parents=True, exist_ok=True)
            port = _free_port()
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
        pid = _read_pid(self.pidfile)
        return pid is not None and _pid_alive(pid, str(self.data_root))

    def registry_running(self) -> bool:
        pid = _read_pid(self.registry_pidfile)
        return pid is not None and _pid_alive(pid, str(self.registry_config))

    def engine_answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(str(self.socket))
                s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
                return b" 200 " in s.recv(64)
        except OSError:
            return False

    def registry_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.registry}/v2/", timeout=2) as response:
                return int(response.status) == 200
        except Exception:
            return False

    # -- start / stop ----------------------------------------------------------------------------------
    def start(self, registry: bool = True, timeout: float = 60.0) -> str:
        """Start (or reuse) dockerd and the registry; returns DOCKER_HOST."""
        ensure_installed()
        ensure_cgroups()
        self.state.mkdir(parents=True, exist_ok=True)
        if not (self.dockerd_running() and self.engine_answers()):
            self._start_dockerd(timeout)
        if registry and not (self.registry_running() and self.registry_answers()):
            self._start_registry(timeout)
        return self.docker_host

    def _start_dockerd(self, timeout: float) -> None:
        pid = _read_pid(self.pidfile)
        if pid is not None and _pid_alive(pid, str(self.data_root)):
            _stop_pid(pid, str(self.data_root))
        self.pidfile.unlink(missing_ok=True)  # stale: dockerd refuses to start over a live-looking one
        self.socket.unlink(missing_ok=True)
        self.daemon_config.write_text("{}\n")
        for driver in (None, "vfs"):
            args = [
                "dockerd",
                "--config-file", str(self.daemon_config),
                "--data-root", str(self.data_root),
                "--exec-root", str(self.exec_root),
                "--pidfile", str(self.pidfile),
                "--host", self.docker_host,
                "--bridge=none",
                "--iptables=false",
                "--ip-masq=false",
                "--userland-proxy=false",
            ]  # fmt: skip
            if driver:
                args += ["--storage-driver", driver]
            env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
            with self.log.open("ab") as log:
                proc = subprocess.Popen(
                    args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=env, start_new_session=True,
                )  # fmt: skip
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None:
                if self.engine_answers():
                    return
                time.sleep(0.1)
            if proc.poll() is None:
                proc.kill()
            self.pidfile.unlink(missing_ok=True)
        tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
        raise SandboxError(f"dockerd did not start; the end of {self.log}:\n{tail}")

    def _start_registry(self, timeout: float) -> None:
        pid = _read_pid(self.registry_pidfile)
        if pid is not None:
            _stop_pid(pid, str(self.registry_config))
        self.registry_pidfile.unlink(missing_ok=True)
        self.registry_dir.mkdir(parents=True, exist_ok=True)
        port = self.registry_port
        if not _port_free(port):
            port = _free_port()
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

    def stop(self) -> None:
        """Stop the registry and dockerd (dockerd stops its own containerd)."""
        pid = _read_pid(self.registry_pidfile)
        if pid is not None:
            _stop_pid(pid, str(self.registry_config))
        self.registry_pidfile.unlink(missing_ok=True)
        pid = _read_pid(self.pidfile)
        if pid is not None:
            _stop_pid(pid, str(self.data_root), timeout=30)
        self.pidfile.unlink(missing_ok=True)

    def destroy(self) -> None:
        """Stop, then delete the state folder (unmounting what dockerd may have left mounted)."""
        self.stop()
        _unmount_under(self.state)
        shutil.rmtree(self.state, ignore_errors=True)

    def status(self) -> dict[str, object]:
        return {
            "state": str(self.state),
            "DOCKER_HOST": self.docker_host,
            "dockerd": "running" if self.dockerd_running() and self.engine_answers() else "stopped",
            "registry": f"{self.registry}" if self.registry_running() else "stopped",
        }

    def status_json(self) -> str:
        return json.dumps(self.status(), indent=2)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _unmount_under(path: Path) -> None:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    points = [line.split()[1] for line in mounts if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(str(path))), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
