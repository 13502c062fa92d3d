"""Fixtures: one real sandbox engine + registry per test session, in a fresh state folder.

Nothing here mocks docker-py: every test talks to a real dockerd started by the project itself, and the
user's own engine (/var/run/docker.sock, DOCKER_HOST) is never used.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from imgtui.engine import Engine
from imgtui.sandbox import ENGINES, Sandbox
from imgtui.sandbox.proxy import EngineProxy
from imgtui.sandbox.seed import seed
from imgtui.sandbox.sshd import SandboxSshd
from imgtui.ui.app import ImgtuiApp
from tests.fault_proxy import FaultProxy
from tests.registries import (
    DOCKER_LIST,
    DOCKER_V2,
    OCI_INDEX,
    OCI_MANIFEST,
    Raw,
    make_cert,
    push,
    run_registry,
)
from tests.token_server import TokenServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        default=os.environ.get("IMGTUI_TEST_ENGINE", "dockerd"),
        choices=list(ENGINES),
        help="the sandbox engine the tests run on: "
        + "; ".join(f"{name}: {what}" for name, what in ENGINES.items()),
    )


def pytest_configure(config: pytest.Config) -> None:
    """`pytest -m podman` runs the engine tests on Podman without naming the engine as well."""
    if "podman" in (config.option.markexpr or "") and "not podman" not in config.option.markexpr:
        if not any(arg.startswith("--engine") for arg in config.invocation_params.args):
            config.option.engine = "podman"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that reach the sandbox engine are marked `engine`: `pytest -m "not engine"` runs the rest; on
    Podman (`--engine podman`) they are marked `podman` too."""
    podman = config.getoption("--engine") == "podman"
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engine)
            if podman:
                item.add_marker(pytest.mark.podman)


@pytest.fixture(scope="session", autouse=True)
def _no_user_engine() -> Iterator[None]:
    """Whatever the caller's environment says, tests never reach the user's engine."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("DOCKER_")}
    for key in saved:
        del os.environ[key]
    os.environ["DOCKER_HOST"] = "unix:///nonexistent/imgtui-tests-must-not-use-this.sock"
    # Last-used times and cleanup locks (imgtui/cleanup/state.py) go to a folder of the session's own.
    state_was = os.environ.get("IMGTUI_STATE")
    os.environ["IMGTUI_STATE"] = tempfile.mkdtemp(prefix="imgtui-state-", dir="/tmp")
    yield
    if state_was is None:
        os.environ.pop("IMGTUI_STATE", None)
    else:
        os.environ["IMGTUI_STATE"] = state_was
    os.environ.pop("DOCKER_HOST", None)
    os.environ.update(saved)


@pytest.fixture(scope="session")
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    state = Path(tempfile.mkdtemp(prefix="imgtui-t-", dir="/tmp"))
    box = Sandbox(state, engine=request.config.getoption("--engine"))
    try:
        box.start()
        seed(box.docker_host, box.registry, fill=False)
    except Exception:
        box.destroy()
        raise
    yield box
    box.destroy()


@pytest.fixture(scope="session")
def sshd(sandbox: Sandbox) -> SandboxSshd:
    """An sshd on 127.0.0.1 in front of the session's engine (stopped with the sandbox)."""
    sandbox.start_sshd()
    return sandbox.sshd


@pytest.fixture
def ssh_env(sshd: SandboxSshd, monkeypatch: pytest.MonkeyPatch) -> SandboxSshd:
    """imgtui's ssh runs with the sandbox's ssh config (its key, known_hosts and aliases), no agent: the
    user's ~/.ssh is never read. A test that kills sshd starts it again."""
    monkeypatch.setenv("IMGTUI_SSH_COMMAND", sshd.ssh_command)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return sshd


@pytest.fixture(scope="session")
def docker_host(sandbox: Sandbox) -> str:
    return sandbox.docker_host


@pytest.fixture(scope="session")
def on_podman(sandbox: Sandbox) -> bool:
    """The sandbox engine is Podman (`--engine podman`)."""
    return sandbox.engine_kind == "podman"


def lacks_on_podman(sandbox: Sandbox, what: str) -> None:
    """Skip, saying what Podman's Docker-compatible API lacks that the test needs."""
    if sandbox.engine_kind == "podman":
        pytest.skip(f"Podman (4.3, its Docker-compatible API) lacks {what}")


@pytest.fixture(scope="session")
def store(docker_host: str) -> str:
    """The sandbox engine's image store: `classic` or `containerd`, or `podman` for Podman's."""
    engine = Engine.connect(docker_host)
    engine.close()
    return "podman" if engine.info.podman else engine.info.store


SMALL_FILE_SNAPSHOT = 8192
"""What the containerd store's history gives as the size of a layer that adds one small file (a few bytes):
the disk its snapshot uses, two 4 KiB blocks on ext4 (measured on dockerd 26.1)."""


PODMAN_FIRST_COMMIT = 6656
"""A first commit on busybox, on Podman, of one file of up to 512 bytes: the file and the runtime's files
(PODMAN_RUNTIME_FILES) as a tar."""
PODMAN_LAYERS = {3: PODMAN_FIRST_COMMIT, 12: PODMAN_FIRST_COMMIT, 13: 2048}
"""What Podman's history gives as the size of the layers the tests commit (3, 12 and 13 bytes in one file):
the size of the layer's diff as a tar (512-byte headers and blocks, 1 KiB of end); a first commit on busybox
(3 and 12 bytes) holds the files Podman's runtime wrote into the container besides (measured on Podman
4.3.1, overlay)."""


PODMAN_COMMAND = "/bin/sh"
"""What Podman's commit writes as a layer's command in the history, whatever the container ran (buildah's
default: the shell; the layer's comment says `FROM` the image it was made on). Measured on Podman 4.3.1."""


PODMAN_RUNTIME_FILES = {"/etc/hostname": 0, "/etc/hosts": 0, "/run/.containerenv": 0}
"""The empty files Podman's runtime writes into a container made from an image without them (busybox): its
commit's layer holds them besides what the command wrote (Podman 4.3.1)."""


def layer_size(store: str, content: int) -> int:
    """The history size of a layer adding one file of `content` bytes, on this store."""
    if store == "podman":
        return PODMAN_LAYERS[content]
    return content if store == "classic" else SMALL_FILE_SNAPSHOT


def layer_size_text(store: str, content: int) -> str:
    if store == "podman":
        return f"{PODMAN_LAYERS[content] / 1000:.2f} kB"
    return f"{content} B" if store == "classic" else "8.19 kB"


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
def app(docker_host: str) -> Iterator[ImgtuiApp]:
    """The app on the sandbox engine, following its events."""
    engine = Engine.connect(docker_host)
    yield ImgtuiApp(engine)
    engine.close()


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
    import bcrypt  # the registry's htpasswd wants bcrypt ($2b$); the stdlib's crypt is gone in 3.13

    user, password = "alice", f"pw-{uuid.uuid4().hex[:10]}"
    folder = Path(tempfile.mkdtemp(prefix="imgtui-auth-", dir="/tmp"))
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    (folder / "htpasswd").write_text(f"{user}:{hashed}\n")
    auth = f"  htpasswd:\n    realm: imgtui-test\n    path: {folder / 'htpasswd'}\n"
    running = run_registry(folder, auth=auth)
    yield running.address, user, password
    running.stop()


@dataclass
class Filled:
    """A fresh registry with deletion enabled, filled once per session (see `filled_registry`)."""

    address: str
    repositories: list[str]
    docker_digest: str
    """kinds:docker (busybox as Docker v2 schema 2)"""
    second_digest: str
    """kinds:second (commit_test:second: three layers, two commit messages)"""
    oci_digest: str
    list_digest: str
    index_digest: str
    twins_digest: str
    """twins:a and twins:b point at it; twins:other does not"""


@pytest.fixture(scope="session")
def filled_registry(sandbox: Sandbox, api: docker.APIClient) -> Iterator[Filled]:
    """Several repositories; `many` with 12 tags; two tags on one digest; every manifest kind: Docker v2
    (pushed by the engine), OCI image manifest, Docker manifest list and OCI index (written with the API)."""
    running = run_registry(Path(tempfile.mkdtemp(prefix="imgtui-reg-", dir="/tmp")))
    host = running.address
    raw = Raw(host)
    for repo in ("alpha", "beta/one", "beta/two", "gamma"):
        push(api, "busybox:latest", f"{host}/{repo}:latest")
    push(api, "busybox:latest", f"{host}/kinds:docker")
    push(api, "commit_test:second", f"{host}/kinds:second")
    docker_digest, docker_raw = raw.get_manifest("kinds", "docker")
    second_digest, second_raw = raw.get_manifest("kinds", "second")
    oci_digest, oci_size = raw.oci_copy("kinds", "docker", "oci")
    oci_second, oci_second_size = raw.oci_copy("kinds", "second", "oci-second")
    list_digest = raw.index("kinds", "list", DOCKER_LIST, [
        (docker_digest, DOCKER_V2, len(docker_raw), "linux/amd64"),
        (second_digest, DOCKER_V2, len(second_raw), "linux/arm64"),
    ])  # fmt: skip
    index_digest = raw.index("kinds", "index", OCI_INDEX, [
        (oci_digest, OCI_MANIFEST, oci_size, "linux/amd64"),
        (oci_second, OCI_MANIFEST, oci_second_size, "linux/arm64"),
    ])  # fmt: skip
    push(api, "commit_test:second", f"{host}/twins:a")
    twins_digest, twins_raw = raw.get_manifest("twins", "a")
    raw.put_manifest("twins", "b", DOCKER_V2, __import__("json").loads(twins_raw))
    push(api, "busybox:latest", f"{host}/twins:other")
    push(api, "busybox:latest", f"{host}/many:t00")
    _, many_raw = raw.get_manifest("many", "t00")
    for n in range(1, 12):
        raw.put_manifest("many", f"t{n:02d}", DOCKER_V2, __import__("json").loads(many_raw))
    yield Filled(
        host,
        sorted(["alpha", "beta/one", "beta/two", "gamma", "kinds", "twins", "many"]),
        docker_digest,
        second_digest,
        oci_digest,
        list_digest,
        index_digest,
        twins_digest,
    )
    running.stop()


@pytest.fixture(scope="session")
def wide_registry(sandbox: Sandbox, api: docker.APIClient) -> Iterator[str]:
    """A real registry with 60 repositories (wide-00 … wide-59), for reading the catalog lazily."""
    running = run_registry(Path(tempfile.mkdtemp(prefix="imgtui-wide-", dir="/tmp")))
    push(api, "busybox:latest", f"{running.address}/wide-00:latest")
    raw = Raw(running.address)
    for n in range(1, 60):
        raw.copy("wide-00", "latest", f"wide-{n:02d}", "latest")
    yield running.address
    running.stop()


@pytest.fixture(scope="session")
def nodelete_registry(sandbox: Sandbox, api: docker.APIClient) -> Iterator[str]:
    """A real registry with storage.delete.enabled: false, holding `keep:me`."""
    running = run_registry(Path(tempfile.mkdtemp(prefix="imgtui-nodel-", dir="/tmp")), delete=False)
    push(api, "busybox:latest", f"{running.address}/keep:me")
    yield running.address
    running.stop()


@pytest.fixture(scope="session")
def token_registry(sandbox: Sandbox, api: docker.APIClient) -> Iterator[tuple[str, str, str, TokenServer]]:
    """A real registry with `auth: token`, trusting tokens from tests/token_server.py; holds `secret/app:1`.
    Yields (address, user, password, token server)."""
    folder = Path(tempfile.mkdtemp(prefix="imgtui-tok-", dir="/tmp"))
    cert, key = make_cert(folder / "certs")
    user, password = "bob", f"tk-{uuid.uuid4().hex[:10]}"
    tokens = TokenServer(cert, key, user, password)
    running = run_registry(folder / "registry", auth=tokens.registry_auth(cert))
    push(api, "busybox:latest", f"{running.address}/secret/app:1",
         auth_config={"username": user, "password": password})  # fmt: skip
    yield running.address, user, password, tokens
    running.stop()
    tokens.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def tls_registry(sandbox: Sandbox) -> Iterator[tuple[str, Path]]:
    """A real registry serving HTTPS with a self-signed certificate: yields (address, CA file)."""
    folder = Path(tempfile.mkdtemp(prefix="imgtui-tls-", dir="/tmp"))
    cert, key = make_cert(folder / "certs")
    running = run_registry(folder / "registry", tls=(cert, key))
    yield running.address, cert
    running.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def odd_registry() -> Iterator[str]:
    from tests import odd_registry as odd

    server = odd.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def cleanup(api: docker.APIClient) -> Iterator[list[str]]:
    """Names of containers (prefix `c:`) and images to remove after the test, whatever happened."""
    items: list[str] = []
    yield items
    for item in reversed(items):
        try:
            if item.startswith("c:"):
                api.remove_container(item[2:], force=True)
            else:
                api.remove_image(item, force=True)
        except docker.errors.APIError:
            pass


@pytest.fixture
def app_for(docker_host: str) -> Iterator[Callable[[], ImgtuiApp]]:
    engines: list[Engine] = []

    def make() -> ImgtuiApp:
        engines.append(Engine.connect(docker_host))
        return ImgtuiApp(engines[-1])

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def faulty(filled_registry: Filled) -> Iterator[FaultProxy]:
    """A fault proxy (tests/fault_proxy.py) on 127.0.0.1 in front of the session's filled registry: it relays
    every request to the real registry unless a rule added by the test breaks it."""
    proxy = FaultProxy(filled_registry.address)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def retention_registry(sandbox: Sandbox, api: docker.APIClient) -> Iterator[str]:
    """A real registry with deletion enabled for the retention tests (their repositories would change the
    filled registry's catalog, which other tests count): holds `alpha:latest` (busybox, Docker v2)."""
    running = run_registry(Path(tempfile.mkdtemp(prefix="imgtui-ret-", dir="/tmp")))
    push(api, "busybox:latest", f"{running.address}/alpha:latest")
    yield running.address
    running.stop()
