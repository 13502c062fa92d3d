"""The app through Pilot, against the real sandbox engine: what the panes show, the keys, live updates."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Callable, Iterator

import pytest
from rich.text import Text
from textual.worker import WorkerState

from imgtui.engine import NONE, Engine
from imgtui.sandbox.proxy import EngineProxy
from imgtui.sandbox.seed import run_and_commit
from imgtui.ui import commands
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.screens.help import HelpScreen
from imgtui.ui.widgets.tables import ItemTable
from tests.conftest import PODMAN_COMMAND, layer_size_text, wait_for


@pytest.fixture
def make_app() -> Iterator[Callable[[str], ImgtuiApp]]:
    engines: list[Engine] = []

    def make(host: str) -> ImgtuiApp:
        engines.append(Engine.connect(host))
        return ImgtuiApp(engines[-1])

    yield make
    for engine in engines:
        engine.close()


def text_of(app: ImgtuiApp, widget_id: str) -> str:
    return str(app.query_one(widget_id).content)  # type: ignore[attr-defined]


def screen_text(app: ImgtuiApp) -> str:
    """What the terminal shows, as plain text (from the SVG screenshot, which has the real render)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg.split("</style>")[-1])).replace("\xa0", " ")


def row_text(table: ItemTable, row: int) -> str:
    """The row's cells as they show (a string cell is Rich markup, as DataTable reads it)."""
    return " ".join(
        Text.from_markup(cell).plain if isinstance(cell, str) else str(cell) for cell in table.get_row_at(row)
    )


@pytest.fixture
def seed_dangling(api) -> None:  # type: ignore[no-untyped-def]
    """The seeds' dangling image (demo/app's first build), made again the seeds' way when a test before
    this one pruned the dangling images (test_removal and test_cleanup do, when they run first)."""
    if any(not [n for n in row.get("RepoTags") or () if n != "<none>:<none>"] for row in api.images()):
        return
    for build in ("1", "2"):
        write = ["sh", "-c", f"mkdir -p /app && echo 'version {build}' > /app/VERSION"]
        run_and_commit(api, "busybox:latest", f"demo-app-rebuild-{build}", write, "demo/app", "rebuilt",
                       message=f"build {build}", author="ci", remove=True)  # fmt: skip
    api.remove_image("demo/app:rebuilt")


async def move_to(pilot, table: ItemTable, wanted: Callable[[object], bool]) -> None:  # type: ignore[no-untyped-def]
    """Press j until the cursor is on the wanted row, as a user would."""
    table.focus()
    for _ in range(table.row_count + 1):
        if table.current is not None and wanted(table.current):
            return
        await pilot.press("j")
    raise AssertionError(f"no row matched in {table.id}: {[str(i) for i in table.shown_items]}")


async def test_panes_follow_each_other_down_to_the_commit_messages(
    make_app, docker_host: str, store: str, seed_dangling: None
) -> None:
    app = make_app(docker_host)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        names = [r.name for r in app.images.repos.shown_items]
        assert {"busybox", "commit_test", "my-image-name", "alicek107/my-image-name"} <= set(names)
        assert names[-1] == NONE, "dangling images are grouped last as <none>"
        await move_to(pilot, app.images.repos, lambda r: r.name == "commit_test")  # type: ignore[attr-defined]
        assert "2" in row_text(app.images.repos, app.images.repos.cursor_row), "commit_test has two tags"
        await pilot.press("enter")
        assert app.focused is app.images.tags
        assert {t.tag for t in app.images.tags.shown_items} == {"first", "second"}
        await move_to(pilot, app.images.tags, lambda t: t.tag == "second")  # type: ignore[attr-defined]
        await wait_for(
            pilot, lambda: app.images.layer_table.row_count >= 3 and not app.images.layer_table.pending
        )
        top, below = row_text(app.images.layer_table, 0), row_text(app.images.layer_table, 1)
        # Podman's history gives every commit the command /bin/sh (PODMAN_COMMAND), not what the container
        # ran; the message is the committed image's Comment, which imgtui shows in its place.
        command = PODMAN_COMMAND if store == "podman" else "sh -c echo test_second! >> second"
        assert layer_size_text(store, 13) in top and "my second commit" in top and command in top
        assert layer_size_text(store, 12) in below and "my first commit" in below
        size_header = "Disk" if store == "containerd" else "Size"
        assert [c.label.plain for c in app.images.layer_table.columns.values()][3] == size_header, (
            "says what sizes mean"
        )
        await pilot.press("enter")
        assert app.focused is app.images.layer_table
        detail = text_of(app, "#detail")
        assert f"{command}\ncomment: my second commit" in detail
        assert "Layers of commit_test:second" in str(app.images.layer_table.border_title)


async def test_shared_id_is_marked_and_named(make_app, docker_host: str) -> None:
    app = make_app(docker_host)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await move_to(pilot, app.images.repos, lambda r: r.name == "my-image-name")  # type: ignore[attr-defined]
        assert "0.0 +1" in row_text(app.images.tags, 0)
        # the layers pane follows once the cursor rests (HISTORY_DELAY)
        named = "also named alicek107/my-image-name:0.0"
        await wait_for(pilot, lambda: named in str(app.images.layer_table.border_title))


async def test_dangling_images_show_as_none_with_their_layers(
    make_app, docker_host: str, seed_dangling: None
) -> None:
    app = make_app(docker_host)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await move_to(pilot, app.images.repos, lambda r: r.name == NONE)  # type: ignore[attr-defined]
        assert all(t.image.dangling and t.tag == NONE for t in app.images.tags.shown_items)
        dangling = app.images.tags.current
        assert dangling is not None
        # the layers pane follows once the cursor rests: wait for the dangling image's own layers
        await wait_for(
            pilot, lambda: str(app.images.layer_table.border_title) == f"Layers of {dangling.image.short_id}"
        )
        await wait_for(
            pilot, lambda: app.images.layer_table.row_count >= 2 and not app.images.layer_table.pending
        )
        assert "build 1" in row_text(app.images.layer_table, 0), (
            "the first demo/app build is the dangling one"
        )
        assert "disk" in text_of(app, "#status") or "dangling" in text_of(app, "#status")


async def test_keys_move_between_panes_and_help_lists_them(make_app, docker_host: str) -> None:
    app = make_app(docker_host)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        assert app.focused is app.images.repos
        await pilot.press("tab")
        assert app.focused is app.images.tags
        await pilot.press("tab")
        assert app.focused is app.images.layer_table
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused is app.images.repos
        start = app.images.repos.cursor_row
        await pilot.press("j", "j")
        assert app.images.repos.cursor_row == start + 2
        await pilot.press("k")
        assert app.images.repos.cursor_row == start + 1
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = app.screen.shown_text
        for key in ("tab", "enter", "/", "escape", "r", "?", "q", "j k"):
            assert key in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Refresh", "Filter", "Keys", "Focus layers"} <= titles
        bound = {b.id for b in [*app.BINDINGS, *app.images.BINDINGS] if hasattr(b, "id")}
        assert {"filter", "refresh", "help", "quit"} <= bound
        assert len(commands.help_rows()) >= 8


async def test_filter_as_you_type_then_escape(make_app, docker_host: str) -> None:
    app = make_app(docker_host)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        total = app.images.repos.row_count
        await pilot.press("slash", *"commit")
        assert [r.name for r in app.images.repos.shown_items] == ["commit_test"]
        assert "filter: commit" in str(app.images.repos.border_title)
        assert {t.tag for t in app.images.tags.shown_items} == {"first", "second"}, (
            "tags follow the filtered cursor"
        )
        await pilot.press("enter")
        assert app.focused is app.images.repos and app.images.repos.row_count == 1
        await pilot.press("escape")
        assert app.images.repos.row_count == total and app.images.repos.filter_text == ""
        # Letters that are keys elsewhere (q quits) are text while the filter line has focus.
        await pilot.press("slash", "q")
        assert app.is_running and app.images.repos.filter_text == "q"
        await pilot.press("escape")
        assert app.focused is app.images.repos and app.images.repos.row_count == total


async def test_outside_changes_show_up_without_a_keypress(
    make_app,
    proxy: EngineProxy,
    docker_cli,
    sandbox,
    unique: str,  # type: ignore[no-untyped-def]
) -> None:
    """`docker tag`, `docker commit`, `docker rmi` and `docker load` in another shell, each reflected by
    inspecting only the touched image: never a full re-list. On Podman the commit is `podman commit`:
    Podman 4.3 refuses the docker CLI's commit request ("Decode(): EOF", it sends no body), and names the
    image `localhost/NAME`, as the list then shows it; its commit and load events do not say which image,
    so each costs a list."""
    app = make_app(proxy.docker_host)
    repo = f"live-{unique}/img"
    committed = f"{repo}-commit"
    names = lambda: {r.name for r in app.images.repos.items}  # noqa: E731
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        proxy.reset()
        docker_cli("tag", "busybox:latest", f"{repo}:1")
        await wait_for(pilot, lambda: repo in names(), timeout=5)
        assert proxy.count(contains="/images/json") == 0, proxy.requests
        assert proxy.count(contains=f"/images/{'sha256'}") >= 1
        if sandbox.engine_kind == "podman":
            committed = f"localhost/{committed}"
            podman = ["podman", "--remote", "--url", sandbox.docker_host, "commit", "--format", "docker"]
            made = [*podman, "-m", "from outside", "commit_test", f"{committed}:1"]
            subprocess.run(made, check=True, capture_output=True, env=sandbox.env())
        else:
            docker_cli("commit", "-m", "from outside", "commit_test", f"{committed}:1")
        await wait_for(pilot, lambda: committed in names(), timeout=5)
        # Podman's commit event names the container only: imgtui lists the images once to find the new one.
        relisted = 1 if sandbox.engine_kind == "podman" else 0
        assert proxy.count(contains="/images/json") == relisted, proxy.requests
        docker_cli("save", "-o", f"/tmp/imgtui-{unique}.tar", f"{repo}:1")
        docker_cli("rmi", f"{repo}:1", f"{committed}:1")
        await wait_for(pilot, lambda: repo not in names() and committed not in names(), timeout=5)
        docker_cli("load", "-i", f"/tmp/imgtui-{unique}.tar")
        await wait_for(pilot, lambda: repo in names(), timeout=5)
        # And for a load: Podman's event of it (`loadfromarchive`) has no image ID.
        relisted = 2 if sandbox.engine_kind == "podman" else 0
        assert proxy.count(contains="/images/json") == relisted, "live updates never re-list everything"
        docker_cli("rmi", f"{repo}:1")
        await wait_for(pilot, lambda: repo not in names(), timeout=5)


async def test_a_moved_tag_leaves_the_old_image(make_app, docker_host: str, docker_cli, unique: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(docker_host)
    name = f"moving-{unique}:x"
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        docker_cli("tag", "commit_test:first", name)
        await wait_for(
            pilot,
            lambda: (
                name in app.images.catalog.names_for(app.images.catalog.resolve("commit_test:first") or "")
            ),
        )
        docker_cli("tag", "busybox:latest", name)
        await wait_for(
            pilot,
            lambda: name in app.images.catalog.names_for(app.images.catalog.resolve("busybox:latest") or ""),
        )
        assert name not in app.images.catalog.names_for(app.images.catalog.resolve("commit_test:first") or "")
        docker_cli("rmi", name)


async def test_disconnect_then_recover(make_app, proxy: EngineProxy) -> None:
    app = make_app(proxy.docker_host)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        rows = app.images.repos.row_count
        proxy.stop()
        await wait_for(pilot, lambda: not app.images.connected, timeout=5)
        assert "disconnected" in text_of(app, "#status")
        assert app.images.repos.row_count == rows, "what was listed stays readable while the engine is away"
        proxy.start()
        await wait_for(pilot, lambda: app.images.connected, timeout=10)
        assert "disconnected" not in text_of(app, "#status")
        assert app.images.repos.row_count == rows


async def test_q_quits_and_ends_the_event_worker(make_app, docker_host: str) -> None:
    app = make_app(docker_host)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        (follower,) = [w for w in app.workers if w.group == "engine"]
        await pilot.press("q")
    await wait_for(pilot, lambda: follower.state in (WorkerState.CANCELLED, WorkerState.SUCCESS), timeout=5)


async def test_readable_at_80x24(make_app, docker_host: str, store: str) -> None:
    app = make_app(docker_host)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await move_to(pilot, app.images.repos, lambda r: r.name == "commit_test")  # type: ignore[attr-defined]
        await wait_for(
            pilot, lambda: app.images.layer_table.row_count >= 2 and not app.images.layer_table.pending
        )
        for table in (app.images.repos, app.images.tags, app.images.layer_table):
            region = table.content_region
            assert region.width >= 28 and region.height >= 4, (table.id, region)
            assert region.right <= 80
        assert "images" in text_of(app, "#status")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.query_one("#help-table").content_region.height >= 10, "help is readable at 80x24"
        await pilot.press("escape")
        # The layer sizes and the comments fit on screen, not only in the detail line.
        screen = screen_text(app)
        assert layer_size_text(store, 12) in screen or layer_size_text(store, 13) in screen
        assert "my first" in screen or "my second" in screen


async def test_fast_cursor_moves_do_not_request_history_per_row(
    make_app,
    proxy: EngineProxy,
    api,
    unique: str,  # type: ignore[no-untyped-def]
    store: str,
) -> None:
    """Twenty rows passed in one burst cost one history request (for the row the cursor rests on). On the
    containerd store the size model may have read that history already (for the status line): none then."""
    from imgtui.sandbox.generate import load

    prefix = f"burst-{unique}"
    load(api, 25, prefix=prefix)
    app = make_app(proxy.docker_host)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.images.loaded)
            await pilot.press("slash", *prefix, "enter")
            assert app.images.repos.row_count == 25
            await wait_for(
                pilot, lambda: app.images.layer_table.row_count == 1 and not app.images.layer_table.pending
            )
            proxy.reset()
            for _ in range(20):
                app.images.repos.action_cursor_down()
            rested = app.images.repos.current
            assert app.images.repos.cursor_row == 20 and rested is not None
            image_id = rested.tags[0].image.id
            layers = app.images.layer_table
            shown = lambda: layers.current is not None and layers.current.id == image_id  # noqa: E731
            await wait_for(pilot, shown)
            if store == "classic":
                assert proxy.count(contains="/history") == 1, proxy.requests
            else:
                assert proxy.count(contains="/history") <= 1, proxy.requests
            assert f"generated image {rested.name.rsplit('img', 1)[1]}" in row_text(app.images.layer_table, 0)
    finally:
        for n in range(25):
            api.remove_image(f"{prefix}/img{n}:t0")


async def test_keys_typed_ahead_act_on_the_row_they_reached(make_app, docker_host: str) -> None:
    """`j j enter t` typed at once: the tag dialog is for the repository the cursor reached."""
    app = make_app(docker_host)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        start = app.images.repos.cursor_row
        target = app.images.repos.shown_items[start + 2]
        from textual import events

        from imgtui.ui.dialogs.name import NameDialog

        for key, char in (("j", "j"), ("j", "j"), ("enter", "\r"), ("t", "t")):
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)  # type: ignore[union-attr]  # no wait between keys: typed ahead

        await wait_for(pilot, lambda: isinstance(app.screen, NameDialog))
        assert app.screen.title_text.endswith(target.tags[0].image.short_id)  # type: ignore[attr-defined]
