"""What a user met when trying imgtui (issue 15), each checked the way they met it: through the keys, on the
real sandbox engine, with another shell (the docker API) changing things underneath."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from rich.console import Console
from textual import events, on
from textual.app import App
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from imgtui.engine import Engine
from imgtui.engine.reference import BadReference, validate
from imgtui.sandbox.seed import run_and_commit
from imgtui.ui import commands
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.dialogs.login import LoginDialog
from imgtui.ui.dialogs.name import NameDialog
from imgtui.ui.screens.help import key_table
from imgtui.ui.widgets import tables
from tests.conftest import wait_for
from tests.test_app import screen_text
from tests.test_removal import NET, dialog, exists, log, open_tag

RUNS = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
"""A container command that keeps running and exits at once when stopped (no 10 s stop timeout)."""


def make(api: docker.APIClient, repo: str, tag: str, content: str) -> str:
    """An image of its own (one small layer on busybox) named repo:tag; returns its ID."""
    write = ["sh", "-c", f"echo {content} > /x"]
    return run_and_commit(
        api, "busybox:latest", f"mk-{repo.replace('/', '-')}-{tag}", write, repo, tag, remove=True
    )


def status(app: ImgtuiApp) -> str:
    return str(app.images.status.render())


@pytest.fixture
def images(api: docker.APIClient, unique: str, cleanup: list[str]) -> Iterator[dict[str, str]]:
    """Two repositories of one tag each, on different images: rel-a-U:1 and rel-b-U:1."""
    made = {}
    for name in ("a", "b"):
        repo = f"rel-{name}-{unique}"
        made[repo] = make(api, repo, "1", f"{name}{unique}")
        cleanup.append(made[repo])
    yield made


async def mark_then_open(pilot, app: ImgtuiApp, marked: str, then: str) -> None:  # type: ignore[no-untyped-def]
    """Mark `marked`:1 in the tags pane, then open repository `then` and put the cursor on its tag 1."""
    await open_tag(pilot, app, marked, "1")
    await pilot.press("space")
    app.images.repos.focus()
    await pilot.press("escape")  # the repositories filter
    await open_tag(pilot, app, then, "1")


async def test_n_cancels_a_removal(app_for, api, images: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """The footer and README say `n` cancels a removal dialog: it does, and nothing is removed."""
    repo = next(iter(images))
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, repo, "1")
        await pilot.press("d")
        await dialog(pilot, app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceDialog))
        assert f"Cancelled: nothing removed ({repo}:1)" in log(app)
        assert exists(api, f"{repo}:1")


async def test_marks_span_repositories_and_d_previews_them_all(app_for, api, images: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """A tag marked in one repository and one in another: the status line says so, `d` previews both names
    (not only the shown repository's), `y` removes both, and the marks are gone after."""
    a, b = images
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await mark_then_open(pilot, app, a, b)
        await pilot.press("space")
        await wait_for(pilot, lambda: "2 names marked in 2 repositories" in status(app))
        await pilot.press("d")
        box = await dialog(pilot, app)
        assert "Remove 2 names?" in box.shown_text
        assert f"{a}:1: deletes" in box.shown_text and f"{b}:1: deletes" in box.shown_text
        await pilot.press("y")
        await wait_for(pilot, lambda: "Reclaimed" in log(app))
        assert f"Deleted: {images[a]}" in log(app) and f"Deleted: {images[b]}" in log(app)
        assert not exists(api, images[a]) and not exists(api, images[b])
        assert not app.images.tags.marked and "marked" not in status(app)


async def test_a_mark_is_never_dropped_without_a_word(app_for, api, images: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """A marked name removed from another shell: the mark goes, and the log says which and why."""
    a, b = images
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await mark_then_open(pilot, app, a, b)  # the mark is in a repository no longer shown
        await wait_for(pilot, lambda: "1 name marked in 1 repository" in status(app))
        api.remove_image(f"{a}:1")
        await wait_for(pilot, lambda: f"Unmarked {a}:1: no longer listed under that name" in log(app))
        assert not app.images.tags.marked and "marked" not in status(app)


async def test_a_called_off_removal_logs_no_command(app_for, api, images: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """The state changes between the preview and `y`: the log says it was called off, never `rmi NAME`
    (nothing ran), the new preview comes up, and the image is still there."""
    repo = next(iter(images))
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, repo, "1")
        await pilot.press("d")
        first = await dialog(pilot, app)
        assert "Deletes the image" in first.shown_text
        api.tag(images[repo], repo, "other")  # now :1 only untags
        await pilot.press("y")
        await wait_for(pilot, lambda: "Called off" in log(app))
        assert f"Called off {repo}:1: the engine changed since the preview; nothing was removed" in log(app)
        assert "rmi " not in log(app)
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog) and app.screen is not first)
        assert isinstance(app.screen, ChoiceDialog)
        assert f"Keeps:  {repo}:other" in app.screen.shown_text
        assert exists(api, f"{repo}:1")


async def test_stop_and_remove_says_it_is_stopping(  # type: ignore[no-untyped-def]
    app_for,
    api,
    images: dict[str, str],
    cleanup: list[str],
) -> None:
    """Stopping a container can take the engine's whole stop timeout: the log says so before it starts
    waiting, and the command line names what runs (stop, rm, rmi)."""
    repo = next(iter(images))
    name = f"{repo}-runs"
    api.start(
        api.create_container(f"{repo}:1", command=RUNS, name=name, host_config=api.create_host_config(**NET))
    )
    cleanup.append(f"c:{name}")
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, repo, "1")
        await pilot.press("d")
        box = await dialog(pilot, app)
        assert f"stop and remove {name}, then remove" in box.shown_text
        await pilot.press("s")
        await wait_for(pilot, lambda: "Reclaimed" in log(app), timeout=30)
        text = log(app)
        assert f"stop {name}; rm {name}; rmi {repo}:1" in text
        stopping = text.index(f"Stopping container {name} (the engine waits up to 10 s)")
        assert stopping < text.index(f"Stopped container {name}") < text.index(f"Deleted: {images[repo]}")


async def test_prune_preview_says_which_dangling_images_it_leaves(  # type: ignore[no-untyped-def]
    app_for,
    api,
    images: dict[str, str],
    cleanup: list[str],
) -> None:
    """A dangling image a running container uses: the status line counts it, the engine's prune skips it,
    and the preview says so, with the container's name; the preview's images and the ones it leaves add up
    to the status line's dangling count."""
    repo = next(iter(images))
    name = f"{repo}-keeps"
    api.start(
        api.create_container(f"{repo}:1", command=RUNS, name=name, host_config=api.create_host_config(**NET))
    )
    cleanup.append(f"c:{name}")
    api.remove_image(f"{repo}:1", force=True)  # now dangling (force past a running container only untags)
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.press("D")
        box = await dialog(pilot, app)
        short = images[repo][7:19]
        assert f"{short}  left in place: used by container {name}" in box.shown_text
        dangling = int(re.search(r"(\d+) dangling", status(app)).group(1))  # type: ignore[union-attr]
        previewed = len(re.findall(r"\(frees ", box.shown_text))
        left = box.shown_text.count("left in place:")
        assert previewed + left == dangling, box.shown_text
        await pilot.press("escape")
        assert "Cancelled: nothing pruned" in log(app)


async def test_layer_tags_follow_an_outside_tag_and_the_layers_filter_shows(  # type: ignore[no-untyped-def]
    app_for,
    api,
    images: dict[str, str],
) -> None:
    """The `tags:` line of a layer is the engine's current names (history is cached by image ID), and the
    layers filter says what it filters, as the other panes do."""
    repo = next(iter(images))
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, repo, "1")
        detail = lambda: str(app.images.detail.render())  # noqa: E731
        await wait_for(pilot, lambda: f"tags: {repo}:1" in detail())
        api.tag(images[repo], repo, "later")
        await wait_for(pilot, lambda: f"{repo}:later" in detail())
        await pilot.press("tab")
        assert app.focused is app.images.layer_table
        await pilot.press("slash", *"echo", "enter")
        title = str(app.images.layer_table.border_title)
        assert re.search(r"\(1/2\) filter: echo", title), title


async def test_relative_times_age_while_the_app_is_open(  # type: ignore[no-untyped-def]
    app_for,
    api,
    images: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'x seconds ago' is read again while the app stays open (every minute; here every second)."""
    monkeypatch.setattr(tables, "AGE_EVERY", 1.0)
    repo = next(iter(images))
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await open_tag(pilot, app, repo, "1")
        table = app.images.tags
        key = table.item_key(table.current)  # type: ignore[arg-type]
        created = lambda: str(table.get_cell(key, "created"))  # noqa: E731
        first = created()
        await wait_for(pilot, lambda: created() != first, timeout=5)
        assert "ago" in created()


def test_help_wraps_every_line_at_80_columns() -> None:
    """At 80x24 the help box has 66 columns for the table: every description is there in full, wrapped,
    and no line is wider than the box."""
    console = Console(width=66, record=True, color_system=None)
    console.print(key_table())
    shown = console.export_text()
    assert max(len(line) for line in shown.splitlines()) <= 66
    flat = " ".join(shown.split())
    for _, key, what in commands.help_rows():
        for word in what.split():
            assert word in flat, (key, word)


def test_tag_complaints_fit_and_ids_are_refused() -> None:
    """A 64-hex repository name reads as an image ID to the engine: refused before it is sent. A 200
    character tag, or a long bad name, gets a complaint whose reason is on the dialog's first line (at
    most 40 characters of the input are repeated)."""
    with pytest.raises(BadReference, match="reads as an image ID"):
        validate("a" * 64)
    with pytest.raises(BadReference) as long_tag:
        validate("repo:" + "x" * 200)
    assert str(long_tag.value) == "the tag is 200 characters long: at most 128"
    with pytest.raises(BadReference) as bad_component:
        validate("Ab" * 100 + "-")
    said = str(bad_component.value)
    assert said.index("is not a valid name component") < 50, "the reason starts on the dialog's first line"


class FormApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(LoginDialog("127.0.0.1:5000"))


async def test_keys_in_one_burst_after_tab_land_in_the_next_field() -> None:
    """A burst (a paste, or one read over ssh) of `tab` and text: the text lands in the field tab moved to,
    as it does when typed slowly."""
    app = FormApp()
    async with app.run_test() as pilot:
        await pilot.pause(0.2)
        assert app.focused is not None and app.focused.id == "login-user"
        burst(app, [("tab", None), *((c, c) for c in "s3cret")])
        await pilot.pause(0.3)
        values = {i.id: i.value for i in app.screen.query(Input)}
        assert values == {"login-registry": "127.0.0.1:5000", "login-user": "", "login-password": "s3cret"}


def burst(app: App[None], keys: list[tuple[str, str | None]]) -> None:
    """Queue keys at once, as the terminal driver does with one read (a paste, a burst over ssh)."""
    for key, char in keys:
        event = events.Key(key, char)
        event.set_sender(app)
        app.post_message(event)


async def test_a_burst_after_slash_or_t_is_typed_where_the_key_went(app_for, images: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """`/` then a name with a `d` in it, in one burst: the name is typed into the filter line; before, the
    letters reached the pane behind it and `d` opened a removal preview. Same after `t`: the new name is
    typed into the dialog."""
    repo = next(iter(images))
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.pause(0.2)
        burst(app, [("slash", "/"), *((c, c) for c in repo)])
        await wait_for(pilot, lambda: app.images.repos.filter_text == repo)
        await pilot.pause(0.5)
        assert app.screen is app.images, "no dialog was opened by the letters"
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: app.focused is app.images.tags)
        burst(app, [("t", "t"), *((c, c) for c in "ddd:1")])
        await wait_for(pilot, lambda: isinstance(app.screen, NameDialog))
        await wait_for(pilot, lambda: app.screen.query_one(Input).value == "ddd:1")


def files_holding(folder: Path, secret: bytes) -> list[str]:
    """Every file under `folder` whose bytes contain `secret` (as typed, or as JSON would escape it)."""
    hits = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if secret in data or json.dumps(secret.decode()).encode()[1:-1] in data:
                hits.append(str(path))
    return hits


class Watched(ImgtuiApp):
    """The app, keeping every notification it gave and the text of every error a worker raised."""

    CSS_PATH = str(Path(sys.modules[ImgtuiApp.__module__].__file__ or "").parent / "app.tcss")

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.said: list[str] = []
        self.errors: list[str] = []

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.said.append(f"{kwargs.get('title', '')} {message}")
        super().notify(message, **kwargs)

    @on(Worker.StateChanged)
    def _keep_error(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self.errors.append(f"{error!r} {error}")


async def test_a_typed_password_is_in_no_screen_log_file_or_error(  # type: ignore[no-untyped-def]
    docker_host: str, auth_registry: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R6: the password typed in `A` (a wrong one, then the right one), through a failed login, a login, the
    registry view and a logout: never on any screen drawn, in the outcome log, in a notification, in an
    error's text, or in any file under HOME (the docker config keeps base64 of user:password in `auths`, as
    `docker login` does without a credential helper; the password itself is not in it)."""
    server, user, password = auth_registry
    home = tmp_path / "home"
    home.mkdir()
    for name in ("DOCKER_CONFIG", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "IMGTUI_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    wrong = 'Wr0ng-pass"word'
    seen: list[str] = []
    app = Watched(Engine.connect(docker_host))

    def look() -> None:
        seen.append(screen_text(app))
        seen.append(log(app))

    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        for secret, outcome in ((wrong, f"login to {server} failed"), (password, "Login Succeeded")):
            await pilot.press("A")
            await wait_for(
                pilot, lambda: isinstance(app.screen, LoginDialog) and isinstance(app.focused, Input)
            )
            await pilot.press("ctrl+u", *server, "tab", *user, "tab", *secret)
            look()
            await pilot.press("enter")

            def answered(said: str = outcome) -> bool:
                return said in log(app)

            await wait_for(pilot, answered, timeout=30)
            look()
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog) or app.screen is not app.images)
        look()
        await pilot.press("escape")
        commands.run(app.screen, "logout")  # a palette command, no key
        await wait_for(pilot, lambda: isinstance(app.focused, Input))
        await pilot.press("ctrl+u", *server, "enter")
        await wait_for(pilot, lambda: f"Removed login credentials for {server}" in log(app), timeout=30)
        look()
    for secret in (wrong, password):
        assert not [text for text in seen + app.said if secret in text], "shown"
        assert not [text for text in app.errors if secret in text], "in an error"
        assert files_holding(home, secret.encode()) == [], "in a file under HOME"
        assert files_holding(tmp_path, secret.encode()) == []
    app.engine.close()


def test_progress_reaches_the_job_bar_at_most_ten_times_a_second() -> None:
    """A save reports each chunk the engine sends (37,508 reports for 1.07 GB measured): the job bar gets at
    most one message a layer every 0.1 s, plus each layer's first report, a change of its status, and the
    report that completes it."""
    from imgtui.engine.transfer import Progress
    from imgtui.ui.features.jobs import Paced

    now = [0.0]
    posted: list[Progress] = []
    paced = Paced(posted.append, clock=lambda: now[0])
    for n in range(1, 37_509):  # 1.07 GB in 28 KiB chunks over 2.5 s
        now[0] = n * 2.5 / 37_508
        paced(Progress("save", n * 28_672, 37_508 * 28_672))
    assert 25 <= len(posted) <= 27, len(posted)
    assert posted[-1].done == posted[-1].total, "the report that completes it"
    posted.clear()
    for n in range(1, 1001):  # past an estimated total (a save's stream outgrows the images' sizes)
        now[0] = 3.0 + n * 0.0001
        paced(Progress("save", 37_508 * 28_672 + n, 37_508 * 28_672))
    assert len(posted) <= 1, "completing is said once, not for every report after"
    posted.clear()
    for status in ("Waiting", "Downloading", "Downloading", "Pull complete"):  # one instant, one layer
        paced(Progress("pull", 0, 0, layer="a1", status=status))
    paced(Progress("pull", 0, 0, layer="b2", status="Waiting"))
    assert [(p.layer, p.status) for p in posted] == [
        ("a1", "Waiting"),
        ("a1", "Downloading"),
        ("a1", "Pull complete"),
        ("b2", "Waiting"),
    ]


async def test_the_outcome_log_uses_the_width_it_has(app_for) -> None:  # type: ignore[no-untyped-def]
    """A line logged while the log is hidden, or as it is being shown, is laid out at the log's width once
    it has one: RichLog wrapped it at its min_width, 78 columns, for good (in any terminal). Pilot's console
    is 80 columns wide, so the line here is 80 with its time: one row, where it was two."""
    from imgtui.engine import OutcomeLine

    app = app_for()
    long = "Deleted: sha256:" + "0123456789abcdef" * 3 + "0123456"  # 71 characters, 80 with the time
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        log_widget = app.images.outcome
        assert not log_widget.display or not log_widget.has_class("shown")
        app.images.log_lines(OutcomeLine("deleted", long))
        await wait_for(pilot, lambda: len(log_widget.lines) > 0)
        assert len(log_widget.lines) == 1, "one row, not wrapped at 78"
        await pilot.press("l")  # hidden
        app.images.outcome.add(OutcomeLine("deleted", long))
        await pilot.pause(0.2)
        await pilot.press("l")  # shown again
        await wait_for(pilot, lambda: len(log_widget.lines) == 2)
        assert "".join(seg.text for seg in log_widget.lines[1]).rstrip().endswith("cdef0123456")
