"""The engine, through docker-py's low-level APIClient: one request per question, errors made readable."""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from imgtui.engine import containers as containers_mod
from imgtui.engine import credentials, removal, transfer, unixhttp
from imgtui.engine.catalog import Catalog
from imgtui.engine.connection import Endpoint, resolve_endpoint
from imgtui.engine.contexts import ContextError
from imgtui.engine.errors import engine_words
from imgtui.engine.lazy import lazy
from imgtui.engine.models import (
    Container,
    EngineEvent,
    EngineInfo,
    Image,
    Layer,
    OutcomeLine,
    familiar,
    full_id,
    parse_repository_tag,
    short_id,
)
from imgtui.engine.reference import BadReference, resolve_repository_name, validate
from imgtui.engine.removal import Action, Mode, PrunePlan, RemovalPlan
from imgtui.engine.sizes import ContainerdSizes, ImageParts

if TYPE_CHECKING:  # the layer side is imported when first used, off the path to the first screen
    import docker
    import docker.errors
    import requests.exceptions
    import urllib3.exceptions

    from imgtui.engine import usage
    from imgtui.layers import Analysis
    from imgtui.layers.cache import LayerCache
else:  # docker-py when first used (lazy.py): a unix socket's first screen is read without it
    docker = lazy("docker")
    requests = lazy("requests")
    urllib3 = lazy("urllib3")
    usage = lazy("imgtui.engine.usage")  # the disk-usage view's (`u`), not the first screen's

NEWEST_API = "1.45"
"""The newest API version imgtui speaks: docker-py's DEFAULT_DOCKER_API_VERSION (7.1 and 7.2), written out so
that a unix socket's connection does not import docker-py (tests/test_engine.py checks they agree)."""
OLDEST_API = "1.24"
"""docker-py's MINIMUM_DOCKER_API_VERSION: what an engine that does not say speaks."""


def _older(a: str, b: str) -> bool:
    """Whether API version `a` is older than `b` (docker-py's version_lt)."""
    return tuple(int(p) for p in a.split(".")) < tuple(int(p) for p in b.split("."))


PODMAN_COMMIT_COMMENT = "FROM "
"""How Podman's commit starts a history row's comment (`FROM docker.io/library/busybox:latest`): buildah's
words, not the commit message (Podman 4.3)."""

_E = TypeVar("_E", bound=BaseException)


def set_api_version(api: docker.APIClient, version: str) -> None:
    """docker-py fixes a client's API version when it is made (or asks `/version` first, with "auto": one
    more round trip, an ssh connection's worth over ssh). It has no public way to set the version once
    known; `_version` is what every request reads (docker-py 7.1 and 7.2; tests/test_engine.py fails if
    the name goes away)."""
    api._version = version


def image_store(info: dict[str, Any]) -> str:
    """`containerd` when the engine keeps images in containerd (Docker 29's default, `features:
    containerd-snapshotter`), else `classic` (overlay2 and the other graph drivers)."""
    for pair in info.get("DriverStatus") or []:
        if list(pair)[:2] == ["driver-type", "io.containerd.snapshotter.v1"]:
            return "containerd"
    return "classic"


def product(headers: Any) -> str:
    """`Podman` when `podman system service` answers (its API server names itself `Libpod` in the `Server`
    header and sends `Libpod-API-Version`), else `Docker`."""
    server = str(headers.get("Server") or "")
    return "Podman" if headers.get("Libpod-API-Version") or server.startswith("Libpod") else "Docker"


def _identity(info: dict[str, Any], made_by: str) -> str:
    """What tells one engine from another whatever its address: /info's ID, Name and DockerRootDir. Podman
    (4.3) makes a new random ID for every /info, so its identity is the host's name and its storage root."""
    keys = ("Name", "DockerRootDir") if made_by == "Podman" else ("ID", "Name", "DockerRootDir")
    if not info.get(keys[0] if made_by != "Podman" else "DockerRootDir"):
        return ""
    return " ".join(str(info.get(k) or "") for k in keys)


class EngineError(Exception):
    """An engine failure, worded for the user."""


class EngineUnavailable(EngineError):
    """No engine answered at the endpoint."""


def describe(exc: BaseException) -> str:
    """One readable line for anything docker-py or requests may raise."""
    worded = (EngineError, transfer.TransferError, BadReference, credentials.LoginError, ContextError)
    if isinstance(exc, worded):
        return str(exc)  # worded for the user already
    if "imgtui.engine.ssh" in sys.modules:  # an SSHError exists only once ssh.py is imported
        from imgtui.engine.ssh import SSHError

        ssh = _cause(exc, SSHError)
        if ssh is not None:
            return str(ssh)  # ssh's reason, naming the host, wherever requests and urllib3 wrapped it
    if isinstance(exc, unixhttp.Refused):
        return exc.words
    if isinstance(exc, ConnectionError) and str(exc) == unixhttp.ENDED:
        return "the connection to the engine broke off before the end of its answer (the engine stopped?)"
    if type(exc) in _SOCKET_ERRORS:  # the standard library's, from the unix socket's requests
        return f"connection failed: {_os_reason(exc) or exc}"
    if isinstance(exc, docker.errors.APIError):
        return engine_words(exc)
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        said = (exc.response.text or "").strip().splitlines()
        words = f": {said[0][:200]}" if said else ""  # `Client sent an HTTP request to an HTTPS server.`
        return f"the address answered HTTP {exc.response.status_code} {exc.response.reason}{words}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"connection failed: {_os_reason(exc) or exc}"
    if isinstance(exc, requests.exceptions.Timeout):
        return "the engine did not answer in time"
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError)):
        return "the connection to the engine broke off before the end of its answer (the engine stopped?)"
    return f"{type(exc).__name__}: {exc}"


_SOCKET_ERRORS = (ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
                  FileNotFoundError, PermissionError, TimeoutError, ConnectionError, OSError,
                  socket.timeout)  # fmt: skip


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and every one it wraps (args, `reason`, cause, context), each once."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [*item.args, getattr(item, "reason", None), item.__cause__, item.__context__]


def _cause(exc: BaseException, kind: type[_E]) -> _E | None:
    return next((item for item in _chain(exc) if isinstance(item, kind)), None)


def _os_reason(exc: BaseException) -> str | None:
    """The operating system's words (`Connection refused`) buried in requests' and urllib3's wrappers."""
    worded: str | None = None
    """An OSError with no errno but words of its own (http.client's `Remote end closed connection ...`)."""
    for item in _chain(exc):
        if isinstance(item, OSError) and item.strerror:
            return str(item.strerror)
        if isinstance(item, OSError) and item.args and isinstance(item.args[0], str) and worded is None:
            worded = item.args[0]
    text = str(exc)
    return text.rsplit("] ", 1)[-1] if "[Errno" in text else worded


class EventStream:
    """The engine's event stream; `close()` from any thread ends the iteration."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[EngineEvent]:
        try:
            for item in self._raw:
                if self._closed.is_set():
                    return
                yield EngineEvent.from_raw(item)
        except Exception as exc:
            if self._closed.is_set():
                return
            raise EngineUnavailable(f"event stream lost: {describe(exc)}") from exc

    def close(self) -> None:
        self._closed.set()
        try:
            self._raw.close()
        except Exception:
            pass


class _Startup:
    """What the start-up prefetch found: the event stream (subscribed before listing) and the images."""

    def __init__(self) -> None:
        self.listed = threading.Event()
        self.stream: EventStream | None = None
        self.images: list[Image] = []
        self.error: BaseException | None = None


def _lines(body: unixhttp.Body) -> Iterator[bytes]:
    """The lines of a streamed answer (JSON objects, one a line)."""
    rest = b""
    while chunk := body.read(1 << 16):
        *done, rest = (rest + chunk).split(b"\n")
        yield from done
    if rest:
        yield rest


class Engine:
    """What imgtui asks the engine. Every method blocks: call it from a thread worker."""

    def __init__(
        self,
        api: docker.APIClient | None,
        info: EngineInfo,
        endpoint: Endpoint | None = None,
        quick: unixhttp.UnixHTTP | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._api = api
        self._api_lock = threading.Lock()
        self._quick = quick
        """A unix socket's requests with the standard library: the image list, events and histories."""
        self.timeout = timeout
        self.info = info
        self.endpoint = endpoint
        self._transfer_api: docker.APIClient | None = None
        self._startup: _Startup | None = None
        self._history: dict[str, tuple[Layer, ...]] = {}
        self._history_lock = threading.Lock()
        self._inflight: dict[str, threading.Event] = {}
        self._df_lock = threading.Lock()
        self._parts: dict[str, ImageParts] = {}
        self._inspects: dict[str, dict[str, Any] | None] = {}
        """Podman: what _podman_inspect read of each image, by image ID (None: gone)."""
        self._inspecting: dict[str, threading.Event] = {}

    @classmethod
    def connect(cls, host: str | None = None, timeout: float = 30.0, context: str | None = None) -> Engine:
        """Connect and read the version in one request; raises EngineUnavailable saying what was tried."""
        try:
            endpoint = resolve_endpoint(host, context=context)
        except ContextError as exc:
            raise EngineUnavailable(str(exc)) from exc
        return cls.connect_endpoint(endpoint, timeout)

    @property
    def _quick_first(self) -> bool:
        """The standard library's requests until docker-py's client is made (by the first question the
        first screen does not ask, or the disk usage read after it): after that, one client for all."""
        return self._quick is not None and self._api is None

    @property
    def api(self) -> docker.APIClient:
        """docker-py's client, made (and docker-py imported) when first asked for: on a unix socket the
        first screen is read without it (unixhttp.py), and the first use after it comes from a worker."""
        api = self._api
        if api is None:
            with self._api_lock:
                if self._api is None:
                    assert self.endpoint is not None
                    self._api = self.endpoint.client(self.info.api_version, self.timeout)
                api = self._api
        return api

    @classmethod
    def connect_endpoint(cls, endpoint: Endpoint, timeout: float = 30.0) -> Engine:
        """One request, `GET /info` unversioned (every engine answers it): the engine's version, its image
        store, and in the `Api-Version` header the newest API it speaks. The client then speaks the newer
        of what both sides know, never above what the engine accepts. On a unix socket that request, the
        image list, the events and histories go through the standard library (unixhttp.py): docker-py is
        imported when something else is first asked."""
        path = unixhttp.socket_path(endpoint.base_url)
        if path is not None and not endpoint.tls:
            quick = unixhttp.UnixHTTP(path, timeout)
            try:
                data, headers = quick.get("/info")
            except Exception as exc:
                raise EngineUnavailable(
                    f"no Docker engine answered at {endpoint.base_url} ({endpoint.source}): {describe(exc)}"
                ) from exc
            said = {"Server": headers.get("server"), "Libpod-API-Version": headers.get("libpod-api-version")}
            info = cls._info(endpoint, data, str(headers.get("api-version") or OLDEST_API), product(said))
            return cls(None, info, endpoint, quick, timeout)
        try:
            api = endpoint.client(OLDEST_API, timeout)
            answer = api.get(f"{api.base_url}/info", timeout=timeout)
            answer.raise_for_status()
            data = answer.json()
        except Exception as exc:
            raise EngineUnavailable(
                f"no Docker engine answered at {endpoint.base_url} ({endpoint.source}): {describe(exc)}"
            ) from exc
        info = cls._info(
            endpoint, data, str(answer.headers.get("Api-Version") or OLDEST_API), product(answer.headers)
        )
        set_api_version(api, info.api_version)
        return cls(api, info, endpoint, None, timeout)

    @staticmethod
    def _info(endpoint: Endpoint, data: dict[str, Any], server_api: str, made_by: str) -> EngineInfo:
        return EngineInfo(
            host=endpoint.base_url,
            source=endpoint.source,
            version=str(data.get("ServerVersion") or "?"),
            api_version=server_api if _older(server_api, NEWEST_API) else NEWEST_API,
            os=str(data.get("OSType") or ""),
            arch=str(data.get("Architecture") or ""),
            store=image_store(data),
            server_api=server_api,
            product=made_by,
            identity=_identity(data, made_by),
        )

    def _ask(self, what: str, template: str, *names: str, **params: Any) -> Any:
        """A GET through the unix socket's standard-library client, its failures worded as _call's; the
        engine's 404 is passed on (unixhttp.Refused) for the caller to say what is missing."""
        assert self._quick is not None
        url = unixhttp.path(template, *names, version=self.info.api_version, **params)
        try:
            return self._quick.get(url)[0]
        except unixhttp.Refused as exc:
            if exc.status == 404:
                raise
            raise EngineError(f"{what}: {describe(exc)}") from exc
        except OSError as exc:
            raise EngineUnavailable(f"{what}: {describe(exc)}") from exc
        except ValueError as exc:
            raise EngineError(f"{what}: the engine's answer could not be read ({exc})") from exc

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (docker.errors.NotFound, removal.PlanChanged, StopIteration):
            raise
        except requests.exceptions.ConnectionError as exc:
            raise EngineUnavailable(f"{what}: {describe(exc)}") from exc
        except Exception as exc:
            raise EngineError(f"{what}: {describe(exc)}") from exc

    def prefetch(self) -> None:
        """Start, in a thread of its own, what the first screen needs: subscribe to events, list the images,
        then read the first tag's layers into the cache, while the UI is still starting up."""
        if self._startup is not None:
            return
        startup = self._startup = _Startup()

        def run() -> None:
            try:
                startup.stream = self.events()
                startup.images = self.list_images()
            except BaseException as exc:
                startup.error = exc
                return
            finally:
                startup.listed.set()
            # Only the first tag is wanted here; the app groups the list in its own worker meanwhile.
            repositories = Catalog(startup.images).repositories()
            if repositories and repositories[0].tags:
                try:
                    self.history(repositories[0].tags[0].image.id)
                except EngineError:
                    pass  # the UI asks again and reports it

        threading.Thread(target=run, name="imgtui-prefetch", daemon=True).start()

    def take_startup(self) -> tuple[EventStream, list[Image]] | None:
        """The prefetched stream and images (once), or None if there was no prefetch; raises its error."""
        startup, self._startup = self._startup, None
        if startup is None:
            return None
        startup.listed.wait()
        if startup.error is not None:
            if isinstance(startup.error, EngineError):
                raise startup.error
            raise EngineUnavailable(f"starting up: {describe(startup.error)}") from startup.error
        assert startup.stream is not None
        return startup.stream, startup.images

    def ping(self) -> bool:
        try:
            return bool(self.api.ping())
        except Exception:
            return False

    def list_images(self) -> list[Image]:
        """All top-level images, dangling included, in one request (docker-py's images.list() makes N+1)."""
        if self._quick_first:  # what docker-py's api.images() asks
            rows = self._ask("listing images", "/images/json", only_ids=0, all=0)
        else:
            rows = self._call("listing images", self.api.images)
        return [Image.from_summary(row) for row in rows]

    def catalog(self) -> Catalog:
        """All images, grouped into repositories here, in the calling (worker) thread."""
        return Catalog.grouped(self.list_images())

    def inspect_image(self, id_or_name: str) -> Image | None:
        """The current state of one image, or None if it no longer exists."""
        try:
            data = self._call(f"inspecting {id_or_name}", self.api.inspect_image, id_or_name)
        except docker.errors.NotFound:
            return None
        return Image.from_inspect(data)

    def cached_history(self, image_id: str) -> tuple[Layer, ...] | None:
        with self._history_lock:
            return self._history.get(image_id)

    def history(self, image_id: str) -> tuple[Layer, ...]:
        """`docker history`, cached by image ID (an image's history never changes); a request already in
        flight for the same image (the start-up prefetch) is waited for, not repeated."""
        with self._history_lock:
            cached = self._history.get(image_id)
            if cached is not None:
                return cached
            pending = self._inflight.get(image_id)
            mine = pending is None
            if mine:
                pending = self._inflight[image_id] = threading.Event()
        assert pending is not None
        if not mine:
            pending.wait()
            cached = self.cached_history(image_id)
            if cached is not None:
                return cached
        what = f"reading the history of {image_id[:19]}"
        try:
            if self._quick_first:
                rows = self._ask(what, "/images/{}/history", image_id)
            else:
                rows = self._call(what, self.api.history, image_id)
            layers = tuple(Layer.from_history(row) for row in rows)
            if self.info.podman:
                if layers and layers[0].id != image_id:
                    # Podman names a row by an image with that top layer: for images that share it (the
                    # same files, another config), not always this one, whose own row the top one is.
                    layers = (dataclasses.replace(layers[0], id=image_id), *layers[1:])
                layers = tuple(self._podman_message(layer) for layer in layers)
            with self._history_lock:
                self._history[image_id] = layers
            return layers
        except unixhttp.Refused as exc:
            raise EngineError(f"image {image_id[7:19]} no longer exists") from exc
        except docker.errors.NotFound as exc:
            raise EngineError(f"image {image_id[7:19]} no longer exists") from exc
        finally:
            if mine:
                with self._history_lock:
                    self._inflight.pop(image_id, None)
                pending.set()

    def _podman_message(self, layer: Layer) -> Layer:
        """Podman's commit writes its own words in the history (comment `FROM BASE`, command `/bin/sh`) and
        the commit message only in the committed image's `Comment`: that message, from the inspect of the
        image the row names (_podman_inspect), is the row's comment, as Docker's history has it. A row
        whose image is gone, or that has no message, keeps Podman's words."""
        if not layer.comment.startswith(PODMAN_COMMIT_COMMENT) or not layer.id.startswith("sha256:"):
            return layer
        try:
            data = self._podman_inspect(layer.id)
        except EngineUnavailable:
            raise
        except EngineError:
            return layer  # a failed inspect: Podman's words stay, and the layers are shown
        message = str((data or {}).get("Comment") or "").strip()
        return dataclasses.replace(layer, comment=message) if message else layer

    def _podman_inspect(self, image_id: str) -> dict[str, Any] | None:
        """Podman: what imgtui reads of an image's inspect (its layers, size and commit message), asked
        once per image ID whoever asks first (a history's messages or the size model; one in flight is
        waited for) and kept, since an image never changes; None if the image is gone."""
        with self._history_lock:
            if image_id in self._inspects:
                return self._inspects[image_id]
            pending = self._inspecting.get(image_id)
            mine = pending is None
            if mine:
                pending = self._inspecting[image_id] = threading.Event()
        assert pending is not None
        if not mine:
            pending.wait()
            with self._history_lock:
                if image_id in self._inspects:
                    return self._inspects[image_id]
            return self._podman_inspect(image_id)  # the other asker failed: ask again
        what = f"inspecting {image_id[7:19]}"
        try:
            try:
                if self._quick_first:
                    data = self._ask(what, "/images/{}/json", image_id)
                else:
                    data = self._call(what, self.api.inspect_image, image_id)
            except (unixhttp.Refused, docker.errors.NotFound):
                data = None  # removed since
            kept = None if data is None else {
                "RootFS": {"Layers": list((data.get("RootFS") or {}).get("Layers") or [])},
                "Size": data.get("Size"),
                "Comment": data.get("Comment"),
            }  # fmt: skip
            with self._history_lock:
                self._inspects[image_id] = kept
            return kept
        finally:
            with self._history_lock:
                self._inspecting.pop(image_id, None)
            pending.set()

    def df(self) -> dict[str, Any]:
        """`/system/df`, one at a time: the engine refuses a second one while one runs (someone else's
        `docker system df` included), so wait for it a little."""
        with self._df_lock:
            for attempt in range(50):
                try:
                    if self._quick_first:  # what docker-py's api.df() asks, without importing it
                        try:
                            return dict(self._ask("reading disk usage", "/system/df"))
                        except unixhttp.Refused as exc:  # a 404 (_ask passes it on): an engine without it
                            raise EngineError(f"reading disk usage: {describe(exc)}") from exc
                    return dict(self.api.df())
                except Exception as exc:
                    refused = isinstance(exc, EngineError) or (
                        "docker" in sys.modules and isinstance(exc, docker.errors.APIError)
                    )
                    if not refused or "already running" not in describe(exc) or attempt == 49:
                        raise
                time.sleep(0.1)
        raise AssertionError("not reached")

    def disk_usage(self, image_ids: list[str] | None = None) -> int:
        """Bytes the images really take on disk (shared layers once): `/system/df` on the classic store, the
        size model on the containerd store (see sizes.py), over `image_ids` when the caller knows them
        (the app's list, kept live by events) or else the engine's list."""
        if self.info.modelled_sizes:
            if image_ids is None:
                image_ids = [row["Id"] for row in self._call("listing images", self.api.images)]
            return self.containerd_sizes(image_ids).disk_total()
        # On a unix socket before docker-py is needed, the standard library asks (and words its failures):
        # browsing the images does not import docker-py (about 25 MiB, with requests and paramiko).
        data = self.df() if self._quick_first else self._call("reading disk usage", self.df)
        return int(data.get("LayersSize") or 0)

    def containerd_sizes(self, image_ids: list[str]) -> ContainerdSizes:
        """The size model for these images (containerd store, Podman: no compressed copies; image_parts)."""
        return ContainerdSizes(self.image_parts(image_ids), compressed=not self.info.podman)

    def image_parts(self, image_ids: list[str]) -> dict[str, ImageParts]:
        """Each image's layers and their sizes: an inspect and a history for each image not seen before
        (four at a time), kept by image ID since an image never changes."""
        podman = self.info.podman
        missing = [i for i in image_ids if i not in self._parts]
        if missing:

            def read(image_id: str) -> ImageParts | None:
                try:
                    if podman:  # no content store: its Size is the layers' sum again
                        read = self._podman_inspect(image_id)
                        if read is None:
                            return None
                        inspect = {**read, "Size": 0}
                    else:
                        inspect = self._call(f"inspecting {image_id[7:19]}", self.api.inspect_image, image_id)
                    sizes = [layer.size for layer in self.history(image_id)]
                except EngineUnavailable:
                    raise  # the engine is away, not the image: no figure rather than a wrong one
                except (docker.errors.NotFound, EngineError):
                    return None  # gone meanwhile: it takes nothing
                return ImageParts.read(image_id, inspect, ({"Size": size} for size in sizes))

            from concurrent.futures import ThreadPoolExecutor  # off the path to the first screen

            with ThreadPoolExecutor(4, thread_name_prefix="imgtui-sizes") as pool:
                for image_id, part in zip(missing, pool.map(read, missing)):
                    if part is not None:
                        self._parts[image_id] = part
        return {i: self._parts[i] for i in image_ids if i in self._parts}

    def events(self) -> EventStream:
        """Image and container events from now on."""
        if self._quick_first:
            url = unixhttp.path(
                "/events", version=self.info.api_version, filters={"type": ["image", "container"]}
            )
            try:
                return EventStream(self._quick.stream(url))  # type: ignore[union-attr]
            except unixhttp.Refused as exc:
                raise EngineError(f"subscribing to events: {describe(exc)}") from exc
            except OSError as exc:
                raise EngineUnavailable(f"subscribing to events: {describe(exc)}") from exc
        raw = self._call(
            "subscribing to events", self.api.events, decode=True, filters={"type": ["image", "container"]}
        )
        return EventStream(raw)

    # -- removal -----------------------------------------------------------------------------------------
    def removal_state(self) -> removal.EngineState:
        if self.info.modelled_sizes:
            state = self._call("reading images, containers and disk usage", removal.read_state, self.api,
                               self.df, self.containerd_sizes)  # fmt: skip
        else:
            state = self._call("reading images, containers and disk usage", removal.read_state, self.api,
                               self.df, None, self.image_parts)  # fmt: skip
        return dataclasses.replace(state, podman=True) if self.info.podman else state

    def plan_removal(self, target: str, image_id: str, mode: Mode) -> RemovalPlan:
        return removal.plan_removal(self.removal_state(), target, image_id, mode)

    def remove(self, plan: RemovalPlan, action: Action) -> Iterator[OutcomeLine]:
        """Do what the plan previewed; raises PlanChanged before touching anything if the state moved."""
        yield from self._stream(f"removing {plan.target}", removal.execute_removal(
            self.api, plan, action, self.removal_state
        ))  # fmt: skip

    def plan_bulk(self, pairs: list[tuple[str, str]]) -> list[str]:
        return removal.plan_bulk(self.removal_state(), pairs)

    def remove_each(self, pairs: list[tuple[str, str]]) -> Iterator[OutcomeLine]:
        """Bulk removal: a plain `rmi` per (name or dangling ID, image ID), going on past failures."""
        yield from self._stream("removing", removal.execute_bulk(self.api, pairs, self.removal_state()))

    def _stream(self, what: str, steps: Iterator[OutcomeLine]) -> Iterator[OutcomeLine]:
        """Pass on each line as the engine answers, turning a failure on the way into an EngineError."""
        while True:
            try:
                line = self._call(what, next, steps)
            except StopIteration:
                return
            yield line

    def plan_prune(self, all_unused: bool) -> PrunePlan:
        return removal.plan_prune(self.removal_state(), all_unused)

    def prune(self, plan: PrunePlan) -> tuple[list[OutcomeLine], int]:
        return self._call("pruning images", removal.execute_prune, self.api, plan, self.removal_state)

    # -- names, inspect, containers ------------------------------------------------------------------------
    def tag(self, image_id: str, name: str) -> str:
        """`docker tag`; the name is checked first so a bad one gets a sentence. Returns `repo:tag`."""
        repo, tag = validate(name)
        self._call(f"tagging {image_id[7:19]} as {repo}:{tag}", self.api.tag, image_id, repo, tag)
        return f"{repo}:{tag}"

    def untag(self, name: str, image_id: str) -> str | None:
        """Take back a name this app gave `image_id` (a push's tag when the push sent nothing): None once
        removed, else why it was kept (it names another image now, or it is the image's only name, whose
        removal would delete the image)."""
        try:
            data = self._call(f"inspecting {name}", self.api.inspect_image, name)
        except docker.errors.NotFound:
            return None
        if data.get("Id") != image_id:
            return f"{name} names another image now"
        if len([n for n in data.get("RepoTags") or () if n != "<none>:<none>"]) <= 1:
            return f"{name} is the image's only name (removing it would delete the image)"
        self._call(f"removing the name {name}", self.api.remove_image, name, noprune=True)
        return None

    def inspect_raw(self, id_or_name: str) -> dict[str, Any]:
        try:
            return dict(self._call(f"inspecting {id_or_name}", self.api.inspect_image, id_or_name))
        except docker.errors.NotFound as exc:
            raise EngineError(f"{id_or_name} no longer exists") from exc

    def containers(self) -> list[Container]:
        rows = self._call("listing containers", self.api.containers, all=True)
        return [Container.from_summary(row) for row in rows]

    def stop_container(self, container_id: str) -> None:
        self._call("stopping the container", self.api.stop, container_id)

    def remove_container(self, container_id: str) -> None:
        self._call("removing the container", self.api.remove_container, container_id)

    def rename_container(self, container_id: str, name: str) -> None:
        self._call(f"renaming the container to {name}", self.api.rename, container_id, name)

    def run_container(self, spec: containers_mod.RunSpec) -> str:
        """`docker create`, then (for run) `docker start`, unless the container wants a terminal: that one
        is started by `docker start -ai` once the terminal is handed over. Returns the container's ID."""
        container_id = self._call(
            f"creating a container from {spec.image}", containers_mod.create, self.api, spec
        )
        if spec.start and not spec.tty:
            self.start_container(container_id)
        return str(container_id)

    def start_container(self, container_id: str) -> None:
        self._call("starting the container", self.api.start, container_id)

    def container_state(self, container_id: str) -> tuple[bool, int] | None:
        """(running, exit code) of a container, or None if it no longer exists."""
        try:
            data = self._call("inspecting the container", self.api.inspect_container, container_id)
        except docker.errors.NotFound:
            return None
        state = data.get("State") or {}
        return bool(state.get("Running")), int(state.get("ExitCode") or 0)

    def restart_container(self, container_id: str) -> None:
        self._call("restarting the container", self.api.restart, container_id)

    def container_logs(
        self, container_id: str, timestamps: bool, tail: int | str = "all"
    ) -> containers_mod.LogStream:
        """`docker logs -f` as a stream (on the client with no read timeout: a quiet container sends nothing
        for as long as it likes)."""
        raw = self._call(
            "reading the container's logs", self._long().logs, container_id, stream=True, follow=True,
            timestamps=timestamps, tail=tail,
        )  # fmt: skip
        return containers_mod.LogStream(raw)

    # -- disk usage (usage.py): one /system/df ------------------------------------------------------------
    def read_usage(self) -> usage.DiskUsage:
        """`docker system df -v` in one request; on the containerd store the image figures are imgtui's
        size model (an inspect and a history per image not seen before, kept by image ID)."""
        data = self._call("reading disk usage", self.df)
        if self.info.podman:
            data = {**data, "Images": self._podman_df_images(data.get("Images") or []),
                    "Containers": self._podman_df_containers(data.get("Containers") or []),
                    "Volumes": self._podman_df_volumes(data.get("Volumes") or [])}  # fmt: skip
        sizes = self.containerd_sizes if self.info.modelled_sizes else None
        return self._call("reading disk usage", usage.read_usage, data, sizes)

    def _podman_df_containers(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Podman's `/system/df` gives a container no mounts (so a volume would show no users), its image
        as an ID and its state as its status: those come from the container list, the sizes from df."""
        if not rows:
            return rows
        if self._quick_first:  # what docker-py's containers(all=True) asks, without importing it
            rows_listed = self._ask("listing containers", "/containers/json", all=1)
        else:
            rows_listed = self._call("listing containers", self.api.containers, all=True)
        listed = {row["Id"]: row for row in rows_listed or []}
        keys = ("Names", "Image", "ImageID", "State", "Status", "Mounts")
        return [{**row, **{k: listed[row["Id"]][k] for k in keys if k in listed.get(row["Id"], {})}}
                for row in rows]  # fmt: skip

    def _podman_df_volumes(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Podman's `/system/df` gives a volume no driver and no creation time: those come from the
        volume list."""
        if not rows:
            return rows
        if self._quick_first:
            answer = self._ask("listing volumes", "/volumes") or {}
        else:
            answer = self._call("listing volumes", self.api.volumes) or {}
        listed = {str(v.get("Name")): v for v in answer.get("Volumes") or []}
        keys = ("Driver", "CreatedAt")
        return [{**row, **{k: listed[row["Name"]][k] for k in keys if listed.get(row["Name"], {}).get(k)}}
                for row in rows]  # fmt: skip

    def _podman_df_images(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Podman's `/system/df` has a row per name of an image, each naming only its tag (`["latest"]`),
        its IDs without `sha256:`, and sizes that count a base image's layers as shared (its LayersSize is
        0): one row per image, named from the image list; the figures are the size model's."""
        names = {image.id: list(image.names) for image in self.list_images()}
        merged: dict[str, dict[str, Any]] = {}
        for row in rows:
            image_id = full_id(str(row.get("Id") or ""))
            merged.setdefault(image_id, {**row, "Id": image_id, "RepoTags": names.get(image_id, [])})
        return list(merged.values())

    def plan_usage_prune(self, kind: usage.Kind, until: int = 0) -> usage.UsagePrunePlan:
        return usage.plan_usage_prune(self.read_usage(), kind, until)

    def usage_prune(self, plan: usage.UsagePrunePlan) -> Iterator[str | usage.PruneResult]:
        """Prune what the plan previewed (raises UsageChanged, a PlanChanged, if the kind moved)."""
        steps = usage.execute_usage_prune(self.api, plan, self.read_usage)
        while True:
            try:
                item = self._call(f"pruning {plan.kind}", next, steps)
            except StopIteration:
                return
            yield item

    # -- make and move (transfer.py), on a client with no read timeout: a save can pause for minutes -------
    def _long(self) -> docker.APIClient:
        if self._transfer_api is None:
            if self.endpoint is None:
                return self.api
            self._transfer_api = self.endpoint.client(self.info.api_version, None)
        return self._transfer_api

    def _transfer(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (transfer.TransferError, transfer.Cancelled, BadReference, credentials.LoginError):
            raise
        except Exception as exc:
            raise EngineError(f"{what}: {describe(exc)}") from exc

    def commit(
        self, container: str, name: str, author: str, message: str, changes: list[str]
    ) -> tuple[str, str]:
        return self._transfer(f"committing {container}", transfer.commit, self.api, container, name, author,
                              message, changes)  # fmt: skip

    def save(self, names: list[str], path: Path, report: transfer.Report, stop: transfer.Stop) -> int:
        if self._quick is None:
            return self._transfer("saving", transfer.save, self._long(), names, path, report, stop)
        # A unix socket: the standard library asks, over HTTP/1.0 (the archive comes unchunked, and docker-py,
        # not needed to browse, is not imported for it: a third of a second before the first byte).
        quick = self._quick
        total = 0
        for name in names:
            try:
                total += int(self._ask(f"inspecting {name}", "/images/{}/json", name).get("Size") or 0)
            except unixhttp.Refused as exc:
                raise EngineError(f"saving: {exc.words}") from exc
        url = f"/v{self.info.api_version}/images/get?{urlencode([('names', n) for n in names])}"
        stream = unixhttp.UnixHTTP(quick.socket_file, None)  # no read timeout: the engine may pause
        chunks = partial(transfer.body_chunks, partial(stream.body, url))
        return self._transfer("saving", transfer.save_body, chunks, total, names, path, report, stop)  # type: ignore[no-any-return]

    def load(self, path: str, report: transfer.Report, stop: transfer.Stop) -> list[str]:
        if self._quick is None:
            return self._transfer("loading", transfer.load, self._long(), path, report, stop)  # type: ignore[no-any-return]
        # A unix socket: posted with the standard library, as save is read (no docker-py import first).
        url = f"/v{self.info.api_version}/images/load?quiet=1"
        poster = unixhttp.UnixHTTP(self._quick.socket_file, None)

        def send(pieces: Iterator[bytes], size: int) -> Iterator[Any]:
            try:
                answer = poster.upload(url, pieces, size, "application/x-tar")
            except unixhttp.Refused as exc:
                raise transfer.TransferError(
                    f"the engine could not load {Path(path).name}: {exc.words}"
                ) from exc
            try:
                for line in _lines(answer):
                    if line.strip():
                        yield json.loads(line)
            finally:
                answer.close()

        return self._transfer("loading", transfer.load_with, send, path, report, stop)  # type: ignore[no-any-return]

    def pull(self, name: str, report: transfer.Report, stop: transfer.Stop) -> tuple[list[str], list[str]]:
        lines, errors = self._transfer(f"pulling {name}", transfer.pull, self._long(), name, report, stop)
        if self.info.podman:
            errors = self._podman_errors("pull", name, errors)
            if errors and not lines:  # Docker refuses the request; Podman says it in the stream
                raise EngineError(f"pulling {name}: {errors[0]}")
            if not errors:
                lines = self._podman_pulled(name, lines)
        return lines, errors

    def _podman_pulled(self, name: str, lines: list[str]) -> list[str]:
        """Podman's pull lists the image's config among its layers (by the image's short ID, `Download
        complete`) and ends without the `Digest:` line Docker writes: the config's line goes, and the
        digest is read from the image (its RepoDigests for the pulled repository)."""
        try:
            data = self._call(f"inspecting {name}", self.api.inspect_image, name)
        except (docker.errors.NotFound, EngineError):
            return lines
        config = short_id(str(data.get("Id") or ""))
        kept = [line for line in lines if not (config and line.startswith(f"{config}: "))]
        repository = familiar(parse_repository_tag(name)[0])
        digests = [found for repo, _, found in (d.partition("@") for d in data.get("RepoDigests") or ())
                   if familiar(repo) == repository]  # fmt: skip
        if digests and not any(line.startswith("Digest: ") for line in kept):
            kept.append(f"Digest: {digests[0]}")
        return kept

    def push(self, name: str, report: transfer.Report, stop: transfer.Stop) -> tuple[list[str], list[str]]:
        lines, errors = self._transfer(f"pushing {name}", transfer.push, self._long(), name, report, stop)
        if self.info.podman:
            errors = self._podman_errors("push", name, errors)
            if not errors:
                lines.append(transfer.PODMAN_PUSH)
        return lines, errors

    @staticmethod
    def _podman_errors(what: str, name: str, errors: list[str]) -> list[str]:
        """A pull's or push's errors on Podman, a registry that serves plain HTTP said in one sentence."""
        host = resolve_repository_name(name)[0] if errors else ""
        return [transfer.podman_plain_http(f"{what} {name}", host, error) for error in errors]

    def export(self, container: str, path: Path, report: transfer.Report, stop: transfer.Stop) -> int:
        return self._transfer(
            f"exporting {container}", transfer.export, self._long(), container, path, report, stop
        )

    def import_(self, path: str, name: str) -> str:
        return self._transfer("importing", transfer.import_, self._long(), path, name)

    def save_stream(self, name: str) -> IO[bytes]:
        """`GET /images/{name}/get` as a stream to read from (no read timeout: the engine may pause). On a
        unix socket through the standard library (unixhttp.Body): less CPU than requests and urllib3, which is
        time on a machine where the engine writes the stream on the other core."""
        if self._quick is not None:
            url = f"/v{self.info.api_version}/images/{quote(name, safe='/:@')}/get"
            try:  # no timeout: the engine may write a big image out before it sends the first byte
                return unixhttp.UnixHTTP(self._quick.socket_file, None).body(url)  # type: ignore[return-value]
            except unixhttp.Refused as exc:
                raise EngineError(f"saving {name}: {exc.words}") from exc
            except OSError as exc:
                raise EngineUnavailable(f"saving {name}: {describe(exc)}") from exc
        api = self._long()
        url = f"{api.base_url}/v{api.api_version}/images/{quote(name, safe='/:@')}/get"
        try:
            response = api.get(url, stream=True, timeout=api.timeout)
            response.raise_for_status()
        except requests.exceptions.HTTPError as exc:
            raise EngineError(
                f"saving {name}: {describe(docker.errors.create_api_error_from_http_exception(exc))}"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            raise EngineUnavailable(f"saving {name}: {describe(exc)}") from exc
        return response.raw  # type: ignore[no-any-return]

    def analyze(self, name: str, report: Callable[[int], None], stop: Callable[[], bool],
                cache: LayerCache | None = None) -> Analysis:  # fmt: skip
        """What is inside the image's layers (imgtui/layers): from the cache, else its save stream."""
        from imgtui.layers import sources as layer_sources

        if self._quick_first:  # a cached image opens without importing docker-py (a third of a second)
            try:
                image = self._ask(f"inspecting {name}", "/images/{}/json", name)
            except unixhttp.Refused as exc:  # 404: what docker-py raises, for callers that tell it apart
                raise docker.errors.NotFound(exc.words) from exc
        else:
            image = self._call(f"inspecting {name}", self.api.inspect_image, name)
        try:
            return layer_sources.from_engine(name, image, lambda: self.save_stream(name), cache, report, stop)
        except requests.exceptions.RequestException as exc:
            raise EngineError(f"reading {name}: {describe(exc)}") from exc

    def search(self, term: str) -> list[transfer.SearchResult]:
        try:
            return self._transfer(f"searching {term}", transfer.search, self.api, term)
        except transfer.TransferError as exc:
            plainly = transfer.podman_search_words(term, str(exc)) if self.info.podman else None
            if plainly is None:
                raise
            raise transfer.TransferError(plainly) from exc

    def login(self, server: str, username: str, password: str) -> str:
        try:
            where = self._transfer(
                f"logging in to {server}", credentials.login, self.api, server, username, password
            )
        except credentials.LoginError as exc:
            said = str(exc)
            plainly = (
                transfer.podman_plain_http(f"login to {server}", server, said) if self.info.podman else said
            )
            if plainly == said:
                raise
            raise credentials.LoginError(plainly) from None
        self._reload_credentials()
        return str(where)

    def logout(self, server: str) -> bool:
        found = bool(self._transfer(f"logging out of {server}", credentials.logout, server))
        self._reload_credentials()
        return found

    def _reload_credentials(self) -> None:
        """docker-py reads the docker config once per client: read it again after a login or logout."""
        for api in (self._api, self._transfer_api):
            if api is not None:
                api.reload_config(str(credentials.config_path()))

    def close(self) -> None:
        for api in (self._api, self._transfer_api):
            try:
                if api is not None:
                    api.close()
            except Exception:
                pass
