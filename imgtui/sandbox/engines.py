"""The Docker engines a sandbox can run, each under one state folder and on a unix socket of its own.

- `dockerd`: this machine's dockerd (Debian 12's docker.io: 20.10, API 1.41), a process of ours.
- `trixie`: Debian 13's docker.io (dockerd 26.1, API 1.45) with the classic image store (overlay2), running
  in a container on a private `dockerd` of its own, made from a debootstrap root of trixie.
- `trixie-containerd`: the same with the containerd image store (the overlayfs snapshotter), the default of
  fresh Docker Engine 29 installs.
- `podman`: this machine's Podman (Debian 12's 4.3), through the Docker-compatible API of `podman system
  service` on a socket of ours, with storage, configuration and events of its own (sandbox/podman.py).

A nested engine's data-root is a folder of the host's filesystem bind-mounted into its container (overlay
does not stack on overlay), so `du` on the host measures what it holds; its socket is in a host folder too.
Every engine runs with no bridge, no iptables and no masquerading; the nested ones share the host's network
namespace only to reach registries on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from imgtui.sandbox.install import SandboxError, ensure_cgroups, ensure_installed
from imgtui.sandbox.processes import engine_answers, pid_alive, read_number, stop_pid

if TYPE_CHECKING:
    from imgtui.sandbox.podman import SandboxPodman

ENGINES = {
    "dockerd": "this machine's dockerd (Debian 12: 20.10), classic image store",
    "trixie": "Debian 13's dockerd 26.1 in a container, classic image store (overlay2)",
    "trixie-containerd": "Debian 13's dockerd 26.1 in a container, containerd image store (overlayfs)",
    "podman": "this machine's Podman (Debian 12: 4.3), its Docker-compatible API (podman system service)",
}
NETWORK_FLAGS = ["--bridge=none", "--iptables=false", "--ip-masq=false", "--userland-proxy=false"]


class HostDockerd:
    """dockerd from this machine's packages, as a process of ours under `state`."""

    kind = "dockerd"

    def __init__(self, state: Path) -> None:
        self.state = state
        self.data_root = state / "data"
        self.exec_root = state / "exec"
        self.pidfile = state / "dockerd.pid"
        self.socket = state / "docker.sock"
        self.log = state / "dockerd.log"
        self.daemon_config = state / "daemon.json"
        self.driver_file = state / "storage-driver"
        """The storage driver the last start settled on (empty: dockerd's choice)."""
        self.containerd_pidfile = self.exec_root / "containerd" / "containerd.pid"
        self.extra_args: list[str] = []
        """More dockerd flags (a test's second engine listening on tcp://127.0.0.1 with TLS, say)."""

    def running(self) -> bool:
        pid = read_number(self.pidfile)
        return pid is not None and pid_alive(pid, str(self.data_root)) and engine_answers(self.socket)

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL dockerd, as a crash would (its containerd dies with it); returns once neither runs. Where
        orphans are never reaped (a container's `sleep infinity` as subreaper), the dead containerd stays a
        zombie that a new dockerd takes for a live one (it waits for it and gives up): its pid file goes."""
        pid = read_number(self.pidfile)
        if pid is not None and pid_alive(pid, str(self.data_root)):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while (pid is not None and pid_alive(pid, str(self.data_root))) or engine_answers(self.socket):
            if time.monotonic() > deadline:
                raise SandboxError(f"dockerd {pid} still runs {timeout:g} s after SIGKILL")
            time.sleep(0.02)
        containerd = read_number(self.containerd_pidfile)
        while containerd is not None and _running(containerd):
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"containerd {containerd} still runs {timeout:g} s after dockerd was killed"
                )
            time.sleep(0.02)
        self.containerd_pidfile.unlink(missing_ok=True)

    def restart(self, timeout: float = 60.0) -> None:
        """Start again (after `kill`) on the storage driver of the last start: never a fallback to another
        driver, which would show an empty image store."""
        used = self.driver_file.read_text().strip() if self.driver_file.exists() else ""
        self.start(timeout, drivers=(used or None,))

    def start(self, timeout: float = 60.0, drivers: tuple[str | None, ...] = (None, "vfs")) -> None:
        ensure_installed()
        ensure_cgroups()
        self.state.mkdir(parents=True, exist_ok=True)
        if self.running():
            return
        pid = read_number(self.pidfile)
        if pid is not None and pid_alive(pid, str(self.data_root)):
            stop_pid(pid, str(self.data_root))
        self.pidfile.unlink(missing_ok=True)  # stale: dockerd refuses to start over a live-looking one
        self.socket.unlink(missing_ok=True)
        self.daemon_config.write_text("{}\n")
        for driver in drivers:
            args = [
                "dockerd",
                "--config-file", str(self.daemon_config),
                "--data-root", str(self.data_root),
                "--exec-root", str(self.exec_root),
                "--pidfile", str(self.pidfile),
                "--host", f"unix://{self.socket}",
                *NETWORK_FLAGS,
                *self.extra_args,
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
                if engine_answers(self.socket):
                    self.driver_file.write_text(f"{driver or ''}\n")
                    return
                time.sleep(0.02)
            if proc.poll() is None:
                proc.kill()
            self.pidfile.unlink(missing_ok=True)
        tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
        raise SandboxError(f"dockerd did not start; the end of {self.log}:\n{tail}")

    def stop(self) -> None:
        pid = read_number(self.pidfile)
        if pid is not None:
            stop_pid(pid, str(self.data_root), timeout=30)
        self.pidfile.unlink(missing_ok=True)


class NestedDockerd:
    """Debian 13's dockerd in a container on a private HostDockerd of its own (`state/outer`)."""

    SUITE = "trixie"
    PACKAGES = ("docker.io",)

    def __init__(self, state: Path, containerd_store: bool) -> None:
        self.kind = "trixie-containerd" if containerd_store else "trixie"
        self.state = state
        self.containerd_store = containerd_store
        self.outer = HostDockerd(state / "outer")
        self.data_root = state / "data"
        self.run_dir = state / "run"
        self.socket = self.run_dir / "docker.sock"
        self.log = state / "dockerd.log"
        self.daemon_config = state / "daemon.json"
        self.pidfile = state / "container.id"
        self.container = "imgtui-engine-" + hashlib.sha256(str(state).encode()).hexdigest()[:12]

    def _outer_api(self):  # type: ignore[no-untyped-def]
        import docker

        return docker.APIClient(base_url=f"unix://{self.outer.socket}", version="auto", timeout=600)

    def running(self) -> bool:
        return self.outer.running() and engine_answers(self.socket)

    def start(self, timeout: float = 120.0) -> None:
        from imgtui.sandbox.roots import RootError, import_root, root_tar

        if self.running():
            return
        self.outer.start()
        try:
            tar = root_tar(self.SUITE, self.PACKAGES)
        except RootError as exc:
            raise SandboxError(str(exc)) from exc
        image = import_root(f"unix://{self.outer.socket}", tar, f"imgtui-root/{tar.stem}:latest")
        for folder in (self.data_root, self.run_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        features = {"containerd-snapshotter": self.containerd_store}
        self.daemon_config.write_text(json.dumps({"features": features}, indent=2) + "\n")
        api = self._outer_api()
        try:
            self._remove_container(api)
            host_config = api.create_host_config(
                network_mode="host",
                binds={
                    str(self.data_root): {"bind": "/var/lib/docker", "mode": "rw"},
                    str(self.run_dir): {"bind": "/run/imgtui", "mode": "rw"},
                    str(self.daemon_config): {"bind": "/etc/imgtui/daemon.json", "mode": "ro"},
                    "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
                },
                # What `docker run --privileged` would give, which this kernel refuses ("unable to apply
                # caps"): every capability but one, no seccomp or AppArmor profile, /proc and /sys unmasked.
                cap_add=["ALL"],
                cap_drop=["SYS_RESOURCE"],
                security_opt=["seccomp=unconfined", "apparmor=unconfined"],
                tmpfs={"/run/docker": ""},
            )
            host_config["MaskedPaths"] = []  # the API's form of --security-opt systempaths=unconfined
            host_config["ReadonlyPaths"] = []
            command = [
                "dockerd",
                "--config-file", "/etc/imgtui/daemon.json",
                "--data-root", "/var/lib/docker",
                "--host", "unix:///run/imgtui/docker.sock",
                "--cgroup-parent", f"/{self.container}",
                *NETWORK_FLAGS,
            ]  # fmt: skip
            created = api.create_container(
                image, command=command, name=self.container, host_config=host_config,
                labels={"imgtui.sandbox": str(self.state)},
            )  # fmt: skip
            self.pidfile.write_text(created["Id"])
            api.start(created["Id"])
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if engine_answers(self.socket):
                    return
                state = api.inspect_container(created["Id"])["State"]
                if not state.get("Running"):
                    break
                time.sleep(0.2)
            logs = api.logs(created["Id"]).decode(errors="replace")
            self.log.write_text(logs)
            raise SandboxError(f"dockerd 26 did not start in its container; its log ends:\n{logs[-1500:]}")
        finally:
            api.close()

    def _remove_container(self, api) -> None:  # type: ignore[no-untyped-def]
        import docker.errors

        try:
            api.remove_container(self.container, force=True)
        except docker.errors.NotFound:
            pass

    def stop(self) -> None:
        if self.outer.running():
            api = self._outer_api()
            try:
                try:
                    api.stop(self.container, timeout=30)
                    self.log.write_bytes(api.logs(self.container))
                except Exception:
                    pass
                self._remove_container(api)
            finally:
                api.close()
        self.pidfile.unlink(missing_ok=True)
        self.outer.stop()


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (which a `kill(pid, 0)` would also find)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def make_engine(kind: str, state: Path) -> HostDockerd | NestedDockerd | SandboxPodman:
    if kind == "podman":
        from imgtui.sandbox.podman import SandboxPodman

        return SandboxPodman(state)
    if kind == "dockerd":
        return HostDockerd(state)
    if kind in ("trixie", "trixie-containerd"):
        return NestedDockerd(state, containerd_store=kind == "trixie-containerd")
    raise SandboxError(f"unknown engine {kind!r}: one of {', '.join(ENGINES)}")
