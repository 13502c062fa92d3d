"""Registry faults (issue 15, R3): the client in front of a real registry (docker-registry 2.8 on 127.0.0.1,
the session's `filled_registry`) through a fault proxy (tests/fault_proxy.py) that stalls, resets, answers
500 or garbage where the test says. Each fault ends in one sentence for the user (what `errors.sentence`
shows: the exception's text, never a traceback), after no longer than the client's timeout and a small
margin, measured here with explicit deadlines. 10,000 catalog pages (and Link headers that loop) come from a
small fake server at the protocol boundary (a real registry would need 10,000 repositories pushed first, and
cannot be made to loop). The last tests do the same through the registry view."""

from __future__ import annotations

import bisect
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest
from textual.widgets import Input

from imgtui.layers.cache import LayerCache
from imgtui.layers.files import from_registry_blobs
from imgtui.layers.reading import LayerError
from imgtui.layers.sources import from_registry
from imgtui.registry import Registry, RegistryError
from imgtui.registry.client import RETRY_PAUSE
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.registry import RegistryDialog
from imgtui.ui.errors import sentence
from imgtui.ui.screens.registry import MORE_WHEN_WITHIN, RegistryScreen
from tests.conftest import Filled, wait_for
from tests.fault_proxy import Canned, FaultProxy, Rule
from tests.test_app import screen_text
from tests.test_registry_ui import open_registry

TIMEOUT = 2.0
"""The client's timeout in these tests (the app's is 15 s)."""
MARGIN = 1.0
"""What a fault may add to the timeout: one retry pause (0.5 s) and a loaded 2-core machine's scheduling."""
FIGURES: dict[str, float] = {}
"""Seconds waited per fault (and pages read), printed after the module (`pytest -s`) for the record."""


@pytest.fixture(scope="module", autouse=True)
def _print_figures() -> Iterator[None]:
    yield
    for name, value in FIGURES.items():
        print(f"figure {name}: {value:.3f}")


class Clock:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds = 0.0

    def __enter__(self) -> Clock:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start
        FIGURES[self.name] = self.seconds


def said(error: BaseException) -> str:
    """The sentence the user sees: one line of words, no traceback, no Python exception names."""
    text = sentence(error)
    assert text == str(error) and "\n" not in text and "Traceback" not in text, text
    assert "Error(" not in text and "urllib3" not in text, f"library internals in the sentence: {text}"
    return text


def client(proxy: FaultProxy) -> Registry:
    return Registry(proxy.address, timeout=TIMEOUT)


# -- (a) timeouts ----------------------------------------------------------------------------------------
def test_a_hung_registry_is_given_up_after_the_timeout_not_twice_it(faulty: FaultProxy) -> None:
    """Every connection accepted and never answered, from the first (the https probe a loopback registry
    gets) on: one timeout, not one for the probe and another for plain HTTP."""
    faulty.frozen = True
    registry = client(faulty)
    with Clock("a hung registry: catalog") as clock, pytest.raises(RegistryError) as info:
        registry.catalog()
    assert clock.seconds < TIMEOUT + MARGIN, f"waited {clock.seconds:.2f} s"
    assert said(info.value).startswith(f"{faulty.address} did not answer within 2 s")


def test_a_stalled_catalog_and_manifest_after_the_registry_answered(faulty: FaultProxy) -> None:
    registry = client(faulty)
    registry.ping()
    faulty.add(Rule("/v2/_catalog", stall=True))
    with Clock("stalled catalog") as clock, pytest.raises(RegistryError) as info:
        registry.catalog()
    assert clock.seconds < TIMEOUT + MARGIN, f"waited {clock.seconds:.2f} s"
    assert said(info.value) == f"{faulty.address} did not answer within 2 s (it may be down or overloaded)"
    assert faulty.seen.count("GET /v2/_catalog?n=100") == 1, "a timeout is not tried again"
    # Headers sent, then the body stops: requests calls that a ConnectionError; it is a timeout all the same.
    faulty.add(Rule("/v2/kinds/manifests/second", stall_after=100))
    with Clock("manifest stalled mid-body") as clock, pytest.raises(RegistryError) as info:
        registry.manifest("kinds", "second")
    assert clock.seconds < TIMEOUT + MARGIN, f"waited {clock.seconds:.2f} s"
    assert "did not answer within 2 s" in said(info.value)


def test_a_layer_blob_that_stalls_midway(faulty: FaultProxy, tmp_path: Path) -> None:
    registry = client(faulty)
    manifest = registry.manifest("kinds", "second")
    blob, size = manifest.layers[0]  # busybox's layer, about 2 MB
    faulty.add(Rule(f"/blobs/{blob}", stall_after=100_000))
    with Clock("layer blob stalled midway") as clock, pytest.raises(LayerError) as info:
        from_registry(registry, "kinds", "second", LayerCache(tmp_path))
    assert clock.seconds < TIMEOUT + MARGIN, f"waited {clock.seconds:.2f} s"
    text = said(info.value)
    assert text.startswith(f"layer {blob[7:19]} of kinds: {faulty.address} stopped sending after "), text
    assert f"of {size:,} bytes and did not go on within 2 s" in text, text
    broken = registry.config_body("kinds", manifest)["rootfs"]["diff_ids"][0]
    assert LayerCache(tmp_path).get(broken) is None, "nothing of the broken layer is cached"
    # The image's other layer, read beside it (sources.BLOB_READERS), is whole and may well be kept.


# -- (b) a connection reset ------------------------------------------------------------------------------
def test_a_reset_in_the_middle_of_a_layer_blob(
    faulty: FaultProxy, filled_registry: Filled, tmp_path: Path
) -> None:
    """The layer-contents source reads busybox's blob; the connection is reset 64 KiB in. The user reads how
    far it got; nothing half-read is cached; the next try (the fault gone) reads the whole layer."""
    registry = client(faulty)
    manifest = registry.manifest("kinds", "second")
    blob, size = manifest.layers[0]
    faulty.add(Rule(f"/blobs/{blob}", reset_after=65_536))
    cache = LayerCache(tmp_path)
    with Clock("layer blob reset midway") as clock, pytest.raises(LayerError) as info:
        from_registry(registry, "kinds", "second", cache)
    assert clock.seconds < TIMEOUT, f"a reset is said at once, not after a timeout ({clock.seconds:.2f} s)"
    text = said(info.value)
    assert text.startswith(f"layer {blob[7:19]} of kinds: the connection to {faulty.address} broke after ")
    assert f"of {size:,} bytes" in text and "nothing of it was kept, try again" in text, text
    assert "not a readable tar" not in text, "a broken connection is not a broken layer"
    broken = registry.config_body("kinds", manifest)["rootfs"]["diff_ids"][0]
    assert cache.get(broken) is None, "nothing of the broken layer is cached"
    analysis = from_registry(registry, "kinds", "second", cache)
    direct = from_registry(
        Registry(filled_registry.address), "kinds", "second", LayerCache(tmp_path / "direct")
    )
    assert len(analysis.layers) == 3 and analysis.layers == direct.layers, "the whole layer, read again"
    assert faulty.seen.count(f"GET /v2/kinds/blobs/{blob}") == 2
    # One file out of that layer (what the contents view's file view does): the same sentence.
    faulty.add(Rule(f"/blobs/{blob}", reset_after=65_536))
    extract = from_registry_blobs(registry, "kinds", analysis.keys)
    with pytest.raises(LayerError) as info:
        extract(0, "/bin/busybox", io.BytesIO(), lambda: False, None)
    assert said(info.value).startswith(
        f"layer {blob[7:19]} of kinds: the connection to {faulty.address} broke"
    )


def test_a_reset_manifest_is_tried_once_more(faulty: FaultProxy) -> None:
    """A reset in the middle of a manifest (a GET, nothing streamed) is tried once more after RETRY_PAUSE;
    reset again, it is a sentence. A DELETE is never sent twice."""
    registry = client(faulty)
    registry.ping()
    path = "/v2/kinds/manifests/docker"
    faulty.add(Rule(path, reset_after=100))
    with Clock("manifest reset once, retried"):
        manifest = registry.manifest("kinds", "docker")
    assert manifest.kind == "docker v2" and faulty.seen.count(f"GET {path}") == 2
    faulty.add(Rule("/v2/kinds/manifests/list", reset_after=100, times=None))
    with Clock("manifest reset twice") as clock, pytest.raises(RegistryError) as info:
        registry.manifest("kinds", "list")
    assert clock.seconds < RETRY_PAUSE + MARGIN
    text = said(info.value)
    assert text.startswith(f"the connection to {faulty.address} broke in the middle of its answer"), text
    assert faulty.seen.count("GET /v2/kinds/manifests/list") == 2, "tried twice, no more"
    digest = "sha256:" + "0" * 64
    faulty.add(Rule(f"/v2/kinds/manifests/{digest}", method="DELETE", reset=True, times=None))
    with pytest.raises(RegistryError, match="broke before it answered"):
        registry.delete("kinds", digest)
    assert faulty.seen.count(f"DELETE /v2/kinds/manifests/{digest}") == 1


# -- (c) a 500, then success -----------------------------------------------------------------------------
ERROR_500 = Canned(
    500, json.dumps({"errors": [{"code": "UNKNOWN", "message": "backend restarting"}]}).encode()
)


def test_a_500_then_success_is_retried_once(faulty: FaultProxy) -> None:
    """Retried, not said: one 500/502/503/504 on a GET or HEAD is what a registry behind a load balancer gives
    while a backend restarts, and the retry costs RETRY_PAUSE; a second one in a row is said, in the
    registry's own words."""
    registry = client(faulty)
    registry.ping()
    faulty.add(Rule("/v2/_catalog", answer=ERROR_500))
    with Clock("500 then success") as clock:
        page = registry.catalog()
    assert "kinds" in page.names and faulty.seen.count("GET /v2/_catalog?n=100") == 2
    assert RETRY_PAUSE <= clock.seconds < RETRY_PAUSE + MARGIN
    faulty.add(Rule("/v2/kinds/tags/list", answer=ERROR_500, times=2))
    with Clock("500 twice") as clock, pytest.raises(RegistryError) as info:
        registry.tags("kinds")
    assert said(info.value) == (
        f"listing tags of kinds: {faulty.address} had an internal error (500: backend restarting)"
    )
    assert faulty.seen.count("GET /v2/kinds/tags/list?n=100") == 2, "two tries, no more"
    assert clock.seconds < RETRY_PAUSE + MARGIN
    assert registry.tags("kinds").names, "the third request (the fault gone) answers"


# -- (d) garbage -----------------------------------------------------------------------------------------
def test_garbage_bodies_are_named_not_parsed(faulty: FaultProxy, filled_registry: Filled) -> None:
    registry = client(faulty)
    registry.ping()
    cases = [
        (Canned(200, b"<html><body>Bad gateway</body></html>", "text/html"),
         "listing repositories: {host} answered with text/html, not JSON (is this a registry?"),
        (Canned(200, b"\x00\xff{garbage", "application/json"),
         "listing repositories: {host} answered with a body that is not JSON although it says application/"),
        (Canned(200, b'{"repositories": "alpha"}'),
         "listing repositories: {host} answered without a list of repositories (not a registry answer)"),
        (Canned(200, b'[["alpha"]]'),
         "listing repositories: {host} answered without a list of repositories (not a registry answer)"),
        (Canned(200, b"[" * 100_000 + b"]" * 100_000, "application/json"),
         "listing repositories: {host} answered with JSON nested too deep to read"),
    ]  # fmt: skip
    for answer, expected in cases:
        faulty.add(Rule("/v2/_catalog", answer=answer))
        with pytest.raises(RegistryError) as info:
            registry.catalog()
        assert said(info.value).startswith(expected.format(host=faulty.address)), said(info.value)
    # A manifest asked for by digest whose body is another one: refused, not cached under the wrong name.
    media = "application/vnd.docker.distribution.manifest.v2+json"
    config = {"digest": "sha256:" + "1" * 64, "size": 1}
    other = json.dumps({"schemaVersion": 2, "mediaType": media, "config": config, "layers": []}).encode()
    digest = filled_registry.docker_digest
    faulty.add(
        Rule(f"/manifests/{digest}", answer=Canned(200, other, headers={"Docker-Content-Digest": digest}))
    )
    with pytest.raises(RegistryError) as info:
        registry.manifest("kinds", digest)
    assert said(info.value) == (
        f"kinds@{digest}: the manifest {faulty.address} sent does not match its digest {digest[:19]}"
    )
    assert registry.cached_manifest(digest) is None
    # By tag, the same check against the digest the registry names in Docker-Content-Digest.
    faulty.add(
        Rule("/manifests/docker", answer=Canned(200, other, headers={"Docker-Content-Digest": digest}))
    )
    with pytest.raises(RegistryError, match="does not match its digest"):
        registry.manifest("kinds", "docker")
    # JSON that is an object but no manifest.
    bad = json.dumps({"schemaVersion": 2, "mediaType": media, "config": "x", "layers": []}).encode()
    faulty.add(Rule("/manifests/oci", answer=Canned(200, bad, media)))
    with pytest.raises(RegistryError) as info:
        registry.manifest("kinds", "oci")
    assert said(info.value) == (
        f"kinds:oci: {faulty.address} sent a {media} that is not a manifest (its config is not an object)"
    )
    assert registry.manifest("kinds", digest).digest == digest, "the faults gone, the real one reads"


# -- (e) 10,000 catalog pages ------------------------------------------------------------------------------
NAMES = [f"r{n:05d}" for n in range(10_000)]


class CatalogHandler(BaseHTTPRequestHandler):
    """One repository a page, whatever n= asks (a registry may give fewer than asked), Link to the next;
    keep-alive (HTTP/1.1), as a registry is."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body are two writes: without it, 40 ms a page (delayed ACKs)
    server: CatalogServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        query = parse_qs(url.query)
        headers: dict[str, str] = {}
        if url.path == "/v2/":
            body: object = {}
        elif url.path == "/v2/_catalog":
            last = query.get("last", [""])[0]
            self.server.lasts.append(last)
            start = bisect.bisect_right(NAMES, last) if last else 0
            page = NAMES[start : start + 1]
            body = {"repositories": page}
            if self.server.loop:
                headers["Link"] = f'<{self.path}>; rel="next"'
            elif self.server.circle and page == ["r00049"]:  # back to the page after r00044
                headers["Link"] = '</v2/_catalog?last=r00044&n=100>; rel="next"'
            elif start + 1 < len(NAMES):
                headers["Link"] = (
                    f'</v2/_catalog?last={quote(page[-1])}&n={query.get("n", ["1"])[0]}>; rel="next"'
                )
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


class CatalogServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CatalogHandler)
        self.lasts: list[str] = []
        self.loop = False
        """Each page's Link is its own URL."""
        self.circle = False
        """The page of r00049 links back to the page after r00044."""
        self.address = f"127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def paged_catalog() -> Iterator[CatalogServer]:
    """A fake registry at the protocol boundary: 10,000 catalog pages of one repository each (a real one would
    need 10,000 repositories pushed)."""
    server = CatalogServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_ten_thousand_catalog_pages(paged_catalog: CatalogServer) -> None:
    registry = Registry(paged_catalog.address, timeout=TIMEOUT)
    names: list[str] = []
    pages = 0
    deadline = time.monotonic() + 60
    with Clock("10,000 catalog pages") as clock:
        page = registry.catalog()
        while True:
            names.extend(page.names)
            pages += 1
            if not page.next_url:
                break
            assert time.monotonic() < deadline, f"only {pages} pages in 60 s"
            page = registry.catalog(page.next_url)
    assert pages == 10_000 and names == NAMES, "every repository once, in order"
    assert paged_catalog.lasts == ["", *NAMES[:-1]], "each page asked from the last name of the one before"
    FIGURES["10,000 catalog pages: ms a page"] = clock.seconds / pages * 1000


def test_a_catalog_link_that_loops_is_said(paged_catalog: CatalogServer) -> None:
    paged_catalog.loop = True
    registry = Registry(paged_catalog.address, timeout=TIMEOUT)
    with pytest.raises(RegistryError) as info:
        registry.catalog(f"http://{paged_catalog.address}/v2/_catalog?n=100&last=r00005")
    assert said(info.value) == (
        f"listing repositories: {paged_catalog.address} gave the same page as the next one "
        "(its Link header loops)"
    )


# -- the same, in the registry view ------------------------------------------------------------------------
async def test_a_hung_registry_in_the_registry_view(app: ImgtuiApp, faulty: FaultProxy) -> None:
    """The view opens on a registry that never answers: within the timeout its sentence is on screen and the
    repositories' title says they could not be listed (no "+ more")."""
    faulty.frozen = True
    app.registries[(faulty.address, False)] = Registry(faulty.address, timeout=TIMEOUT)
    reason = f"{faulty.address} did not answer within 2 s (it may be down or overloaded)"
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.images.loaded)
        await pilot.press("R")
        await wait_for(
            pilot, lambda: isinstance(app.screen, RegistryDialog) and isinstance(app.focused, Input)
        )
        await pilot.press("ctrl+u", *faulty.address)
        with Clock("the registry view on a hung registry, from enter") as clock:
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RegistryScreen))
            screen = app.screen
            assert isinstance(screen, RegistryScreen)
            await wait_for(pilot, lambda: "did not answer" in screen.problem, timeout=TIMEOUT + MARGIN + 2)
        assert clock.seconds < TIMEOUT + MARGIN, f"waited {clock.seconds:.2f} s"
        assert screen.problem == reason
        assert str(screen.repos.border_title) == f"Repositories: could not list ({reason})"
        text = screen_text(app)
        assert reason in text and "Traceback" not in text


async def test_the_registry_view_reads_ten_thousand_pages_lazily(
    app: ImgtuiApp, paged_catalog: CatalogServer
) -> None:
    """Only the pages a screenful needs are read, each from the last name before it (`last=`); `end` reads
    on from there; filtering reads every page, once, in bounded time, and finds the last repository."""
    address = paged_catalog.address
    app.registries[(address, False)] = Registry(address, timeout=TIMEOUT)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_registry(pilot, app, address)
        await wait_for(
            pilot, lambda: len(screen.repos.items) > MORE_WHEN_WITHIN and not screen.reading_catalog
        )
        await pilot.pause(0.5)
        read = len(paged_catalog.lasts)
        assert read < MORE_WHEN_WITHIN + 30, f"{read} pages for a screenful"
        assert screen.repos.items == NAMES[:read] and paged_catalog.lasts == ["", *NAMES[: read - 1]]
        assert str(screen.repos.border_title) == f"Repositories ({read}) + more as you scroll"
        await pilot.press("end")
        await wait_for(pilot, lambda: len(paged_catalog.lasts) > read and not screen.reading_catalog)
        await pilot.pause(0.5)
        more = len(paged_catalog.lasts)
        assert more < read + MORE_WHEN_WITHIN + 5, f"{more - read} pages after `end`"
        assert screen.repos.items == NAMES[:more] and paged_catalog.lasts == ["", *NAMES[: more - 1]]
        with Clock("the registry view: filtering reads 10,000 catalog pages"):
            await pilot.press("slash", *"r09999")
            await wait_for(pilot, lambda: screen.catalog_done, timeout=90)
        await wait_for(pilot, lambda: screen.repos.shown_items == ["r09999"])
        assert screen.repos.items == NAMES and paged_catalog.lasts == ["", *NAMES[:-1]], "every page once"
        assert "more" not in str(screen.repos.border_title)
    FIGURES["the registry view: pages read for a screenful"] = read
    FIGURES["the registry view: pages read after end"] = more - read


async def test_catalog_links_that_go_round_in_a_circle_end_the_filter(
    app: ImgtuiApp, paged_catalog: CatalogServer
) -> None:
    """r00049's page links back to the page after r00044 (each link a new URL, so the client's check of a page
    linking to itself does not catch it): a filter, which reads to the end, stops there with a sentence
    instead of reading the circle for ever."""
    paged_catalog.circle = True
    address = paged_catalog.address
    app.registries[(address, False)] = Registry(address, timeout=TIMEOUT)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_registry(pilot, app, address)
        await wait_for(pilot, lambda: len(screen.names) > MORE_WHEN_WITHIN and not screen.reading_catalog)
        assert len(screen.names) < 50, "a screenful, short of the circle"
        await pilot.press("slash", *"r0004")
        await wait_for(pilot, lambda: "go round in a circle" in screen.catalog_error, timeout=10)
        assert screen.catalog_error == (
            f"listing repositories: {address} links back to a page already read (its Link headers go round "
            "in a circle)"
        )
        assert screen.names == NAMES[:50] and len(paged_catalog.lasts) == 50, "each page asked for once"
        assert [r for r in screen.repos.shown_items] == NAMES[40:50]
        title = str(screen.repos.border_title)
        assert (
            title == f"Repositories (10/50) filter: r0004: could not list the rest ({screen.catalog_error})"
        )
