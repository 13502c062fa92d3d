"""Containers from the keyboard, on the real sandbox engine: run one from a tag (`n`), start, restart, logs
in a pane, new containers shown live, and the seeds' loop run → change → commit → read the new layer.

attach and exec hand the terminal to the docker CLI while the app is suspended; Pilot's headless driver
cannot be suspended, so here they are tested by the command lines they build (run for real with the CLI,
without a tty, where that proves something) and by what the app says when it cannot hand over; a tmux run
is described in NOTES-containers-df.md.
"""

from __future__ import annotations

import subprocess

import docker
import pytest
from textual import events
from textual.widgets import Checkbox, Input

from imgtui.engine import Engine
from imgtui.engine.connection import Endpoint
from imgtui.engine.containers import (
    DETACH_KEYS,
    BadSpec,
    RunSpec,
    attach_command,
    cli_env,
    docker_cli,
    exec_command,
)
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.commit import CommitDialog
from imgtui.ui.dialogs.run import RunDialog
from imgtui.ui.screens.containers import ContainersScreen
from imgtui.ui.screens.logs import LogsScreen
from tests.conftest import PODMAN_COMMAND, PODMAN_FIRST_COMMIT, layer_size_text, wait_for
from tests.test_app import row_text
from tests.test_removal import log, open_tag


# -- the form and the command lines, no engine ------------------------------------------------------------
def test_run_form_is_checked_before_the_engine_sees_it() -> None:
    spec = RunSpec.parse("busybox:latest", name="web-1", command='sh -c "echo hi > /f"',
                         env='A=1 B="two words"', tty=True, remove=True, network="none")  # fmt: skip
    assert spec.command == ("sh", "-c", "echo hi > /f")
    assert spec.env == ("A=1", "B=two words")
    assert spec.cli() == (
        "docker run -it --rm --name web-1 --network none -e A=1 -e 'B=two words' busybox:latest "
        "sh -c 'echo hi > /f'"
    )
    assert RunSpec.parse("busybox", start=False).cli() == "docker create busybox"
    with pytest.raises(BadSpec, match="letters, digits"):
        RunSpec.parse("busybox", name="-bad")
    with pytest.raises(BadSpec, match="quote left open"):
        RunSpec.parse("busybox", command='sh -c "echo')
    with pytest.raises(BadSpec, match="'NOVALUE' is not one"):
        RunSpec.parse("busybox", env="A=1 NOVALUE")
    with pytest.raises(BadSpec, match="--rm needs the container to run"):
        RunSpec.parse("busybox", remove=True, start=False)


def test_attach_and_exec_point_the_docker_cli_at_imgtuis_engine() -> None:
    endpoint = Endpoint("unix:///tmp/some/engine.sock", "--host")
    base = {"DOCKER_HOST": "unix:///var/run/docker.sock", "DOCKER_CONTEXT": "prod", "HOME": "/root"}
    env = cli_env(endpoint, base)
    assert env["DOCKER_HOST"] == "unix:///tmp/some/engine.sock" and "DOCKER_CONTEXT" not in env
    assert env["HOME"] == "/root"
    running = attach_command(endpoint, "abc123", True, "/usr/bin/docker")
    assert running.argv == ["/usr/bin/docker", "attach", "--detach-keys", "ctrl-p,ctrl-q", "abc123"]
    stopped = attach_command(endpoint, "abc123", False, "/usr/bin/docker")
    assert stopped.argv[1:4] == ["start", "--attach", "--interactive"] and DETACH_KEYS in stopped.argv
    shell = exec_command(endpoint, "abc123", "/usr/bin/docker")
    assert shell.argv[1:7] == ["exec", "--interactive", "--tty", "--detach-keys", DETACH_KEYS, "abc123"]
    assert shell.argv[7:9] == ["sh", "-c"] and "exec bash" in shell.argv[9] and "exec sh" in shell.argv[9]
    with pytest.raises(BadSpec, match="needs the docker CLI"):
        attach_command(endpoint, "abc123", True, None)
    with pytest.raises(BadSpec, match="needs the docker CLI"):
        exec_command(endpoint, "abc123", None)


@pytest.mark.skipif(docker_cli() is None, reason="the docker CLI is not installed")
def test_the_built_command_lines_reach_the_sandbox_engine(
    docker_host: str, api: docker.APIClient, cleanup: list[str], unique: str
) -> None:
    """Run for real without a tty (`--interactive`/`--tty` dropped: no terminal here): the attach line of a
    stopped container starts it and prints its output; the exec line runs the shell line in a running
    container. Both reach the sandbox engine (the test environment's DOCKER_HOST leads nowhere)."""
    engine = Engine.connect(docker_host)
    no_net = api.create_host_config(network_mode="none")
    try:
        once = api.create_container("busybox:latest", ["sh", "-c", "echo attached-to-$HOSTNAME"],
                                    name=f"cli-a-{unique}", host_config=no_net)  # fmt: skip
        cleanup.append(f"c:{once['Id']}")
        attach = attach_command(engine.endpoint, once["Id"], False, docker_cli())
        assert attach.env["DOCKER_HOST"] == docker_host
        argv = [a for a in attach.argv if a != "--interactive"]
        ran = subprocess.run(argv, env=attach.env, capture_output=True, text=True, timeout=60, check=False)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == f"attached-to-{once['Id'][:12]}"
        box = api.create_container(
            "busybox:latest", ["sleep", "300"], name=f"cli-x-{unique}", host_config=no_net
        )
        cleanup.append(f"c:{box['Id']}")
        api.start(box)
        shell = exec_command(engine.endpoint, box["Id"], docker_cli())
        argv = [a for a in shell.argv if a not in ("--interactive", "--tty")]
        argv[-1] = "echo in-$HOSTNAME; " + argv[-1]
        ran = subprocess.run(argv, env=shell.env, capture_output=True, text=True, timeout=60, check=False)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == f"in-{box['Id'][:12]}", "busybox has no bash: the line falls back to sh"
    finally:
        engine.close()


# -- through the UI -----------------------------------------------------------------------------------------
async def fill_run_form(pilot, app: ImgtuiApp, command: str, name: str, network: str = "none") -> RunDialog:  # type: ignore[no-untyped-def]
    """Paste the command and the name into the `n` form (typing key by key proves nothing more), set the
    network; returns the dialog, still open."""
    await wait_for(pilot, lambda: isinstance(app.screen, RunDialog) and isinstance(app.focused, Input))
    dialog = app.screen
    assert isinstance(dialog, RunDialog)
    for widget_id, text in (("run-command", command), ("run-name", name), ("run-network", network)):
        field = dialog.query_one(f"#{widget_id}", Input)
        field.focus()
        await pilot.press("ctrl+u")
        field.post_message(events.Paste(text))
        await wait_for(pilot, lambda field=field, text=text: field.value == text)  # type: ignore[misc]
    return dialog


async def test_run_change_commit_then_read_the_new_layer(
    app: ImgtuiApp, api: docker.APIClient, cleanup: list[str], unique: str, store: str
) -> None:
    """The seeds' loop, all by keys: `n` on busybox:latest runs a container that writes a file, the
    containers view opens on it, `m` commits it, and the new image's top layer shows the file's bytes and
    the commit message."""
    name, image = f"loop-{unique}", f"loop-{unique}:1"
    cleanup += [image, f"c:{name}"]
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, "busybox", "latest")
        await pilot.press("n")
        dialog = await fill_run_form(pilot, app, 'sh -c "echo changed-here > /made-here"', name)
        dialog.query_one("#run-name", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.loaded)
        cli = f"docker run --name {name} --network none busybox:latest sh -c 'echo changed-here > /made-here'"
        assert cli in log(app)
        screen = app.screen
        assert isinstance(screen, ContainersScreen)
        # The container exits at once: the view follows its events until it shows as exited.
        await wait_for(pilot, lambda: screen.table.current is not None and screen.table.current.name == name
                       and screen.table.current.state == "exited", timeout=20)  # fmt: skip
        assert api.inspect_container(name)["HostConfig"]["NetworkMode"] == "none"
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, CommitDialog) and isinstance(app.focused, Input))
        await pilot.press(*image, "tab", *"alicek106", "tab", *"wrote", "space", *"made-here", "enter")
        await wait_for(pilot, lambda: f"Committed {name} as {image}" in log(app), timeout=30)
        await pilot.press("escape", "shift+tab")  # back to the images, to the repositories pane
        assert app.focused is app.images.repos
        await pilot.press("slash", "ctrl+u", "enter")  # the busybox filter cleared
        await open_tag(pilot, app, f"loop-{unique}", "1")
        layers = app.images.layer_table
        await wait_for(pilot, lambda: layers.row_count >= 2 and not layers.pending
                       and "wrote made-here" in row_text(layers, 0))  # fmt: skip
        top = row_text(layers, 0)
        if store == "podman":  # a first commit on busybox, whose history command is Podman's /bin/sh
            assert f"{PODMAN_FIRST_COMMIT / 1000:.2f} kB" in top and PODMAN_COMMAND in top, top
        else:
            assert layer_size_text(store, len("changed-here\n")) in top, top
            assert "echo changed-here > /made-here" in top


async def test_new_containers_show_up_live_and_start_restart_stop(
    app: ImgtuiApp, api: docker.APIClient, docker_cli, cleanup: list[str], unique: str
) -> None:  # type: ignore[no-untyped-def]
    name = f"live-{unique}"
    cleanup.append(f"c:{name}")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.loaded)
        screen = app.screen
        assert isinstance(screen, ContainersScreen)
        names = lambda: {c.name: c for c in screen.table.items}  # noqa: E731
        # A process 1 that ends on SIGTERM: stop and restart need not wait out docker's 10 s.
        docker_cli("create", "--network", "none", "--name", name, "busybox:latest", "sh", "-c",
                   "trap 'exit 0' TERM; while true; do sleep 0.2; done")  # fmt: skip
        await wait_for(pilot, lambda: name in names(), timeout=10)
        assert names()[name].state == "created"
        await pilot.press("slash", *name, "enter")
        assert screen.table.current is not None and screen.table.current.name == name
        await pilot.press("t")
        await wait_for(pilot, lambda: names()[name].state == "running", timeout=20)
        first_start = api.inspect_container(name)["State"]["StartedAt"]
        await pilot.press("T")
        await wait_for(pilot, lambda: api.inspect_container(name)["State"]["StartedAt"] != first_start,
                       timeout=30)  # fmt: skip
        # The restart call returns after the new start: a stop sent before it returns can be undone by it
        # (seen on dockerd 26.1), so wait for the app's restart to be done, as its notification says.
        acting = lambda: any(w.group == "container-action" and w.is_running for w in app.workers)  # noqa: E731
        await wait_for(pilot, lambda: not acting() and names()[name].state == "running")
        assert api.inspect_container(name)["State"]["Running"]
        await pilot.press("s")
        await wait_for(pilot, lambda: names()[name].state == "exited", timeout=30)


async def test_logs_pane_follows_searches_and_shows_timestamps(
    app: ImgtuiApp, api: docker.APIClient, cleanup: list[str], unique: str
) -> None:
    name = f"logs-{unique}"
    script = ("echo alpha one; echo beta two; echo alpha three; "
              "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done")  # fmt: skip
    box = api.create_container("busybox:latest", ["sh", "-c", script], name=name,
                               host_config=api.create_host_config(network_mode="none"))  # fmt: skip
    cleanup.append(f"c:{box['Id']}")
    api.start(box)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.loaded)
        await pilot.press("slash", *name, "enter", "l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogsScreen))
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        await wait_for(pilot, lambda: "tick 2" in logs.lines, timeout=20)
        assert logs.lines[:3] == ["alpha one", "beta two", "alpha three"]
        # Following: lines the container writes after the pane opened keep coming.
        seen = len(logs.lines)
        await wait_for(pilot, lambda: len(logs.lines) >= seen + 3, timeout=20)
        assert logs.log_view.lines[-1] == logs.lines[-1], "the pane shows the newest line"
        await pilot.press("slash", *"alpha", "enter")
        assert logs.shown_lines == ["alpha one", "alpha three"]
        assert list(logs.log_view.lines) == ["alpha one", "alpha three"]
        assert "2 contain 'alpha'" in str(logs.log_view.border_title)
        await pilot.press("escape")  # clears the search
        assert logs.search == "" and len(logs.log_view.lines) >= 4
        await pilot.press("t")  # read again, with the engine's timestamps
        await wait_for(pilot, lambda: len(logs.lines) >= 3 and logs.lines[0].endswith("alpha one"))
        stamp, _, text = logs.lines[0].partition(" ")
        assert text == "alpha one" and stamp.startswith("20") and stamp.endswith("Z"), logs.lines[0]
        await pilot.press("f")
        assert not logs.following and "not following" in str(logs.log_view.border_title)
        await pilot.press("escape")
        assert isinstance(app.screen, ContainersScreen)


async def test_an_interactive_run_says_when_the_terminal_cannot_be_handed_over(
    app: ImgtuiApp, api: docker.APIClient, cleanup: list[str], unique: str
) -> None:
    """Pilot's headless driver cannot be suspended: the container is created, the app says in one sentence
    why it did not attach, and nothing breaks. (On a real terminal: NOTES-containers-df.md.)"""
    name = f"it-{unique}"
    cleanup.append(f"c:{name}")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, "busybox", "latest")
        await pilot.press("n")
        dialog = await fill_run_form(pilot, app, "sh", name)
        dialog.query_one("#run-tty", Checkbox).value = True
        dialog.query_one("#run-name", Input).focus()
        await pilot.press("enter")
        said = lambda: "cannot be handed over" in log(app) or "needs the docker CLI" in log(app)  # noqa: E731
        await wait_for(pilot, said, timeout=20)
        config = api.inspect_container(name)["Config"]
        assert config["Tty"] and config["OpenStdin"]
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen))


async def test_bad_run_form_says_why_and_creates_nothing(
    app: ImgtuiApp, api: docker.APIClient, unique: str
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, "busybox", "latest")
        before = len(api.containers(all=True))
        await pilot.press("n")
        dialog = await fill_run_form(pilot, app, 'sh -c "echo', f"bad-{unique}")
        await pilot.press("enter")
        assert app.screen is dialog and "quote left open" in dialog.error
        await pilot.press("escape")
        assert not isinstance(app.screen, RunDialog)
        assert len(api.containers(all=True)) == before
