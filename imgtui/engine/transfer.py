"""Making and moving images: commit, save/load (streamed, cancellable), pull/push (the engine's own
progress stream). Every function blocks: call it from a thread worker, with `progress` posting messages."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import humanize

from imgtui.engine.errors import engine_words
from imgtui.engine.lazy import lazy
from imgtui.engine.models import familiar, full_id
from imgtui.engine.reference import validate, validate_pull
from imgtui.record import record

if TYPE_CHECKING:
    import docker
    import docker.errors
    import requests.exceptions
else:  # imported when first used (lazy.py)
    docker = lazy("docker")
    requests = lazy("requests")

CHUNK = 1 << 20


class TransferError(Exception):
    """A transfer could not be done; the message says why, in words."""


class Cancelled(Exception):
    """The user cancelled; partial output was removed."""


@record
class Progress:
    """One progress report. `done`/`total` in bytes when known (total 0: unknown)."""

    what: str
    done: int = 0
    total: int = 0
    layer: str = ""
    status: str = ""


Report = Callable[[Progress], None]
Stop = Callable[[], bool]


def commit(
    api: docker.APIClient,
    container: str,
    name: str,
    author: str = "",
    message: str = "",
    changes: list[str] | None = None,
) -> tuple[str, str]:
    """`docker commit -a AUTHOR -m MESSAGE [-c CHANGE]... CONTAINER NAME`; returns (image ID, repo:tag)."""
    repo, tag = validate(name)
    result = api.commit(
        container, repository=repo, tag=tag, author=author or None, message=message or None,
        changes=[c for c in (changes or []) if c.strip()] or None,
    )  # fmt: skip
    return full_id(str(result["Id"])), f"{repo}:{tag}"


def check_save_path(path: str, overwrite: bool) -> Path:
    """The file a save will write, or a TransferError saying why not (no folder, not writable, exists)."""
    if not path.strip():
        raise TransferError("type the path of the .tar file to write")
    target = Path(path).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise TransferError(f"folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise TransferError(f"folder {folder} is not writable")
    if target.is_dir():
        raise TransferError(f"{target} is a folder; give a file name")
    if target.exists() and not overwrite:
        raise TransferError(f"{target} exists")
    return target


def save_path_problem(path: str, overwrite: bool) -> str | None:
    """check_save_path's answer as a sentence for a dialog, or None when the path will do."""
    try:
        check_save_path(path, overwrite)
    except TransferError as problem:
        return str(problem)
    return None


def save(api: docker.APIClient, names: list[str], path: Path, report: Report, stop: Stop) -> int:
    """`docker save -o PATH NAMES...`, by name so the tags survive: streamed to a temporary file beside
    `path` (never all in memory), renamed into place when complete; returns the bytes written. On any
    failure (the disk full, the engine gone) or a cancel, neither the file nor its temporary part is left."""
    total = sum(int(api.inspect_image(name).get("Size") or 0) for name in names)
    return save_body(lambda: _export(api, names), total, names, path, report, stop)


class StreamBroke(TransferError):
    """The engine's answer broke off while it was being read (not the disk's failure)."""


def body_chunks(open_body: Callable[[], Any]) -> Iterator[bytes]:
    """An answer's body (a file from unixhttp.UnixHTTP.body) in pieces of CHUNK bytes; a broken connection
    is StreamBroke, so that it is not taken for the disk's OSError."""
    body = open_body()
    done = 0
    try:
        while True:
            try:
                chunk = body.read(CHUNK)
            except OSError as exc:
                raise StreamBroke(
                    f"the engine's answer broke off after {humanize.naturalsize(done)}: {exc.strerror or exc}"
                ) from None
            if not chunk:
                return
            done += len(chunk)
            yield chunk
    finally:
        body.close()


def save_body(chunks: Callable[[], Iterator[bytes]], total: int, names: list[str], path: Path, report: Report,
              stop: Stop) -> int:  # fmt: skip
    """`save`, from any source of the archive's bytes (`total`: the images' size, for the progress)."""
    path = check_save_path(str(path), overwrite=True)
    try:
        import tempfile  # off the path to the first screen

        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise TransferError(f"could not write in {path.parent}: {exc.strerror or exc}") from exc
    done = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks():
                if stop():
                    raise Cancelled()
                out.write(chunk)
                done += len(chunk)
                report(Progress(f"save {', '.join(names)}", done, max(total, done)))
        os.replace(temp, path)
    except OSError as exc:  # the disk, not the engine: the engine's failures come as requests' errors
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, requests.exceptions.RequestException):
            raise
        raise TransferError(
            f"could not write {path}: {exc.strerror or exc} after {humanize.naturalsize(done)}; "
            "the partial file was removed"
        ) from exc
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return done


def _export(api: docker.APIClient, names: list[str]) -> Iterator[bytes]:
    """`GET /images/get?names=...` (one tar for all the names, as `docker save` asks), through the client's
    own requests session (its public `get`), read in pieces of CHUNK bytes: the engine sends 32 KiB HTTP
    chunks, and docker-py's `get_image` yields each (32,768 writes and reports for 1 GiB, against 1,024)."""
    url = f"{api.base_url}/v{api.api_version}/images/get"
    response = api.get(url, params={"names": names}, stream=True, timeout=api.timeout)
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError as exc:
        raise docker.errors.create_api_error_from_http_exception(exc) from exc
    try:
        while chunk := response.raw.read(CHUNK, decode_content=False):
            yield chunk
    finally:
        response.close()


def export(api: docker.APIClient, container: str, path: Path, report: Report, stop: Stop) -> int:
    """`docker export -o PATH CONTAINER`: the container's filesystem only (no history, no config), streamed
    to a temporary file renamed into place when complete."""
    import tempfile  # off the path to the first screen

    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    done = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in api.export(container, chunk_size=CHUNK):
                if stop():
                    raise Cancelled()
                out.write(chunk)
                done += len(chunk)
                report(Progress(f"export {container}", done))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return done


def import_(api: docker.APIClient, path: str, name: str) -> str:
    """`docker import PATH NAME`: one layer of the tar's files, no history; returns the image ID."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise TransferError(f"{source} does not exist" if not source.exists() else f"{source} is not a file")
    repo, tag = validate(name)
    try:
        # The tag in the repository: Docker reads it there, and Podman 4.3 leaves out a separate one (the
        # import would be named NAME:latest).
        answer = api.import_image(src=str(source), repository=f"{repo}:{tag}")
    except docker.errors.APIError as exc:
        raise TransferError(f"the engine could not import {source.name}: {engine_words(exc)}") from exc
    text = answer if isinstance(answer, str) else str(answer)
    for line in text.splitlines():
        if '"error"' in line:
            raise TransferError(f"the engine could not import {source.name}: {line}")
    return str(api.inspect_image(f"{repo}:{tag}")["Id"])


@record
class SearchResult:
    """One row of `docker search`."""

    name: str
    description: str
    stars: int
    official: bool
    automated: bool


PLAIN_HTTP = ("first record does not look like a TLS handshake", "server gave HTTP response to HTTPS client")
"""Go's words when a registry answered plain HTTP to an HTTPS request."""


def podman_search_words(term: str, error: str) -> str | None:
    """What to say when Podman could not search a registry that serves plain HTTP, or None for other
    failures: Podman (4.3) speaks HTTPS to a registry unless its registries.conf lists that registry (host
    and port) as insecure, and has no setting for a range of them, as Docker's --insecure-registry has."""
    if not any(words in error for words in PLAIN_HTTP):
        return None
    host = term.strip().split("/", 1)[0]
    return (
        f"search failed: {host} answers plain HTTP, and Podman searches a registry over HTTPS unless its "
        "registries.conf lists that registry as insecure"
    )


def podman_plain_http(what: str, host: str, error: str) -> str:
    """A push's, pull's or login's error on Podman in one sentence when the registry serves plain HTTP (as
    podman_search_words), else the error as it is. `what`: `push NAME`, `login to HOST`."""
    if not any(words in error for words in PLAIN_HTTP):
        return error
    return (
        f"{what} failed: {host} answers plain HTTP, and Podman reaches a registry over HTTPS unless its "
        "registries.conf lists that registry as insecure"
    )


PODMAN_PUSH = "Podman reports no progress layer by layer for a push, only the digest when it is done"
"""The line a push on Podman ends with (Podman 4.3's push stream has no layer lines)."""


def search(api: docker.APIClient, term: str, limit: int = 50) -> list[SearchResult]:
    """`docker search TERM` through the engine (`/images/search`): Docker Hub, or the registry the term
    names."""
    if not term.strip():
        raise TransferError("type what to search for (a registry host in front searches that registry)")
    try:
        rows = api.search(term.strip(), limit=limit)
    except docker.errors.APIError as exc:
        raise TransferError(f"search failed: {engine_words(exc)}") from exc
    return [
        SearchResult(
            str(r.get("name", "")),
            str(r.get("description") or ""),
            int(r.get("star_count") or 0),
            bool(r.get("is_official")),
            bool(r.get("is_automated")),
        )  # fmt: skip
        for r in rows
    ]


def _read(path: Path, report: Report, stop: Stop) -> Iterator[bytes]:
    """The file in chunks; a file that changes while it is read (its size or modification time) stops the
    load with a TransferError, before the engine has the end of the archive (its manifest)."""
    done = 0
    with path.open("rb") as src:
        first = os.fstat(src.fileno())
        total = first.st_size
        while chunk := src.read(CHUNK):
            if stop():
                raise Cancelled()
            now = os.fstat(src.fileno())
            if (now.st_size, now.st_mtime_ns) != (first.st_size, first.st_mtime_ns):
                raise TransferError(f"{path} changed while it was being loaded; the load was stopped")
            done += len(chunk)
            report(Progress(f"load {path.name}", done, total))
            yield chunk
        if done != total:
            raise TransferError(f"{path} changed while it was being loaded; the load was stopped")


def load(api: docker.APIClient, path: str, report: Report, stop: Stop) -> list[str]:
    """`docker load -i PATH`, streamed from disk; returns the engine's lines (`Loaded image: ...`). Asked
    quiet, as the docker CLI asks when its output is no terminal: the engine's own progress is not shown (the
    job bar counts the bytes sent), and its closing lines come all the same."""
    return load_with(lambda pieces, size: api.load_image(pieces, quiet=True) or [], path, report, stop)


def load_with(send: Callable[[Iterator[bytes], int], Iterable[Any]], path: str, report: Report,
              stop: Stop) -> list[str]:  # fmt: skip
    """`load`, through `send(pieces, size)`, which posts the archive and gives the engine's answers."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise TransferError(f"{source} does not exist" if not source.exists() else f"{source} is not a file")
    if not os.access(source, os.R_OK):
        raise TransferError(f"{source} is not readable")
    lines: list[str] = []
    try:
        for item in send(_read(source, report, stop), source.stat().st_size):
            if isinstance(item, dict):
                if item.get("error"):
                    raise TransferError(f"the engine could not load {source.name}: {item['error']}")
                text = str(item.get("stream") or item.get("status") or "").strip()
                lines += _loaded_lines(text) if text else []
    except docker.errors.APIError as exc:
        raise TransferError(f"the engine could not load {source.name}: {engine_words(exc)}") from exc
    return lines


LOADED = "Loaded image: "


def _loaded_lines(text: str) -> list[str]:
    """The engine's closing line of a load, one line per name as Docker writes them: Podman says
    `Loaded image: docker.io/x/one:1,docker.io/x/two:2`, Docker one `Loaded image: x/one:1` a name."""
    if not text.startswith(LOADED):
        return [text]
    return [f"{LOADED}{familiar(name.strip())}" for name in text[len(LOADED) :].split(",") if name.strip()]


def _stream(events: Any, what: str, report: Report, stop: Stop) -> tuple[list[str], list[str]]:
    """Relay pull/push progress in each store's own words; returns (one line per layer with its last word,
    then the engine's closing lines (digest, status), and the errors). A pulled layer ends with `Pull
    complete` or `Already exists` on the classic store, `Download complete` on the containerd store; a
    pushed one with `Pushed`, `Layer already exists` or `Mounted from REPO`."""
    layers: dict[str, str] = {}
    closing: list[str] = []
    errors: list[str] = []
    for item in events:
        if stop():
            raise Cancelled()
        if item.get("error"):
            errors.append(str(item.get("error")))
            continue
        detail = item.get("progressDetail") or {}
        status = str(item.get("status") or "").strip()
        layer = str(item.get("id") or "")
        # `hidecounts`: the containerd store's way of saying these are not byte counts to show.
        hidden = bool(detail.get("hidecounts"))
        done = 0 if hidden else int(detail.get("current") or 0)
        total = 0 if hidden else int(detail.get("total") or 0)
        report(Progress(what, done, total, layer, status))
        if not status:
            continue
        if not layer:
            closing.append(status)
        elif _is_layer(layer):
            layers[layer] = status  # its last word stays
    return [f"{layer}: {status}" for layer, status in layers.items()] + closing, errors


def _is_layer(layer: str) -> bool:
    """Progress ids are short layer digests; a pull's first line uses the tag as its id."""
    return len(layer) == 12 and all(c in "0123456789abcdef" for c in layer)


def pull(api: docker.APIClient, name: str, report: Report, stop: Stop) -> tuple[list[str], list[str]]:
    """`docker pull NAME[:TAG]` or `NAME@DIGEST` (the engine takes a digest in the tag parameter)."""
    repo, tag = validate_pull(name)
    what = f"pull {repo}{'@' if '@' in name else ':'}{tag}"
    return _stream(api.pull(repo, tag=tag, stream=True, decode=True), what, report, stop)


REACHED = ("Pushing", "Pushed", "Layer already exists", "Mounted from")
"""A pushed layer's words once the registry has answered for it."""


def reached_registry(progress: Progress) -> bool:
    """Whether this report of a push shows the registry answering: a layer being sent or already there, or
    the manifest taken (its digest). A push that fails before any such report sent nothing."""
    if _is_layer(progress.layer):
        return progress.status.startswith(REACHED)
    return "digest: sha256:" in progress.status


UNREACHABLE = ("dial tcp", "connection refused", "no such host", "i/o timeout", "no route to host",
               "connection reset", "network is unreachable")  # fmt: skip
"""The engine's words (Go's net errors) for a registry it could not reach."""


def unreachable(errors: list[str]) -> bool:
    """Whether a push's or pull's errors say the registry could not be reached at all (not that it refused:
    `unauthorized`, `denied` are answers)."""
    return any(word in error.lower() for error in errors for word in UNREACHABLE)


def push(api: docker.APIClient, name: str, report: Report, stop: Stop) -> tuple[list[str], list[str]]:
    repo, tag = validate(name)
    return _stream(api.push(repo, tag=tag, stream=True, decode=True), f"push {repo}:{tag}", report, stop)
