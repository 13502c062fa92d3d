"""An sshd on 127.0.0.1 in front of a sandbox engine, for engines reached over ssh:// (tests, demos).

Everything lives under `STATE/ssh`: a throwaway host key and user key, the server's own sshd_config (its
`SetEnv DOCKER_HOST=…` makes the far side's `docker system dial-stdio` reach the sandbox engine), and a
client config for `ssh -F` (imgtui reads it through IMGTUI_SSH_COMMAND) with `Host` aliases. The user's
~/.ssh is never read or written: the client config names its own key and known_hosts file.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from imgtui.sandbox.install import SandboxError
from imgtui.sandbox.processes import free_port, pid_alive, read_number

ALIAS = "imgtui-sandbox"
"""A Host alias of the client config: HostName 127.0.0.1, the sandbox's Port, User root, its IdentityFile."""
JUMP_ALIAS = "imgtui-sandbox-jump"
"""The same server reached through ALIAS with ProxyJump."""
WRONG_PORT_ALIAS = "imgtui-sandbox-nobody"
"""A Host alias whose port nobody listens on (a wrong host)."""
REFUSED_KEY_ALIAS = "imgtui-sandbox-refused"
"""The server, with a key it does not accept."""
AGENT_ALIAS = "imgtui-sandbox-agent"
"""The server, with the user key from an ssh-agent only ($SSH_AUTH_SOCK; the config names the public half)."""
CHANGED_KEY_ALIAS = "imgtui-sandbox-changed"
"""The server, with a known_hosts file that has another key for it (a host key mismatch)."""


def _sshd() -> str:
    found = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
    if found is None:
        raise SandboxError("no sshd: apt-get install openssh-server (scripts/install does)")
    return found


class SandboxSshd:
    """sshd on 127.0.0.1:PORT (kept across restarts) letting root in with the sandbox's user key only."""

    def __init__(self, state: Path, docker_host: str) -> None:
        self.dir = Path(state).absolute() / "ssh"
        self.docker_host = docker_host
        self.host_key = self.dir / "host_ed25519"
        self.user_key = self.dir / "user_ed25519"
        self.other_key = self.dir / "other_ed25519"
        """A key the server does not accept (for a refused key)."""
        self.authorized_keys = self.dir / "authorized_keys"
        self.known_hosts = self.dir / "known_hosts"
        self.wrong_known_hosts = self.dir / "known_hosts.wrong"
        self.server_config = self.dir / "sshd_config"
        self.client_config = self.dir / "ssh_config"
        self.pidfile = self.dir / "sshd.pid"
        self.portfile = self.dir / "sshd.port"
        self.log = self.dir / "sshd.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        port = read_number(self.portfile)
        if port is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            port = free_port()
            self.portfile.write_text(f"{port}\n")
        return port

    @property
    def address(self) -> str:
        """The ssh:// address by IP and port (no config needed but the key and known_hosts)."""
        return f"ssh://root@127.0.0.1:{self.port}"

    @property
    def alias(self) -> str:
        return f"ssh://{ALIAS}"

    @property
    def ssh_command(self) -> str:
        """IMGTUI_SSH_COMMAND for a client that should use this sandbox's config and nothing of ~/.ssh."""
        return f"ssh -F {self.client_config}"

    def env(self) -> dict[str, str]:
        """The environment for imgtui (or `ssh`) reaching this sshd: its ssh config, no agent."""
        env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK", "SSH_AGENT_PID")}
        env["IMGTUI_SSH_COMMAND"] = self.ssh_command
        return env

    # -- files ------------------------------------------------------------------------------------------
    def _keygen(self, path: Path, comment: str) -> None:
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                           check=True, capture_output=True)  # fmt: skip

    def _write_files(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        self._keygen(self.host_key, "imgtui sandbox host key")
        self._keygen(self.user_key, "imgtui sandbox user key")
        self._keygen(self.other_key, "imgtui sandbox key the server refuses")
        self.authorized_keys.write_text(Path(f"{self.user_key}.pub").read_text())
        host_public = Path(f"{self.host_key}.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_public[0]} {host_public[1]}\n")
        other = Path(f"{self.other_key}.pub").read_text().split()
        self.wrong_known_hosts.write_text(f"[127.0.0.1]:{self.port} {other[0]} {other[1]}\n")
        self.server_config.write_text(
            f"ListenAddress 127.0.0.1:{self.port}\n"
            f"HostKey {self.host_key}\n"
            f"PidFile {self.pidfile}\n"
            f"AuthorizedKeysFile {self.authorized_keys}\n"
            "StrictModes no\n"  # the files are under /tmp, which is world-writable
            "UsePAM no\n"
            "PermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "AllowTcpForwarding yes\n"  # for ProxyJump (ssh -W) through this server
            "X11Forwarding no\n"
            "PrintMotd no\n"
            "LogLevel VERBOSE\n"
            f"SetEnv DOCKER_HOST={self.docker_host}\n"
        )
        # Every name used is a Host block here: ssh never looks a name up in DNS (traffic to loopback only).
        # IdentityFile adds up over the blocks that match, so each block names its own key.
        common = f"    HostName 127.0.0.1\n    User root\n    Port {self.port}\n"
        key = f"    IdentityFile {self.user_key}\n"
        self.client_config.write_text(
            f"Host {ALIAS}\n{common}{key}\n"
            f"Host {JUMP_ALIAS}\n{common}{key}    ProxyJump {ALIAS}\n\n"
            f"Host {WRONG_PORT_ALIAS}\n    HostName 127.0.0.1\n    Port {self._closed_port()}\n{key}\n"
            f"Host {REFUSED_KEY_ALIAS}\n{common}    IdentityFile {self.other_key}\n\n"
            f"Host {AGENT_ALIAS}\n{common}    IdentityFile {self.user_key}.pub\n"
            "    IdentityAgent SSH_AUTH_SOCK\n\n"
            f"Host {CHANGED_KEY_ALIAS}\n{common}{key}    UserKnownHostsFile {self.wrong_known_hosts}\n\n"
            f"Host 127.0.0.1\n{key}\n"
            "Host *\n"
            "    IdentitiesOnly yes\n"
            "    IdentityAgent none\n"
            f"    UserKnownHostsFile {self.known_hosts}\n"
            "    GlobalKnownHostsFile /dev/null\n"
            "    StrictHostKeyChecking yes\n"
            "    ControlMaster no\n"
            "    ControlPath none\n"
        )

    def _closed_port(self) -> int:
        """A loopback port nobody listens on (chosen once, kept in the state folder)."""
        path = self.dir / "closed.port"
        port = read_number(path)
        if port is None:
            port = free_port()
            path.write_text(f"{port}\n")
        return port

    # -- processes --------------------------------------------------------------------------------------
    def running(self) -> bool:
        pid = read_number(self.pidfile)
        return pid is not None and pid_alive(pid, str(self.server_config)) and self.answers()

    def answers(self) -> bool:
        """Something on the port says `SSH-2.0-…`."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                return sock.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    def start(self, timeout: float = 20.0) -> None:
        self._write_files()  # the client config too, so that it names the aliases even with sshd running
        if self.running():
            return
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        self.pidfile.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [_sshd(), "-D", "-e", "-f", str(self.server_config)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if self.answers():
                self.pidfile.write_text(f"{self.process.pid}\n")
                return
            time.sleep(0.02)
        tail = self.log.read_text(errors="replace")[-1500:]
        raise SandboxError(f"sshd did not start; the end of {self.log}:\n{tail}")

    def _processes(self) -> list[int]:
        """sshd and every process under it (its sessions and their `docker system dial-stdio`)."""
        pid = read_number(self.pidfile)
        if pid is None or not pid_alive(pid, str(self.server_config)):
            return []
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[-1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
        found, todo = [], [pid]
        while todo:
            current = todo.pop()
            found.append(current)
            todo += children.get(current, [])
        return found

    def kill(self) -> None:
        """Kill sshd and its sessions at once (SIGKILL), as a crash or reboot of the server would."""
        for pid in self._processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process is not None:
            self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while self.answers():
            if time.monotonic() > deadline:
                raise SandboxError(f"sshd still answers on 127.0.0.1:{self.port} after SIGKILL")
            time.sleep(0.02)
        self.pidfile.unlink(missing_ok=True)

    def stop(self) -> None:
        """SIGTERM to sshd and its sessions; SIGKILL to what still runs 10 s later."""
        pids = self._processes()
        for pid in reversed(pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
            if self.process is not None:
                self.process.poll()  # reaps it once it ended
            time.sleep(0.02)
        if time.monotonic() >= deadline:
            self.kill()
        self.pidfile.unlink(missing_ok=True)
