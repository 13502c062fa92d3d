"""Fixtures: one real sandbox engine + registry per test session, in a fresh state folder.

Nothing here mocks docker-py: every test talks to a real dockerd started by the project itself, and the
user's own engine (/var/run/docker.sock, DOCKER_HOST) is never used.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from imgtui.engine import Engine
from imgtui.sandbox import Sandbox
from imgtui.sandbox.proxy import EngineProxy
from imgtui.sandbox.seed import seed


@pytest.fixture(scope="session", autouse=True)
def _no_user_engine() -> Iterator[None]:
    """Whatever the caller's environment says, tests never reach the user's engine."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("DOCKER_")}
    for key in saved:
        del os.environ[key]
    os.environ["DOCKER_HOST"] = "unix:///nonexistent/imgtui-tests-must-not-use-this.sock"
    yield
    os.environ.pop("DOCKER_HOST", None)
    os.environ.update(saved)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    state = Path(tempfile.mkdtemp(prefix="imgtui-t-", dir="/tmp"))
    box = Sandbox(state)
    try:
        box.start()
        seed(box.docker_host, box.registry)
    except Exception:
        box.destroy()
        raise
    yield box
    box.destroy()


@pytest.fixture(scope="session")
def docker_host(sandbox: Sandbox) -> str:
    return sandbox.docker_host


@pytest.fixture
def engine(docker_host: str) -> Iterator[Engine]:
    eng = Engine.connect(docker_host)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def api(docker_host: str) -> Iterator[docker.APIClient]:
    """A separate client: 'another shell' changing the engine under the app."""
    client = docker.APIClient(base_url=docker_host, version="auto")
    yield client
    client.close()


@pytest.fixture
def docker_cli(sandbox: Sandbox) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real `docker` CLI against the sandbox, as a user in another shell would."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", *args], env=sandbox.env(), capture_output=True, text=True, check=check
        )

    return run


@pytest.fixture
def proxy(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProxy]:
    """A counting proxy in front of the sandbox engine (short path: unix sockets allow ~107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="imgtui-p-", dir="/tmp")) / "p.sock"
    p = EngineProxy(sandbox.socket, path).start()
    yield p
    p.stop()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


async def wait_for(pilot, predicate: Callable[[], object], timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until `predicate()` holds (an engine round trip or event), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate.__doc__ or predicate}")
        await pilot.pause(0.02)
    await asyncio.sleep(0)


@pytest.fixture(scope="session")
def auth_registry(sandbox: Sandbox) -> Iterator[tuple[str, str, str]]:
    """A second real registry (Debian's docker-registry) on 127.0.0.1 with htpasswd basic auth (bcrypt):
    yields (address, user, password)."""
    import shutil
    import socket
    import urllib.error
    import urllib.request
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # libxcrypt makes bcrypt ($2b$), which the registry's htpasswd wants

    user, password = "alice", f"pw-{uuid.uuid4().hex[:10]}"
    folder = Path(tempfile.mkdtemp(prefix="imgtui-auth-", dir="/tmp"))
    (folder / "htpasswd").write_text(f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))}\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (folder / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n"
        f"  filesystem:\n    rootdirectory: {folder / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  htpasswd:\n    realm: imgtui-test\n    path: {folder / 'htpasswd'}\n"
    )
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    proc = subprocess.Popen([binary, "serve", str(folder / "config.yml")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the htpasswd registry did not start")
        time.sleep(0.1)
    yield f"127.0.0.1:{port}", user, password
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(folder, ignore_errors=True)
