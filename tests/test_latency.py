"""A slow link between imgtui and the engine (an ssh hop to a far server), made with the proxy of
imgtui/sandbox/proxy.py, which adds its delay to every request: the first screen costs the same requests
as on a local socket, and the cursor never waits for one. Requests are counted, never timed (the benchmark
table has the times: bench/run.py)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from imgtui.engine import Engine
from imgtui.sandbox import Sandbox
from imgtui.sandbox.proxy import EngineProxy
from imgtui.ui.app import ImgtuiApp
from tests.conftest import wait_for

ID = re.compile(r"sha256:[0-9a-f]{64}|(?<=/images/)[0-9a-f]{64}")


def what(request: tuple[str, str]) -> str:
    """A request without its API version, query or image ID: `GET /images/ID/history`."""
    method, path = request
    path = re.sub(r"^/v1\.\d+", "", path.split("?")[0])
    return f"{method} {ID.sub('ID', path.replace('%3A', ':'))}"


@pytest.fixture
def slow(sandbox: Sandbox) -> Iterator[EngineProxy]:
    """A proxy adding 100 ms to every request."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="imgtui-s-", dir="/tmp")) / "s.sock"
    proxy = EngineProxy(sandbox.socket, path, delay=0.1).start()
    yield proxy
    proxy.stop()


def first_screen(app: ImgtuiApp) -> bool:
    """Repositories, tags and the first tag's layers shown, and the status line's disk usage read."""
    view = app.images
    return bool(
        view.loaded
        and view.tags.row_count
        and view.layer_table.row_count
        and not view.layer_table.pending
        and view.disk_used is not None
    )


async def first_screen_requests(proxy: EngineProxy) -> Counter[str]:
    proxy.reset()
    engine = Engine.connect(proxy.docker_host)
    try:
        app = ImgtuiApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: first_screen(app), timeout=30)
            return Counter(what(r) for r in proxy.requests)
    finally:
        engine.close()


async def test_first_screen_needs_no_more_requests_over_a_slow_link(
    proxy: EngineProxy, slow: EngineProxy, store: str, on_podman: bool
) -> None:
    """The same requests, one for one, with 100 ms added to each as with none: the information, the event
    stream, the image list, the first tag's history, the disk usage."""
    local = await first_screen_requests(proxy)
    far = await first_screen_requests(slow)
    assert far == local, (far, local)
    assert far["GET /info"] == 1 and far["GET /events"] == 1 and far["GET /images/json"] == 1, far
    if store == "classic" and not on_podman:
        # The first tag's history (read while the UI starts) and `/system/df` for the status line.
        assert far == Counter(
            {"GET /info": 1, "GET /events": 1, "GET /images/json": 1, "GET /images/ID/history": 1,
             "GET /system/df": 1}
        ), far  # fmt: skip
    else:
        # The size model reads each image's inspect and history once (imgtui/engine/sizes.py): five
        # images at least in the seeds.
        assert "GET /system/df" not in far, far
        assert far["GET /images/ID/json"] == far["GET /images/ID/history"] >= 5, far


async def test_a_cursor_move_waits_on_no_request(slow: EngineProxy) -> None:
    """With the layers request of the row under the cursor held in the proxy (in flight as long as the test
    wants), keys still move the cursor and the screen is repainted; the layers follow once it answers."""
    engine = Engine.connect(slow.docker_host)
    app = ImgtuiApp(engine)
    frames: list[float] = []
    paint = app._display

    def display(screen, renderable) -> None:  # type: ignore[no-untyped-def]
        frames.append(time.monotonic())
        paint(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            view = app.images
            await wait_for(pilot, lambda: first_screen(app), timeout=30)
            assert view.repos.row_count >= 3
            # The size model (containerd store, Podman) has read every history already: forget them, so
            # that the move below has to ask.
            with engine._history_lock:
                engine._history.clear()
            slow.hold("/history")
            # Were the event loop to wait on the held request, the test would hang there: let it go after
            # 20 s, and the checks below that it is still in flight fail instead.
            guard = threading.Timer(20, slow.release)
            guard.start()
            view.repos.focus()
            for row in (1, 2):
                pressed = time.monotonic()
                await pilot.press("j")
                await wait_for(pilot, lambda: slow.held >= 1, timeout=10)
                await wait_for(pilot, lambda t=pressed: bool(frames) and frames[-1] > t, timeout=10)  # type: ignore[misc]
                assert view.repos.cursor_row == row
                assert view.layer_table.pending, "the layers pane says it is loading"
                assert slow.held >= 1, "the history request is still in flight"
            current = view.repos.current
            assert current is not None
            wanted = current.tags[0].image.id
            slow.release()
            await wait_for(pilot, lambda: not view.layer_table.pending, timeout=10)
            assert list(view.layer_table.items) == list(engine.cached_history(wanted) or ["not read"])
            assert slow.held == 0
            guard.cancel()
    finally:
        slow.release()
        engine.close()
