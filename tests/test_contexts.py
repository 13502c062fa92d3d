"""Docker contexts: --context, DOCKER_CONTEXT and the current context of `docker context use`, read from a
temporary DOCKER_CONFIG folder written as the docker CLI writes it, pointing at real engines: the session's
sandbox engine, a second sandbox dockerd with one image of its own, and the session's engine over ssh://.
The picker (`E`) switches the app from one to another in place."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from imgtui.engine import Engine, EngineUnavailable
from imgtui.engine.connection import resolve_endpoint
from imgtui.engine.contexts import ContextError, list_contexts
from imgtui.sandbox import Sandbox
from imgtui.sandbox.seed import busybox_rootfs
from imgtui.sandbox.sshd import SandboxSshd
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.engines import EnginePicker
from tests.conftest import wait_for

ONLY_THERE = "second-engine/only"
"""The one repository of the second engine."""


def make_tls(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA (what
    `dockerd --tlsverify` and a context's TLS material are made of)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def issue(name: str, signer_key: object, issuer: x509.Name | None, extensions: list[tuple[object, bool]]):  # type: ignore[no-untyped-def]
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"imgtui test {name}")])
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
        )  # fmt: skip
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical)  # type: ignore[arg-type]
        cert = builder.sign(signer_key or key, hashes.SHA256())  # type: ignore[arg-type]
        files[f"{name}-cert"] = folder / f"{name}-cert.pem"
        files[f"{name}-key"] = folder / f"{name}-key.pem"
        files[f"{name}-cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files[f"{name}-key"].write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ))  # fmt: skip
        return key, subject

    ca_key, ca_name = issue("ca", None, None, [(x509.BasicConstraints(ca=True, path_length=None), True)])
    ip = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    issue(
        "server",
        ca_key,
        ca_name,
        [(ip, False), (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)],
    )
    issue("client", ca_key, ca_name, [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)])
    return files


@pytest.fixture(scope="module")
def second_engine() -> Iterator[Sandbox]:
    """A second private dockerd (no registry) holding one image, `second-engine/only:here`, on its unix
    socket and on tcp://127.0.0.1:PORT with `--tlsverify` (see `tls_port`)."""
    from imgtui.sandbox.processes import free_port

    box = Sandbox(Path(tempfile.mkdtemp(prefix="imgtui-2nd-", dir="/tmp")), engine="dockerd")
    tls = make_tls(box.state / "tls")
    port = free_port()
    (box.state / "tls" / "port").write_text(str(port))
    box.engine.extra_args = [  # type: ignore[union-attr]
        "--host", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", str(tls["ca-cert"]),
        "--tlscert", str(tls["server-cert"]), "--tlskey", str(tls["server-key"]),
    ]  # fmt: skip
    try:
        box.start(registry=False)
        api = docker.APIClient(base_url=box.docker_host, version="auto")
        api.import_image_from_data(busybox_rootfs(), repository=ONLY_THERE, tag="here")
        api.close()
    except Exception:
        box.destroy()
        raise
    yield box
    box.destroy()


def write_context(
    config: Path,
    name: str,
    host: str,
    description: str = "",
    tls: dict[str, Path] | None = None,
    **endpoint: object,
) -> None:
    """A context as `docker context create` stores it (its TLS material as ca.pem, cert.pem, key.pem)."""
    if tls:
        folder = config / "contexts" / "tls" / hashlib.sha256(name.encode()).hexdigest() / "docker"
        folder.mkdir(parents=True)
        for kept, given in (("ca", "ca-cert"), ("cert", "client-cert"), ("key", "client-key")):
            (folder / f"{kept}.pem").write_bytes(tls[given].read_bytes())
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {"Description": description},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False, **endpoint}},
    }))  # fmt: skip


@pytest.fixture
def docker_config(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    docker_host: str,
    second_engine: Sandbox,
    sshd: SandboxSshd,
) -> Path:
    """DOCKER_CONFIG with contexts `main` (the session's engine), `second`, `over-ssh` (the session's engine
    through the sandbox sshd) and `gone` (a socket nobody listens on); `main` is docker's current one."""
    config = tmp_path / "docker-config"
    write_context(config, "main", docker_host, "the session's sandbox engine")
    write_context(config, "second", second_engine.docker_host, "a second dockerd")
    write_context(config, "over-ssh", sshd.alias, "the session's engine over ssh")
    write_context(config, "gone", "unix:///tmp/imgtui-no-engine-here.sock")
    tls_dir = second_engine.state / "tls"
    tcp = f"tcp://127.0.0.1:{(tls_dir / 'port').read_text()}"
    write_context(config, "second-tls", tcp, "the second dockerd over TLS", tls={
        "ca-cert": tls_dir / "ca-cert.pem", "client-cert": tls_dir / "client-cert.pem",
        "client-key": tls_dir / "client-key.pem",
    })  # fmt: skip
    write_context(config, "second-no-cert", tcp, "the same without TLS material")
    (config / "config.json").write_text(json.dumps({"currentContext": "main"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("IMGTUI_SSH_COMMAND", sshd.ssh_command)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return config


def repositories(engine: Engine) -> set[str]:
    return {name.rsplit(":", 1)[0] for image in engine.list_images() for name in image.names}


def test_which_context_decides_as_for_the_docker_cli(docker_config: Path, docker_host: str) -> None:
    """--context, then --host, DOCKER_HOST, DOCKER_CONTEXT, config.json's currentContext."""
    env = dict(os.environ)
    assert resolve_endpoint(environ=env).base_url == docker_host  # currentContext: main
    assert resolve_endpoint(environ=env).context == "main"
    env["DOCKER_CONTEXT"] = "second"
    assert resolve_endpoint(environ=env).context == "second"
    assert resolve_endpoint(environ=env, context="over-ssh").base_url == "ssh://imgtui-sandbox"
    env["DOCKER_HOST"] = "unix:///tmp/x.sock"
    assert resolve_endpoint(environ=env).base_url == "unix:///tmp/x.sock", "DOCKER_HOST beats DOCKER_CONTEXT"
    assert resolve_endpoint(environ=env, context="main").base_url == docker_host, (
        "--context beats DOCKER_HOST"
    )
    with pytest.raises(ContextError, match="give --host or --context, not both"):
        resolve_endpoint("unix:///tmp/y.sock", environ=env, context="main")
    assert [c.name for c in list_contexts()] == [
        "default", "gone", "main", "over-ssh", "second", "second-no-cert", "second-tls"
    ]  # fmt: skip


def test_a_tls_context_uses_its_tls_material(docker_config: Path) -> None:
    """The context's CA and client certificate (contexts/tls/…/docker/*.pem) reach an engine running with
    --tlsverify; the same endpoint without them is refused, in one sentence."""
    engine = Engine.connect(context="second-tls")
    try:
        assert repositories(engine) == {ONLY_THERE}
        assert engine.info.host.startswith("tcp://127.0.0.1:")
    finally:
        engine.close()
    with pytest.raises(EngineUnavailable) as refused:
        Engine.connect(context="second-no-cert", timeout=10)
    assert str(refused.value).startswith("no Docker engine answered at tcp://127.0.0.1:")
    assert str(refused.value).endswith(
        "(docker context 'second-no-cert'): the address answered HTTP 400 Bad Request: "
        "Client sent an HTTP request to an HTTPS server."
    )


@pytest.mark.parametrize("how", ["--context", "DOCKER_CONTEXT", "current"])
def test_each_way_of_naming_a_context_reaches_its_engine(
    docker_config: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "DOCKER_CONTEXT":
        monkeypatch.setenv("DOCKER_CONTEXT", "second")
    elif how == "current":
        (docker_config / "config.json").write_text(json.dumps({"currentContext": "second"}))
    engine = Engine.connect(context="second" if how == "--context" else None)
    try:
        assert repositories(engine) == {ONLY_THERE}
        assert engine.endpoint is not None and engine.endpoint.label.startswith("context second (unix://")
    finally:
        engine.close()


def test_a_context_over_ssh(docker_config: Path, docker_host: str) -> None:
    engine = Engine.connect(context="over-ssh", timeout=20)
    local = Engine.connect(docker_host)
    try:
        assert repositories(engine) == repositories(local)
        assert "commit_test" in repositories(engine)
    finally:
        engine.close()
        local.close()


def run_imgtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "imgtui", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip


@pytest.mark.parametrize(
    "args, said",
    [
        (("--context", "nope"), "imgtui: there is no docker context 'nope' (in "),
        (("--context", "main", "--host", "unix:///tmp/a.sock"), "imgtui: give --host or --context, not both"),
        (("--context", "gone"), "imgtui: no Docker engine answered at unix:///tmp/imgtui-no-engine-here.sock "
                                "(docker context 'gone'): connection failed: No such file or directory"),
    ],
)  # fmt: skip
def test_a_wrong_context_is_one_sentence(docker_config: Path, args: tuple[str, ...], said: str) -> None:
    result = run_imgtui(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(said), line


class NotedApp(ImgtuiApp):
    """The app, keeping every notification it gave."""

    CSS_PATH = str(Path(sys.modules[ImgtuiApp.__module__].__file__ or "").parent / "app.tcss")

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.said: list[str] = []

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.said.append(f"{kwargs.get('title', '')}: {message}")
        super().notify(message, **kwargs)


def status(app: ImgtuiApp) -> str:
    return str(app.images.status.content)


async def pick(pilot, app: ImgtuiApp, name: str) -> None:  # type: ignore[no-untyped-def]
    """Open the picker with E and choose `name` with the cursor keys and enter, as a user would."""
    await pilot.press("E")
    await wait_for(pilot, lambda: isinstance(app.screen, EnginePicker))
    picker = app.screen
    assert isinstance(picker, EnginePicker)
    names = [c.name for c in picker.found]
    options = picker.query_one("#engine-list")
    steps = names.index(name) - (options.highlighted or 0)  # type: ignore[attr-defined]
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")


async def test_the_picker_switches_engine_in_place(docker_config: Path, docker_cli, unique: str) -> None:  # type: ignore[no-untyped-def]
    """E lists the contexts (the one in use and docker's current marked); choosing one re-reads every pane
    from its engine, the status line names it, and that engine's events follow; a context whose engine
    does not answer is one sentence and the view stays where it was."""
    engine = Engine.connect(context="main")
    app = NotedApp(engine)
    names = lambda: {r.name for r in app.images.repos.items}  # noqa: E731
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.images.loaded)
            assert status(app).startswith("● context main (unix://")
            assert "commit_test" in names()
            await pilot.press("E")
            await wait_for(pilot, lambda: isinstance(app.screen, EnginePicker))
            shown = app.screen.shown_text  # type: ignore[attr-defined]
            assert "In use: context main (unix://" in shown
            assert "● main *  unix://" in shown and "  second  unix://" in shown
            assert "  over-ssh  ssh://imgtui-sandbox  the session's engine over ssh" in shown
            await pilot.press("escape")

            await pick(pilot, app, "second")
            await wait_for(pilot, lambda: app.engine is not engine and app.images.loaded, timeout=20)
            assert names() == {ONLY_THERE}
            assert status(app).startswith("● context second (unix://")

            second = Engine.connect(context="second")
            second.tag(second.inspect_image(f"{ONLY_THERE}:here").id, f"{ONLY_THERE}-{unique}:1")  # type: ignore[union-attr]
            second.close()
            await wait_for(pilot, lambda: f"{ONLY_THERE}-{unique}" in names(), timeout=10)

            await pick(pilot, app, "over-ssh")
            await wait_for(pilot, lambda: "commit_test" in names(), timeout=30)
            assert status(app).startswith("● context over-ssh (ssh://imgtui-sandbox)")

            before = app.engine
            await pick(pilot, app, "gone")
            gone = (
                "no Docker engine answered at unix:///tmp/imgtui-no-engine-here.sock (docker context 'gone')"
            )
            await wait_for(pilot, lambda: any(gone in said for said in app.said), timeout=10)
            assert app.engine is before and app.images.connected and "commit_test" in names()
            assert status(app).startswith("● context over-ssh")
    finally:
        app.engine.close()
        engine.close()


def test_imgtui_clean_takes_a_context(docker_config: Path) -> None:
    """`imgtui clean --context second` plans on the second engine (its only image is kept: newest 1)."""
    result = run_imgtui("clean", "--context", "second", "--keep", "1", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["engine"].startswith("unix://") and "imgtui-2nd-" in plan["engine"], plan
