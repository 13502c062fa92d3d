"""ssh:// engines, reached the way the docker CLI reaches them: `ssh [-l USER] [-p PORT] -- HOST docker system
dial-stdio`, one ssh process per HTTP connection, with the user's own ssh client and so the user's keys (agent
or ~/.ssh) and ~/.ssh/config (HostName, Port, User, IdentityFile, ProxyJump, ...).

docker-py's own ssh transport does not do for this: `docker.utils.parse_host` writes port 22 into every
ssh:// address without one, which its shell-out transport passes on as `ssh -p 22` and its paramiko
transport as the port to connect to, so a `Host` alias of ~/.ssh/config with a Port of its own is never
reached on that port (and paramiko knows no ProxyJump). Its shell-out socket also lets ssh write on the
terminal (under the TUI) and has no read timeout. Here, ssh runs on one end of a socket pair, so timeouts
are the socket's own, and what ssh says on stderr is kept: a failure becomes one sentence naming the host
and ssh's reason.

The adapter is mounted on the docker-py client with requests' public `Session.mount`; the pool and
connection classes are urllib3's public `HTTPConnectionPool.ConnectionCls` extension point. paramiko
(docker-py's `ssh` extra) is not needed.
"""

from __future__ import annotations

import errno
import math
import os
import shlex
import socket
import subprocess
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests.adapters
import urllib3.connection
import urllib3.connectionpool

SSH_COMMAND_VARIABLE = "IMGTUI_SSH_COMMAND"
"""The ssh client to run, as a shell would split it (default `ssh`); e.g. `ssh -F ~/.ssh/servers_config`."""
EXIT_WAIT = 5.0
"""Seconds to wait for ssh to exit once its end of the connection closed, to read why it did."""
KILL_AFTER = 5.0
"""Seconds an ssh process may live on after its connection was closed (it normally ends at once)."""
SERVER_ALIVE = 10
"""ssh asks the server every this many seconds whether it is still there; three unanswered asks end the
connection, so that a link that silently died (no reset) ends the event stream instead of hanging it."""


class SSHError(OSError):
    """ssh failed: the message names the host and gives ssh's own reason."""

    def __init__(self, text: str) -> None:
        super().__init__(errno.ECONNABORTED, text)

    def __str__(self) -> str:
        return str(self.strerror)


class SSHTimeout(SSHError, TimeoutError):
    """No answer through ssh within the timeout."""


@dataclass(frozen=True)
class SSHTarget:
    """`ssh://[user@]host[:port]`: only what the address gives is passed to ssh; the rest is ssh's config."""

    url: str
    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> SSHTarget:
        parts = urlsplit(url)
        wrong = SSHError(f"{url} is not an ssh address of the form ssh://[user@]host[:port]")
        if parts.scheme != "ssh" or not parts.hostname or parts.password or parts.query or parts.fragment:
            raise wrong
        if parts.path not in ("", "/"):
            raise SSHError(f"{url}: an ssh:// address takes no path (the far side's docker finds its engine)")
        try:
            port = parts.port
        except ValueError as exc:
            raise wrong from exc
        return cls(url, parts.hostname, parts.username, port)

    @property
    def name(self) -> str:
        """The host as the user wrote it (`user@alias:port`), for messages."""
        return urlsplit(self.url).netloc

    def command(self, connect_timeout: float) -> list[str]:
        """The ssh command line, as the docker CLI builds it (-l and -p only when the address has them, so
        that ~/.ssh/config decides the rest), in batch mode: a password or passphrase prompt would draw
        over the TUI, so keys come from the agent or unencrypted key files."""
        try:
            args = shlex.split(os.environ.get(SSH_COMMAND_VARIABLE) or "ssh")
        except ValueError as exc:
            raise SSHError(f"{SSH_COMMAND_VARIABLE} cannot be split as a shell would: {exc}") from exc
        if not args:
            raise SSHError(f"{SSH_COMMAND_VARIABLE} is blank: set it to an ssh command, or unset it")
        # ssh's own ConnectTimeout a second past the socket's: the socket's timeout ends a silent connection
        # first, at the time the user gave, in the same words whatever ssh was waiting for.
        args += ["-T", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={math.ceil(connect_timeout) + 1}",
                 "-o", f"ServerAliveInterval={SERVER_ALIVE}", "-o", "ServerAliveCountMax=3"]  # fmt: skip
        if self.user:
            args += ["-l", self.user]
        if self.port is not None:
            args += ["-p", str(self.port)]
        return [*args, "--", self.host, "docker", "system", "dial-stdio"]


class _Process:
    """One ssh process, its stdin and stdout on a socket pair; its stderr kept (the last lines)."""

    def __init__(self, target: SSHTarget, args: list[str], theirs: socket.socket) -> None:
        self.target = target
        self.lines: deque[str] = deque(maxlen=40)
        self._ended = threading.Event()
        try:
            self.proc = subprocess.Popen(
                args,
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise SSHError(f"ssh to {target.name}: could not run {args[0]}: {exc.strerror or exc}") from exc
        threading.Thread(target=self._drain, name="imgtui-ssh", daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").strip()
            if line:
                self.lines.append(line)
        self.proc.wait()
        self._ended.set()

    def exit_code(self, wait: float) -> int | None:
        """ssh's exit status once it ended (and its stderr was read), or None if it still runs."""
        self._ended.wait(wait)
        return self.proc.returncode if self._ended.is_set() else None

    def stop_later(self) -> None:
        """The connection was closed: ssh ends on its own (end of input); if not, it is stopped."""
        if self._ended.is_set():
            return
        timer = threading.Timer(KILL_AFTER, self._kill)
        timer.daemon = True
        timer.start()

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def reason(self, code: int) -> str:
        """What ssh (or the far side) said, in one line."""
        return failure_reason(list(self.lines), code)


def failure_reason(lines: list[str], code: int) -> str:
    """ssh's reason for failing, from what it wrote on stderr: the line saying why, without the warning
    banners (a changed host key comes with 20 lines of them)."""
    said = [
        line.removeprefix("ssh: ").rstrip(".")
        for line in lines
        if not line.startswith(
            ("@", "Warning: Permanently added", "Pseudo-terminal", "Connection to UNKNOWN")
        )
    ]
    changed = next((line for line in said if "you have requested strict checking" in line), None)
    if changed is not None:
        return f"{changed} (Host key verification failed: the host's key is not the one in known_hosts)"
    if code == 127 or any(line.endswith(("docker: not found", "docker: command not found")) for line in said):
        return f"the far side has no docker command ({said[-1] if said else f'exit status {code}'})"
    if said:
        return said[-1]
    return f"ssh ended with exit status {code}"


class SSHSocket(socket.socket):
    """Our end of the socket pair: a real socket (timeouts and select work as for TCP), whose end of input
    or broken pipe, when ssh failed, raises SSHError with ssh's reason instead."""

    process: _Process | None = None
    received = False

    def _ssh_failed(self) -> None:
        process = self.process
        if process is None:
            return
        code = process.exit_code(EXIT_WAIT)
        if code:  # 0: the far side closed the connection as it may; None: ssh still runs
            raise SSHError(f"ssh to {process.target.name} failed: {process.reason(code)}")

    def _timed_out(self) -> SSHTimeout:
        process = self.process
        name = process.target.name if process is not None else "?"
        timeout = self.gettimeout()
        within = f" in {timeout:g} s" if timeout else ""
        if self.received:
            return SSHTimeout(f"ssh to {name}: the engine did not answer{within}")
        said = f" (ssh said: {process.lines[-1]})" if process is not None and process.lines else ""
        return SSHTimeout(f"ssh to {name}: no answer{within}{said}")

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        try:
            count = super().recv_into(buffer, nbytes, flags)
        except TimeoutError as exc:
            raise self._timed_out() from exc
        except ConnectionResetError:  # ssh ended before reading what was sent
            self._ssh_failed()
            raise
        if count == 0:
            self._ssh_failed()
        else:
            self.received = True
        return count

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        try:
            data = super().recv(bufsize, flags)
        except TimeoutError as exc:
            raise self._timed_out() from exc
        except ConnectionResetError:  # ssh ended before reading what was sent
            self._ssh_failed()
            raise
        if not data:
            self._ssh_failed()
        else:
            self.received = True
        return data

    def sendall(self, data: Any, flags: int = 0) -> None:
        try:
            super().sendall(data, flags)
        except (BrokenPipeError, ConnectionResetError):
            self._ssh_failed()
            raise

    def send(self, data: Any, flags: int = 0) -> int:
        try:
            return super().send(data, flags)
        except (BrokenPipeError, ConnectionResetError):
            self._ssh_failed()
            raise

    def makefile(self, *args: Any, **kwargs: Any) -> Any:
        """docker-py finds a raw stream's socket as `.channel` of the file when its base URL is ssh's (not
        the case here, see `attach`; kept so that either way finds this socket)."""
        file = super().makefile(*args, **kwargs)
        file.channel = self
        return file

    def close(self) -> None:
        super().close()
        if self.process is not None and self.fileno() == -1:
            self.process.stop_later()


def open_socket(target: SSHTarget, connect_timeout: float) -> SSHSocket:
    """Start `ssh … docker system dial-stdio` on one end of a socket pair; return the other end."""
    ours, theirs = socket.socketpair()
    try:
        process = _Process(target, target.command(connect_timeout), theirs)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    sock = SSHSocket(ours.family, ours.type, fileno=ours.detach())
    sock.process = process
    return sock


class SSHConnection(urllib3.connection.HTTPConnection):
    def __init__(self, *args: Any, target: SSHTarget, connect_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.target = target
        self.connect_timeout = connect_timeout

    def connect(self) -> None:
        sock = open_socket(self.target, self.connect_timeout)
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
        sock.settimeout(timeout)
        self.sock = sock


class SSHConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = SSHConnection  # type: ignore[assignment]


class SSHAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter for every URL of one docker-py client: HTTP over `ssh … dial-stdio`."""

    def __init__(self, target: SSHTarget, timeout: float | None, max_pool_size: int = 10) -> None:
        super().__init__()
        self.target = target
        self.pool = SSHConnectionPool(
            "localhost", timeout=timeout, maxsize=max_pool_size, target=target,
            connect_timeout=timeout or 30.0,
        )  # fmt: skip

    def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None,
                                        cert: Any = None) -> Any:  # fmt: skip
        return self.pool

    def get_connection(self, url: Any, proxies: Any = None) -> Any:
        return self.pool

    def request_url(self, request: Any, proxies: Any) -> str:
        return str(request.path_url)

    def close(self) -> None:
        super().close()
        self.pool.close()


PLACEHOLDER_SOCKET = "unix:///nonexistent/imgtui-requests-go-through-ssh.sock"
"""The address a docker-py client for an ssh:// engine is made with (see `attach`)."""


def attach(api: Any, target: SSHTarget, timeout: float | None) -> None:
    """Route every request of docker-py client `api` through ssh to `target`: the adapter is mounted on the
    client's own base URL (requests picks the longest prefix), so it answers every request the client
    makes; docker-py reads a raw stream's socket from `response.raw._fp.fp.raw`, which is ours."""
    api.mount(api.base_url, SSHAdapter(target, timeout))
