"""The registry view from the keyboard, against real registries (docker-registry 2.8 on 127.0.0.1) that the
fixtures start and fill through the sandbox engine."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest
from textual.widgets import Input

from imgtui.engine import Engine
from imgtui.registry import Registry
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.dialogs.login import LoginDialog
from imgtui.ui.dialogs.registry import RegistryDialog
from imgtui.ui.screens.registry import RegistryScreen
from tests.conftest import Filled, wait_for
from tests.fault_proxy import Canned, FaultProxy, Rule
from tests.registries import push
from tests.test_app import screen_text
from tests.test_removal import exists, log, open_tag


async def open_registry(pilot, app: ImgtuiApp, address: str) -> RegistryScreen:  # type: ignore[no-untyped-def]
    """R, type the address, enter: the registry view."""
    await wait_for(pilot, lambda: app.images.loaded)
    await pilot.press("R")
    await wait_for(pilot, lambda: isinstance(app.screen, RegistryDialog) and isinstance(app.focused, Input))
    await pilot.press("ctrl+u", *address, "enter")
    await wait_for(pilot, lambda: any(isinstance(s, RegistryScreen) for s in app.screen_stack))
    return next(s for s in app.screen_stack if isinstance(s, RegistryScreen))


async def open_repository(pilot, screen: RegistryScreen, name: str) -> None:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: name in screen.repos.items)
    await pilot.press("slash", *name, "enter")
    await wait_for(pilot, lambda: screen.repos.current == name)
    await pilot.press("enter")
    await wait_for(
        pilot, lambda: screen.tags_for == name and screen.tags_complete and screen.tags.row_count > 0
    )
    await wait_for(pilot, lambda: all(r.loaded for r in screen.tags.items), timeout=20)


async def cursor_to(pilot, screen: RegistryScreen, key: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("home")
    for _ in range(screen.tags.row_count + 1):
        if screen.tags.current is not None and screen.tags.current.key == key:
            return
        await pilot.press("j")
    raise AssertionError(f"no row {key}")


async def test_catalog_is_read_lazily_and_filtering_reads_the_rest(
    app: ImgtuiApp, wide_registry: str
) -> None:
    registry = Registry(wide_registry, page_size=10)
    pages: list[str] = []
    registry.session.hooks["response"].append(
        lambda r, *a, **k: pages.append(r.url) if "_catalog" in r.url else None
    )
    app.registries[(wide_registry, False)] = registry
    async with app.run_test(size=(120, 24)) as pilot:
        screen = await open_registry(pilot, app, wide_registry)
        await wait_for(pilot, lambda: len(screen.repos.items) >= 10)
        await pilot.pause(0.5)
        assert len(screen.repos.items) < 60, "only the pages needed to fill the screen are read"
        assert len(pages) <= 3, pages
        assert "more as you scroll" in str(screen.repos.border_title)
        assert screen.repos.items[:3] == ["wide-00", "wide-01", "wide-02"]
        await pilot.press("slash", *"wide-59")
        await wait_for(pilot, lambda: screen.repos.shown_items == ["wide-59"], timeout=20)
        assert len(pages) == 6, "filtering reads every page, once"
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: [r.tag for r in screen.tags.items] == ["latest"])
        assert "more as you scroll" not in str(screen.repos.border_title)


async def test_every_manifest_kind_with_platform_rows_and_layers(
    app: ImgtuiApp, filled_registry: Filled
) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_registry(pilot, app, filled_registry.address)
        # (other tests add repositories of their own to this registry)
        await wait_for(pilot, lambda: set(filled_registry.repositories) <= set(screen.repos.items))
        await open_repository(pilot, screen, "kinds")
        rows = {r.key: r for r in screen.tags.items}
        assert rows["docker"].kind == "docker v2" and rows["oci"].kind == "oci image"
        assert (
            rows["second"].size
            and rows["second"].size > 1_000_000
            and rows["second"].platform.startswith("linux/")
        )
        assert rows["list"].kind == "docker list" and rows["list"].platform == "2 platforms"
        assert rows["index"].kind == "oci index"
        children = [r for r in screen.tags.items if r.parent == "index"]
        assert [c.platform for c in children] == ["linux/amd64", "linux/arm64"]
        assert all(c.kind == "oci image" and c.size for c in children)
        text = screen_text(app)
        assert "└ linux/arm64" in text and "oci index" in text and "docker list" in text
        await cursor_to(pilot, screen, "second")
        await wait_for(pilot, lambda: screen.layers_for == "second" and screen.layer_table.row_count >= 3)
        comments = [layer.comment for layer in screen.layer_table.items]
        assert comments[:2] == ["my second commit", "my first commit"]
        await cursor_to(pilot, screen, f"index@{children[1].digest}")
        await wait_for(
            pilot, lambda: screen.layers_for == children[1].key and screen.layer_table.row_count >= 3
        )
        assert screen.layer_table.items[0].comment == "my second commit", (
            "the arm64 entry is commit_test:second"
        )
        await cursor_to(pilot, screen, "index")
        await wait_for(pilot, lambda: "pick one of its platform rows" in screen_text(app))


async def test_delete_names_sibling_tags_then_they_are_gone(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, filled_registry: Filled, api: docker.APIClient, unique: str
) -> None:
    host, repo = filled_registry.address, f"ui-del-{unique}"
    push(api, "commit_test:second", f"{host}/{repo}:a")
    push(api, "commit_test:second", f"{host}/{repo}:b")
    push(api, "busybox:latest", f"{host}/{repo}:other")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_registry(pilot, app, host)
        await open_repository(pilot, screen, repo)
        await cursor_to(pilot, screen, "a")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog), timeout=20)
        shown = app.screen.shown_text  # type: ignore[attr-defined]
        assert "1 other tag points at it and will be deleted: b" in shown
        assert "garbage collection" in shown and "keeps 1 of 3 tags" in shown
        await pilot.press("y")
        await wait_for(pilot, lambda: [r.tag for r in screen.tags.items] == ["other"], timeout=20)
        assert f"Tag gone: {host}/{repo}:b" in log(app) and f"Deleted {host}/{repo}@sha256:" in log(app)
    assert Registry(host).all_tags(repo) == ["other"]


async def test_delete_disabled_registry_says_what_to_change(app: ImgtuiApp, nodelete_registry: str) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_registry(pilot, app, nodelete_registry)
        await open_repository(pilot, screen, "keep")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog), timeout=20)
        await pilot.press("y")
        await wait_for(pilot, lambda: "storage.delete.enabled" in screen.problem, timeout=20)
        assert "storage.delete.enabled: true" in screen_text(app), (
            "the reason is on screen, not only in a log"
        )
    assert Registry(nodelete_registry).all_tags("keep") == ["me"]


async def test_login_asked_once_kept_in_memory_never_shown(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, auth_registry: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, user, password = auth_registry
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_registry(pilot, app, address)
        await wait_for(
            pilot, lambda: isinstance(app.screen, LoginDialog) and app.focused is not None, timeout=20
        )
        assert "needs a login" in screen.problem and "imgtui-test" in screen.problem, (
            "the 401's realm is named"
        )
        assert app.focused is not None and app.focused.id == "login-user"
        await pilot.press(*user, "tab", *"wrong")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, LoginDialog) and "refused" in screen.problem, timeout=20
        )
        await pilot.press("ctrl+u", *user, "tab", "ctrl+u", *password)
        assert password not in screen_text(app)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: app.screen is screen and not screen.problem and screen.catalog_done, timeout=20
        )
        assert f"as {user} (typed)" in screen_text(app)
        assert password not in screen_text(app) and password not in log(app)
    assert not (tmp_path / "docker-config").exists(), "typed credentials are kept in memory only"


async def test_pull_from_the_registry_view_then_the_local_tag_is_up_to_date(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, filled_registry: Filled, api: docker.APIClient
) -> None:
    host = filled_registry.address
    name = f"{host}/kinds:second"
    if exists(api, name):
        api.remove_image(name)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_registry(pilot, app, host)
        await open_repository(pilot, screen, "kinds")
        await cursor_to(pilot, screen, "second")
        await pilot.press("p")
        await wait_for(pilot, lambda: f"pull {name}: " in log(app), timeout=60)
        assert f"pull {name}: done" in log(app)
        # one platform of an index, pulled by digest
        arm64 = next(r for r in screen.tags.items if r.parent == "index" and r.platform == "linux/arm64")
        await cursor_to(pilot, screen, arm64.key)
        await pilot.press("p")
        by_digest = f"{host}/kinds@{arm64.digest}"
        await wait_for(pilot, lambda: f"pull {by_digest}: " in log(app), timeout=60)
        assert f"pull {by_digest}: done" in log(app), log(app)
        assert exists(api, by_digest)
        await pilot.press("escape")
        await open_tag(pilot, app, f"{host}/kinds", "second")
        await wait_for(
            pilot, lambda: "registry: up to date" in (app.images.layer_table.border_title or ""), timeout=20
        )
        api.tag("busybox:latest", f"{host}/kinds", "second")  # the local name now means another image
        await wait_for(
            pilot, lambda: "registry: differs" in (app.images.layer_table.border_title or ""), timeout=20
        )
    api.remove_image(name)


async def test_registry_option_opens_the_registry_view(docker_host: str, filled_registry: Filled) -> None:
    """`imgtui --registry HOST` starts in the registry view; escape goes to the images."""
    from imgtui.cli import build_parser

    args = build_parser().parse_args(["--registry", filled_registry.address])
    engine = Engine.connect(docker_host)
    app = ImgtuiApp(engine, registry=args.registry, insecure_registries=args.insecure_registry)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RegistryScreen))
        screen = app.screen
        assert isinstance(screen, RegistryScreen)
        await wait_for(pilot, lambda: "kinds" in screen.repos.items)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0] and app.images.loaded)
    engine.close()


async def test_enter_on_a_registry_layer_opens_the_contents_without_a_pull(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, filled_registry: Filled, api, tmp_path, monkeypatch
) -> None:
    """kinds:second's top layer, read from the registry: the file the commit wrote, nothing pulled."""
    from imgtui.ui.screens.contents import ContentsScreen

    monkeypatch.setenv("IMGTUI_CACHE", str(tmp_path / "cache"))
    before = {i["Id"] for i in api.images(all=True)}
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_registry(pilot, app, filled_registry.address)
        await wait_for(pilot, lambda: "kinds" in screen.repos.items)
        await open_repository(pilot, screen, "kinds")
        await cursor_to(pilot, screen, "second")
        await wait_for(pilot, lambda: screen.layers_for == "second" and screen.layer_table.row_count >= 3)
        screen.layer_table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ContentsScreen) and app.screen.files is not None,
                       timeout=30)  # fmt: skip
        contents = app.screen
        assert isinstance(contents, ContentsScreen) and contents.files is not None
        assert "/second" in contents.files.nodes and contents.index == len(contents.analysis.layers) - 1
    assert {i["Id"] for i in api.images(all=True)} == before, "nothing pulled"


async def test_a_failed_catalog_says_it_failed_and_never_more(app: ImgtuiApp, faulty: FaultProxy) -> None:
    """The catalog answers 500 (twice: the client's one retry too): the repositories' title says it could not
    list them and why, with no "+ more"; `r` reads it again once the registry is back. With some pages read,
    a failing next page says "could not list the rest"."""
    error = json.dumps({"errors": [{"code": "UNKNOWN", "message": "backend restarting"}]}).encode()
    catalog = faulty.add(Rule("/v2/_catalog", answer=Canned(500, error), times=None))
    app.registries[(faulty.address, False)] = Registry(faulty.address, page_size=2)
    reason = f"listing repositories: {faulty.address} had an internal error (500: backend restarting)"
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_registry(pilot, app, faulty.address)
        await wait_for(pilot, lambda: "internal error" in screen.problem, timeout=20)
        title = str(screen.repos.border_title)
        assert title == f"Repositories: could not list ({reason})", title
        assert "more" not in title and screen.repos.row_count == 0
        assert reason in screen_text(app), "the sentence is on screen whole"
        faulty.rules.remove(catalog)
        faulty.add(Rule("last=", answer=Canned(500, error), times=None))  # the first page only
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.names and "internal error" in screen.problem, timeout=20)
        title = str(screen.repos.border_title)
        assert title == f"Repositories (2): could not list the rest ({reason})", title
        assert screen.repos.items == sorted(screen.repos.items) and len(screen.repos.items) == 2
        faulty.clear()
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.catalog_done, timeout=20)
        title = str(screen.repos.border_title)
        assert not screen.catalog_error and "could not" not in title and "more" not in title, title
        assert title.startswith(f"Repositories ({len(screen.repos.items)})") and "kinds" in screen.repos.items


async def test_the_tag_filter_matches_tag_names_only(app: ImgtuiApp, filled_registry: Filled) -> None:
    """A platform, a kind or a digest typed into the tags' filter matches no tag name, so no row; a tag's
    name keeps its platform rows (they carry its name)."""
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_registry(pilot, app, filled_registry.address)
        await open_repository(pilot, screen, "kinds")
        assert screen.focused is screen.tags

        async def shown(text: str) -> list[str]:
            await pilot.press("slash", "ctrl+u", *text)
            await wait_for(pilot, lambda: screen.tags.filter_text == text)
            await pilot.pause(0.05)
            return [r.key for r in screen.tags.shown_items]

        assert await shown("amd64") == [], "platform column"
        assert await shown(filled_registry.docker_digest[7:19]) == [], "digest column"
        assert await shown("index") == ["index", *(r.key for r in screen.tags.items if r.parent == "index")]
        assert await shown("oci") == ["oci", "oci-second"], "not the oci index (its kind)"
        assert await shown("docker") == ["docker"], "not the docker list nor every docker v2"
