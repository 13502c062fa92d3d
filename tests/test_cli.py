"""The `imgtui` command as a user types it."""

from __future__ import annotations

import os
import subprocess
import sys

from imgtui import __version__


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "imgtui", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"imgtui {__version__}"
    help_text = run("--help").stdout
    for words in ("--host", "DOCKER_HOST", "docker context", "python -m imgtui.sandbox demo"):
        assert words in help_text


def test_no_engine_says_so_in_one_clear_line() -> None:
    result = run(env={"DOCKER_HOST": "unix:///tmp/imgtui-nothing-here.sock"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("imgtui: no Docker engine answered at unix:///tmp/imgtui-nothing-here.sock")
    assert "(DOCKER_HOST)" in first


def test_host_flag_wins_over_docker_host() -> None:
    result = run("--host", "tcp://127.0.0.1:9", env={"DOCKER_HOST": "unix:///tmp/elsewhere.sock"})
    assert result.returncode == 2
    assert "tcp://127.0.0.1:9 (--host)" in result.stderr
    assert "Connection refused" in result.stderr


def test_docker_context_is_honoured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With no DOCKER_HOST, the current context of DOCKER_CONFIG's config.json decides (as for the CLI)."""
    import hashlib
    import json

    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"far").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": "far", "Metadata": {}, "Endpoints": {"docker": {"Host": "unix:///tmp/far.sock"}}})
    )
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "far"}))
    result = run(env={"DOCKER_CONFIG": str(tmp_path)})
    assert result.returncode == 2
    assert "unix:///tmp/far.sock (docker context 'far')" in result.stderr


def test_app_starts_and_quits_with_q(docker_host: str) -> None:
    """The real program in a pseudo-terminal: it draws the seeds' images and `q` ends it with exit code 0."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    fd, terminal = pty.openpty()  # not pty.fork: forking a process with threads may deadlock the child
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_HOST=docker_host, TERM="xterm-256color")
    argv = [sys.executable, "-m", "imgtui"]
    proc = subprocess.Popen(
        argv, stdin=terminal, stdout=terminal, stderr=terminal, env=env, start_new_session=True
    )
    os.close(terminal)
    screen = b""
    deadline = time.monotonic() + 30
    while b"commit_test" not in screen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                screen += os.read(fd, 65536)
            except OSError:
                break
    assert b"commit_test" in screen
    os.write(fd, b"q")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                os.read(fd, 65536)
            except OSError:
                pass
    if proc.poll() is None:
        proc.kill()
        raise AssertionError("imgtui did not exit after q")
    os.close(fd)
    assert proc.returncode == 0
