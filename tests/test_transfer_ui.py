"""Save, load, push, pull and commit from the keyboard, against the real engine and the sandbox registry."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from imgtui.engine.transfer import PODMAN_PUSH
from imgtui.sandbox import Sandbox
from imgtui.ui import commands
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.dialogs.commit import CommitDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.screens.containers import ContainersScreen
from tests.conftest import wait_for
from tests.test_removal import exists, log, open_tag


async def answer(pilot, app: ImgtuiApp, text: str) -> None:  # type: ignore[no-untyped-def]
    """Paste into the name dialog that the last key opened (as a path or name is usually given: typing it
    key by key proves nothing more and costs seconds), and press enter."""
    await wait_for(pilot, lambda: isinstance(app.screen, NameDialog) and isinstance(app.focused, Input))
    await pilot.press("ctrl+u")
    field = app.focused
    assert isinstance(field, Input)
    field.post_message(events.Paste(text))
    await wait_for(pilot, lambda: field.value == text)
    await pilot.press("enter")


async def test_save_then_load_with_progress_and_overwrite_question(
    app: ImgtuiApp, tmp_path: Path, api
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "second.tar"
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, "commit_test", "second")
        await pilot.press("S")
        await answer(pilot, app, str(target))
        await wait_for(pilot, lambda: "Saved commit_test:second" in log(app), timeout=30)
        assert target.stat().st_size > 1_000_000
        assert not app.images.job_bar.has_class("running")
        await pilot.press("S")
        await answer(pilot, app, str(target))
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
        assert "exists. Overwrite it?" in app.screen.shown_text  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert log(app).count("Saved commit_test:second") == 1
        corrupt = tmp_path / "corrupt.tar"
        corrupt.write_bytes(b"not a tar" * 1000)
        await pilot.press("L")
        await answer(pilot, app, str(corrupt))
        await wait_for(pilot, lambda: "could not load corrupt.tar" in log(app), timeout=30)
        await pilot.press("L")
        await answer(pilot, app, str(target))
        await wait_for(pilot, lambda: "Loaded image: commit_test:second" in log(app), timeout=30)


async def test_push_under_a_registry_name_then_pull_back(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, sandbox: Sandbox, api, unique: str
) -> None:
    name = f"{sandbox.registry}/ui-{unique}/second:v1"
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, "commit_test", "second")
        await pilot.press("P")
        await answer(pilot, app, name)
        await wait_for(pilot, lambda: f"push {name}: done" in log(app), timeout=60)
        assert f"as {name}" in log(app), "the new name was tagged before the push"
        with urllib.request.urlopen(f"http://{sandbox.registry}/v2/ui-{unique}/second/tags/list") as r:
            assert json.load(r)["tags"] == ["v1"]
        api.remove_image(name)
        await wait_for(
            pilot,
            lambda: f"{sandbox.registry}/ui-{unique}/second" not in {r.name for r in app.images.repos.items},
        )
        await pilot.press("p")
        await answer(pilot, app, name)
        await wait_for(pilot, lambda: f"pull {name}: done" in log(app), timeout=60)
        await wait_for(
            pilot,
            lambda: f"{sandbox.registry}/ui-{unique}/second" in {r.name for r in app.images.repos.items},
        )
        assert exists(api, name)
        api.remove_image(name)


async def test_commit_a_container_from_the_containers_view(app: ImgtuiApp, api, unique: str) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, "commit_test", "first")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.loaded)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, CommitDialog) and isinstance(app.focused, Input))
        dialog = app.screen
        assert isinstance(dialog, CommitDialog)
        await pilot.press(*"Bad:Name", "enter")
        assert app.screen is dialog and "lowercase" in dialog.error
        await pilot.press("ctrl+u", *f"made-{unique}", "tab", *"alicek106", "tab")
        await pilot.press(*"from", "space", *"the", "space", *"ui", "enter")
        await wait_for(pilot, lambda: f"as made-{unique}:latest" in log(app), timeout=30)
        image = api.inspect_image(f"made-{unique}:latest")
        assert image["Author"] == "alicek106" and image["Comment"] == "from the ui"
        api.remove_image(f"made-{unique}:latest")


async def test_export_import_and_search_from_the_keyboard(
    app: ImgtuiApp, api, unique: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from imgtui.ui.screens.search import SearchScreen
    from tests import search_server

    target = tmp_path / "fs.tar"
    server = search_server.start()
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.images.loaded)
            await open_tag(pilot, app, "commit_test", "first")
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.loaded)
            await pilot.press("X")
            await wait_for(pilot, lambda: isinstance(app.screen, NameDialog))
            assert "no history, no config" in app.screen.hint  # type: ignore[attr-defined]
            await answer(pilot, app, str(target))
            await wait_for(pilot, lambda: f"to {target}" in log(app), timeout=30)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
            await pilot.press("I")
            await answer(pilot, app, str(target))
            await answer(pilot, app, f"flat-{unique}:0.0")
            await wait_for(pilot, lambda: "one layer, no history" in log(app), timeout=30)
            await wait_for(pilot, lambda: f"flat-{unique}" in {r.name for r in app.images.repos.items})
            await pilot.press("f")
            host = f"127.0.0.1:{server.server_address[1]}"
            await answer(pilot, app, f"{host}/ubuntu")
            if app.images.engine.info.podman:  # Podman searches a plain-HTTP registry only if it lists it
                said = f"search failed: {host} answers plain HTTP, and Podman searches a registry over HTTPS"
                await wait_for(pilot, lambda: said in log(app), timeout=30)
                assert not isinstance(app.screen, SearchScreen)
                return
            await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
            results = app.screen.table.items  # type: ignore[attr-defined]
            assert [(r.name, r.stars, r.official) for r in results] == [("library/ubuntu", 13460, True)]
            await pilot.press("escape")
    finally:
        server.shutdown()
        server.server_close()
        api.remove_image(f"flat-{unique}:0.0")


async def test_login_bad_then_good_password_never_shown_then_push_and_logout(  # type: ignore[no-untyped-def]
    app: ImgtuiApp,
    auth_registry: tuple[str, str, str],
    api,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from imgtui.ui.dialogs.login import LoginDialog
    from tests.test_app import screen_text

    server, user, password = auth_registry
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    config = tmp_path / "docker-config" / "config.json"

    async def login(secret: str) -> None:
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginDialog) and isinstance(app.focused, Input))
        await pilot.press("ctrl+u", *server, "tab", *user, "tab", *secret)
        assert secret not in screen_text(app), "the password is never echoed"
        await pilot.press("enter")

    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await login("wrong-password")
        await wait_for(pilot, lambda: f"login to {server} failed" in log(app), timeout=30)
        assert "unauthorized" in log(app).lower() and not config.exists()
        await login(password)
        await wait_for(pilot, lambda: "Login Succeeded" in log(app), timeout=30)
        stored = json.loads(config.read_text())
        assert set(stored["auths"]) == {server}, "stored where the docker CLI keeps it"
        for text in (log(app), screen_text(app), config.read_text()):
            assert password not in text
        name = f"{server}/private-{unique}/app:1"
        await open_tag(pilot, app, "commit_test", "second")
        await pilot.press("P")
        await answer(pilot, app, name)
        await wait_for(pilot, lambda: f"push {name}: " in log(app), timeout=60)
        assert f"push {name}: done" in log(app), log(app)
        commands.run(app.screen, "logout")  # a palette command, no key
        await answer(pilot, app, server)
        await wait_for(pilot, lambda: f"Removed login credentials for {server}" in log(app), timeout=30)
        assert json.loads(config.read_text())["auths"] == {}
        assert password not in log(app) and password not in screen_text(app)
    api.remove_image(name)


async def test_every_job_ends_with_a_log_line_a_push_that_sent_nothing_takes_its_tag_back(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, sandbox: Sandbox, api, unique: str
) -> None:
    """A failed pull is a log line in the engine's words (not only a notification); a push to a registry
    that is down says why, takes back the name it made for the push (nothing was sent), and that registry is
    not offered by `R`, which offers a registry once it has answered (a push that reached it). A push whose
    layers the registry already holds says `Mounted from`, with no blank lines."""
    from imgtui.sandbox.processes import free_port
    from imgtui.ui.dialogs.registry import RegistryDialog
    from imgtui.ui.features.jobs import PushJob

    dead = f"127.0.0.1:{free_port()}"
    missing = f"{sandbox.registry}/no-such-{unique}:1"
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.press("p")
        await answer(pilot, app, missing)
        await wait_for(pilot, lambda: f"pull {missing} failed: " in log(app), timeout=30)
        failed = next(
            line for line in app.images.outcome.lines_text if line.startswith(f"pull {missing} failed")
        )
        assert "manifest unknown" in failed or "not found" in failed, failed
        assert not app.images.job_bar.has_class("running")

        name = f"{dead}/dead-{unique}/second:v1"
        await open_tag(pilot, app, "commit_test", "second")
        await pilot.press("P")
        await answer(pilot, app, name)
        await wait_for(pilot, lambda: f"push {name}: " in log(app), timeout=60)
        assert f"as {name}" in log(app) and "connection refused" in log(app), log(app)
        assert f"Untagged {name}: it was made for this push, which sent nothing" in log(app), log(app)
        assert not exists(api, name), "the name made for the push is gone"
        await wait_for(
            pilot, lambda: f"{dead}/dead-{unique}/second" not in {r.name for r in app.images.repos.items}
        )
        # A name the user gave is never taken back; the registry it names, silent, is not offered by `R`.
        mine = f"{dead}/mine-{unique}/second:v1"
        api.tag("commit_test:second", *mine.rsplit(":", 1))
        await wait_for(
            pilot, lambda: f"{dead}/mine-{unique}/second" in {r.name for r in app.images.repos.items}
        )
        app.images.jobs.start(PushJob(mine))
        await wait_for(pilot, lambda: f"push {mine}: " in log(app), timeout=60)
        assert exists(api, mine) and f"Untagged {mine}" not in log(app)

        first, second = (f"{sandbox.registry}/jobs-{unique}/{n}:v1" for n in ("one", "two"))
        for target in (first, second):
            assert app.images.tags.current is not None and app.images.tags.current.ref == "commit_test:second"
            await pilot.press("P")
            await answer(pilot, app, target)
            await wait_for(pilot, lambda: f"push {target}: done" in log(app), timeout=60)  # noqa: B023
        after = log(app).split(f"push {second}", 1)[1]
        if app.images.engine.info.podman:  # no layer lines from Podman's push: imgtui says so instead
            assert after.count(PODMAN_PUSH) == 1 and "Mounted from" not in after, after
        else:
            assert after.count(f"Mounted from jobs-{unique}/one") == 3, after
        assert all(line.strip() for line in app.images.outcome.lines_text), "no blank lines"

        await pilot.press("R")
        await wait_for(
            pilot, lambda: isinstance(app.screen, RegistryDialog) and isinstance(app.focused, Input)
        )
        dialog = app.screen
        assert isinstance(dialog, RegistryDialog)
        assert dead not in dialog.known, dialog.known
        assert dialog.known[0] == sandbox.registry, "the registry that answered last is offered first"
        field = app.focused
        assert isinstance(field, Input) and field.value == sandbox.registry
        await pilot.press("escape")
    for target in (first, second, mine):
        api.remove_image(target)


async def test_r_offers_first_the_registry_that_answered_last(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, sandbox: Sandbox, wide_registry: str
) -> None:
    """A registry browsed (it answered) is the one `R` offers first next time: one, then the other (so the
    order is not the names' order)."""
    from imgtui.ui.dialogs.registry import RegistryDialog
    from imgtui.ui.screens.registry import RegistryScreen
    from tests.test_registry_ui import open_registry

    async with app.run_test(size=(120, 36)) as pilot:
        for address in (sandbox.registry, wide_registry, sandbox.registry):
            screen = await open_registry(pilot, app, address)
            await wait_for(pilot, lambda: screen.repos.items or screen.catalog_done, timeout=20)  # noqa: B023
            await pilot.press("escape")
            await wait_for(pilot, lambda: not any(isinstance(s, RegistryScreen) for s in app.screen_stack))
            await pilot.press("R")
            await wait_for(
                pilot, lambda: isinstance(app.screen, RegistryDialog) and isinstance(app.focused, Input)
            )
            dialog = app.screen
            assert isinstance(dialog, RegistryDialog)
            assert dialog.known[0] == address, (address, dialog.known)
            await pilot.press("escape")
