"""ssh:// engines, for real: an sshd on 127.0.0.1 (the sandbox's, imgtui/sandbox/sshd.py) whose sessions run
the far side's `docker system dial-stdio` against the sandbox engine. imgtui's ssh reads the sandbox's own ssh
config (IMGTUI_SSH_COMMAND="ssh -F …"): its Host aliases give HostName 127.0.0.1, Port, User root and
IdentityFile, as a user's ~/.ssh/config would. Every name used is an alias of that config, so ssh never
looks a name up in DNS."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from imgtui.engine import Engine, EngineUnavailable
from imgtui.engine.ssh import SSHTarget
from imgtui.sandbox.sshd import (
    AGENT_ALIAS,
    CHANGED_KEY_ALIAS,
    JUMP_ALIAS,
    REFUSED_KEY_ALIAS,
    WRONG_PORT_ALIAS,
    SandboxSshd,
)
from imgtui.ui.app import ImgtuiApp
from tests.conftest import wait_for


def names_and_ids(engine: Engine) -> list[tuple[str, ...]]:
    return sorted((image.id, *sorted(image.names)) for image in engine.list_images())


def test_the_address_decides_only_what_it_says() -> None:
    """`ssh://alias` passes no port and no user, so that ~/.ssh/config's Port and User apply (docker-py's
    transport passed `-p 22`: an alias with a port of its own was never reached); given ones are passed."""
    bare = SSHTarget.parse("ssh://myhost").command(30)
    assert "-p" not in bare and "-l" not in bare
    assert bare[-5:] == ["--", "myhost", "docker", "system", "dial-stdio"]
    full = SSHTarget.parse("ssh://alice@myhost:2222").command(30)
    assert full[full.index("-l") + 1] == "alice" and full[full.index("-p") + 1] == "2222"
    assert "BatchMode=yes" in full, "never a password prompt drawn over the TUI"


@pytest.mark.parametrize("how", ["address", "alias", "jump"])
def test_the_engine_over_ssh_is_the_sandbox_engine(ssh_env: SandboxSshd, docker_host: str, how: str) -> None:
    """By ssh://root@127.0.0.1:PORT, by a Host alias with its own Port, and through ProxyJump: the same
    images, names and layers as on the engine's own socket."""
    url = {"address": ssh_env.address, "alias": ssh_env.alias, "jump": f"ssh://{JUMP_ALIAS}"}[how]
    local = Engine.connect(docker_host)
    far = Engine.connect(url, timeout=20)
    try:
        assert far.info.host == url and far.info.version == local.info.version
        assert names_and_ids(far) == names_and_ids(local)
        image = local.inspect_image("commit_test:second")
        assert image is not None
        assert far.history(image.id) == local.history(image.id)
        assert [layer.comment for layer in far.history(image.id)][:2] == [
            "my second commit",
            "my first commit",
        ]
    finally:
        far.close()
        local.close()


async def test_the_app_over_an_alias_follows_the_engine(
    ssh_env: SandboxSshd, docker_cli, unique: str
) -> None:  # type: ignore[no-untyped-def]
    """The app on ssh://imgtui-sandbox: the seeds' repositories and layers, the engine named in the status
    line, and a tag made in another shell shows up without a keypress."""
    engine = Engine.connect(ssh_env.alias, timeout=20)
    app = ImgtuiApp(engine)
    repo = f"over-ssh-{unique}/img"
    names = lambda: {r.name for r in app.images.repos.items}  # noqa: E731
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.images.loaded, timeout=20)
            assert {"busybox", "commit_test", "my-image-name", "alicek107/my-image-name"} <= names()
            assert "ssh://imgtui-sandbox" in str(app.images.status.content)
            app.images.repos.select_key("commit_test")
            app.images.sync_panes()
            app.images.tags.select_key(app.images.tags.item_key(
                next(t for t in app.images.tags.items if t.tag == "second")
            ))  # fmt: skip
            app.images.chain.follow_now(1)
            await wait_for(pilot, lambda: app.images.layer_table.row_count >= 3, timeout=20)
            assert "my second commit" in str(app.images.layer_table.get_row_at(0))
            docker_cli("tag", "busybox:latest", f"{repo}:1")
            await wait_for(pilot, lambda: repo in names(), timeout=20)
            docker_cli("rmi", f"{repo}:1")
            await wait_for(pilot, lambda: repo not in names(), timeout=20)
    finally:
        engine.close()


async def test_sshd_killed_mid_session_then_back(ssh_env: SandboxSshd, docker_cli, unique: str) -> None:  # type: ignore[no-untyped-def]
    """sshd and its sessions die (a server reboot): the view says the engine is gone, keeps what it listed,
    and once sshd is back it reconnects and shows what changed meanwhile."""
    engine = Engine.connect(ssh_env.alias, timeout=20)
    app = ImgtuiApp(engine)
    repo = f"while-away-{unique}/img"
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.images.loaded, timeout=20)
            rows = app.images.repos.row_count
            ssh_env.kill()
            await wait_for(pilot, lambda: not app.images.connected, timeout=40)
            status = str(app.images.status.content)
            assert "disconnected" in status and "imgtui-sandbox" in status, status
            assert app.images.repos.row_count == rows, "what was listed stays readable"
            docker_cli("tag", "busybox:latest", f"{repo}:1")
            ssh_env.start()
            await wait_for(pilot, lambda: app.images.connected, timeout=30)
            await wait_for(pilot, lambda: repo in {r.name for r in app.images.repos.items}, timeout=20)
            assert "disconnected" not in str(app.images.status.content)
    finally:
        ssh_env.start()
        docker_cli("rmi", f"{repo}:1", check=False)
        engine.close()


def run_imgtui(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "imgtui", *args], capture_output=True, text=True, env=environ, timeout=60,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.parametrize(
    "alias, reason",
    [
        (WRONG_PORT_ALIAS, "Connection refused"),
        (REFUSED_KEY_ALIAS, "root@127.0.0.1: Permission denied (publickey)"),
        (CHANGED_KEY_ALIAS, "has changed and you have requested strict checking"),
    ],
)
@pytest.mark.parametrize("given", ["--host", "DOCKER_HOST"])
def test_ssh_failures_are_one_sentence_with_the_host_and_ssh_s_reason(
    ssh_env: SandboxSshd, alias: str, reason: str, given: str
) -> None:
    args = ("--host", f"ssh://{alias}") if given == "--host" else ()
    env = {"IMGTUI_SSH_COMMAND": ssh_env.ssh_command}
    if given == "DOCKER_HOST":
        env["DOCKER_HOST"] = f"ssh://{alias}"
    result = run_imgtui(*args, "--timeout", "10", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"imgtui: no Docker engine answered at ssh://{alias} ({given}): ssh to {alias}"
    )
    assert reason in lines[0]
    if alias == CHANGED_KEY_ALIAS:
        assert "Host key verification failed" in lines[0]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts and never says a word (an ssh server that hangs)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in held:
        conn.close()


def test_a_server_that_never_answers_ends_at_the_timeout(
    ssh_env: SandboxSshd, silent_server: int, tmp_path: Path
) -> None:
    """No hang past --timeout: one sentence naming the host (the process is given 60 s, the timeout is 2)."""
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host imgtui-silent\n    HostName 127.0.0.1\n    Port {silent_server}\n\n"
        + ssh_env.client_config.read_text()
    )
    result = run_imgtui(
        "--host", "ssh://imgtui-silent", "--timeout", "2", env={"IMGTUI_SSH_COMMAND": f"ssh -F {config}"}
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        "imgtui: no Docker engine answered at ssh://imgtui-silent (--host): ssh to imgtui-silent"
    )
    assert line.endswith("ssh to imgtui-silent: no answer in 2 s"), line


def test_a_missing_image_through_ssh_is_no_failure(ssh_env: SandboxSshd) -> None:
    """The engine's 404 comes back through ssh as an answer (no image), not as a broken connection."""
    engine = Engine.connect(ssh_env.alias, timeout=20)
    try:
        assert engine.inspect_image("no-such-image-anywhere:1") is None
        assert engine.ping()
    finally:
        engine.close()


def test_an_ssh_address_with_a_path_is_refused_before_any_ssh_runs() -> None:
    with pytest.raises(EngineUnavailable, match="no Docker engine answered at ssh://nowhere-alias/some/path"):
        Engine.connect("ssh://nowhere-alias/some/path")


def test_save_and_load_through_ssh(
    ssh_env: SandboxSshd, docker_host: str, api, unique: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The long transfers go through ssh too: a save (docker-py's raw stream of an ssh connection) writes
    the same bytes as through the socket, and loading it back through ssh restores a removed name."""
    far = Engine.connect(ssh_env.alias, timeout=20)
    local = Engine.connect(docker_host)
    name = f"through-ssh-{unique}:1"
    api.tag("commit_test:second", f"through-ssh-{unique}", "1")
    try:
        written = far.save([name], tmp_path / "far.tar", lambda p: None, lambda: False)
        assert written == local.save([name], tmp_path / "local.tar", lambda p: None, lambda: False)
        assert (tmp_path / "far.tar").read_bytes() == (tmp_path / "local.tar").read_bytes()
        api.remove_image(name)
        assert far.inspect_image(name) is None
        assert far.load(str(tmp_path / "far.tar"), lambda p: None, lambda: False) == [f"Loaded image: {name}"]
        image = far.inspect_image(name)
        assert image is not None and image.id == api.inspect_image("commit_test:second")["Id"]
    finally:
        api.remove_image(name)
        far.close()
        local.close()


def test_ssh_needs_no_paramiko(ssh_env: SandboxSshd) -> None:
    """The one-file pyz has no paramiko (compiled parts): ssh:// engines work without it."""
    code = (
        "import sys; sys.modules['paramiko'] = None\n"  # `import paramiko` now fails, as in the pyz
        "from imgtui.engine import Engine\n"
        f"engine = Engine.connect({ssh_env.alias!r}, timeout=20)\n"
        "print(sorted(n for i in engine.list_images() for n in i.names if n.startswith('commit_test:')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "IMGTUI_SSH_COMMAND": ssh_env.ssh_command})  # fmt: skip
    assert result.stdout.strip() == "['commit_test:first', 'commit_test:second']", result.stderr


@pytest.fixture(scope="module")
def sshd_without_engine() -> Iterator[SandboxSshd]:
    """A second sshd on 127.0.0.1 whose sessions' DOCKER_HOST names a socket nobody listens on: ssh gets in,
    the far side's `docker system dial-stdio` finds no engine."""
    import shutil
    import tempfile

    state = Path(tempfile.mkdtemp(prefix="imgtui-sshd-", dir="/tmp"))
    server = SandboxSshd(state, "unix:///nonexistent/imgtui-no-engine.sock")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(state, ignore_errors=True)


def test_no_engine_on_the_far_side_is_docker_s_own_words(sshd_without_engine: SandboxSshd) -> None:
    result = run_imgtui(
        "--host", sshd_without_engine.alias, "--timeout", "10",
        env={"IMGTUI_SSH_COMMAND": sshd_without_engine.ssh_command},
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        "imgtui: no Docker engine answered at ssh://imgtui-sandbox (--host): ssh to imgtui-sandbox failed: "
    )
    assert "/nonexistent/imgtui-no-engine.sock" in line, line


@pytest.fixture
def agent(ssh_env: SandboxSshd, tmp_path: Path) -> Iterator[str]:
    """A real ssh-agent of the test's own holding the sandbox's user key: yields its socket."""
    sock = str(tmp_path / "agent.sock")
    process = subprocess.Popen(
        ["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(200):
            if Path(sock).exists():
                break
            threading.Event().wait(0.02)
        subprocess.run(["ssh-add", str(ssh_env.user_key)], env={**os.environ, "SSH_AUTH_SOCK": sock},
                       check=True, capture_output=True)  # fmt: skip
        yield sock
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_keys_from_the_agent(ssh_env: SandboxSshd, agent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An alias whose config names only the public half of the key: the private key comes from the agent;
    with no agent the same alias is refused, in one sentence."""
    url = f"ssh://{AGENT_ALIAS}"
    monkeypatch.setenv("SSH_AUTH_SOCK", agent)
    engine = Engine.connect(url, timeout=20)
    try:
        assert "commit_test:second" in {n for image in engine.list_images() for n in image.names}
    finally:
        engine.close()
    monkeypatch.delenv("SSH_AUTH_SOCK")
    with pytest.raises(EngineUnavailable) as refused:
        Engine.connect(url, timeout=20)
    assert f"ssh to {AGENT_ALIAS} failed: " in str(refused.value)
    assert "Permission denied (publickey)" in str(refused.value)


@pytest.mark.parametrize(
    "command, said",
    [
        ("ssh -F 'unclosed", "IMGTUI_SSH_COMMAND cannot be split as a shell would: No closing quotation"),
        ("/nonexistent/ssh", "ssh to a-host: could not run /nonexistent/ssh: No such file or directory"),
    ],
)
def test_a_wrong_ssh_command_is_one_sentence(command: str, said: str) -> None:
    """IMGTUI_SSH_COMMAND that cannot run: said before any connection is tried."""
    result = run_imgtui("--host", "ssh://a-host", env={"IMGTUI_SSH_COMMAND": command})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"imgtui: no Docker engine answered at ssh://a-host (--host): {said}"
