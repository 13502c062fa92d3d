"""The engine's API over its unix socket with the standard library only (HTTP/1.0 over AF_UNIX): what the
first screen needs (the engine's version, the image list, the event stream, a history), asked before
docker-py and requests are imported (imgtui/engine/lazy.py). tcp:// and ssh:// engines go through docker-py
from the start. Requests and answers are the ones docker-py would send and decode."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Iterator
from typing import IO, Any
from urllib.parse import quote, urlencode

ENDED = "the engine ended its answer"
"""A streamed answer's end that nobody asked for (the engine stopped)."""


class Refused(Exception):
    """The engine answered with an error status; `words` is its own explanation."""

    def __init__(self, status: int, words: str) -> None:
        super().__init__(words)
        self.status = status
        self.words = words


def socket_path(base_url: str) -> str | None:
    """The socket file of a `unix://` (or `http+unix://`) address, else None."""
    for prefix in ("unix://", "http+unix://"):
        if base_url.startswith(prefix):
            return base_url[len(prefix) :] or None
    return None


def path(template: str, *names: str, version: str = "", **params: Any) -> str:
    """`/v1.45/images/sha256:.../history?...`: names quoted as docker-py quotes them, parameters that are
    None left out, dicts (filters) as JSON."""
    url = (f"/v{version}" if version else "") + template.format(*(quote(n, safe="/:") for n in names))
    query = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items() if v is not None}
    return f"{url}?{urlencode(query)}" if query else url


class UnixHTTP:
    """One request per connection, in HTTP/1.0: the engine (Go's net/http) then sends the body as it is,
    not in chunks, and ends it by closing; a unix socket connects in microseconds. (http.client would do
    as well, but imports email and ssl: 35 ms more before the first screen.)"""

    def __init__(self, socket_file: str, timeout: float | None) -> None:
        self.socket_file = socket_file
        self.timeout = timeout

    def _open(
        self,
        url: str,
        version: str = "1.0",
        extra: str = "",
        method: str = "GET",
        upload: Iterable[bytes] | None = None,
    ) -> tuple[socket.socket, IO[bytes], dict[str, str]]:
        """Send the request (with `upload`, its body, of the length `extra` gives) and read the answer's
        head: (socket, its reader at the body, headers with lower-case names). Raises Refused for an error
        status (its body read), OSError for the socket."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_file)
            sock.sendall(
                f"{method} {url} HTTP/{version}\r\nHost: docker\r\nUser-Agent: imgtui\r\n{extra}\r\n".encode()
            )
            if upload is not None:
                try:
                    for piece in upload:
                        sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the engine stopped reading: its answer says why
            reader = sock.makefile("rb")
            status_line = reader.readline(65537)
            parts = status_line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
                raise ConnectionError("the engine closed the connection without an answer")
            headers: dict[str, str] = {}
            while (line := reader.readline(65537)) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            status = int(parts[1])
            if status >= 400:
                reason = parts[2].decode("latin-1").strip() if len(parts) > 2 else str(status)
                raise Refused(status, _words(reader.read(), reason))
        except BaseException:
            sock.close()
            raise
        return sock, reader, headers

    def get(self, url: str) -> tuple[Any, dict[str, str]]:
        """The decoded JSON answer and the headers (lower-case names); raises Refused, OSError, or
        ValueError for an answer that is not JSON."""
        sock, reader, headers = self._open(url)
        try:
            length = headers.get("content-length", "")
            body = reader.read(int(length)) if length.isdigit() else reader.read()
            return json.loads(body or b"null"), headers
        finally:
            reader.close()
            sock.close()

    def body(self, url: str) -> Body:
        """A long answer's body as a file to read (an image's save stream), no read timeout (the engine may
        pause between layers). Asked in HTTP/1.1: an answer cut short (the engine killed) must be told from
        its end, and in HTTP/1.0 both are the connection closing; chunks are taken apart by `Body`, a few
        calls a chunk. Closing it closes the connection."""
        sock, reader, headers = self._open(url, "1.1", "Connection: close\r\n")
        sock.settimeout(None)
        sock.close()  # the file keeps the connection open until it is closed itself
        length = headers.get("content-length", "")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        return Body(reader, chunked, int(length) if length.isdigit() and not chunked else None)

    def upload(self, url: str, pieces: Iterable[bytes], length: int, kind: str) -> Body:
        """POST a body of `length` bytes sent as `pieces` come (a file streamed, never held whole); the
        answer's body as a file to read, as `body` gives it."""
        extra = f"Content-Type: {kind}\r\nContent-Length: {length}\r\nConnection: close\r\n"
        sock, reader, headers = self._open(url, "1.1", extra, "POST", pieces)
        sock.settimeout(None)
        sock.close()
        size = headers.get("content-length", "")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        return Body(reader, chunked, int(size) if size.isdigit() and not chunked else None)

    def stream(self, url: str) -> JsonStream:
        """A streamed answer of JSON objects, one a line (`/events`): no read timeout."""
        sock, reader, _ = self._open(url)
        sock.settimeout(None)
        return JsonStream(sock, reader)


class Body:
    """An answer's body: chunked (HTTP/1.1) or of a known length, else up to the connection's end. An end
    before the last chunk or the length raises ConnectionError(ENDED)."""

    def __init__(self, reader: IO[bytes], chunked: bool, length: int | None) -> None:
        self._reader = reader
        self._chunked = chunked
        self._left = length if not chunked else 0
        """Bytes left in the current chunk (or of the whole body when its length is known)."""
        self._done = False

    def read(self, size: int = -1) -> bytes:
        if self._done:
            return b""
        if not self._chunked:
            want = size if self._left is None or 0 <= size <= self._left else self._left
            if self._left is not None and want == -1:
                want = self._left
            data = self._reader.read(want)
            if self._left is not None:
                self._left -= len(data)
                if want and not data:
                    raise ConnectionError(ENDED)
                self._done = self._left == 0
            elif not data:
                self._done = True
            return data
        parts: list[bytes] = []
        wanted = size if size >= 0 else 1 << 62
        while wanted > 0:
            if not self._left:
                line = self._reader.readline(1024)
                if not line.endswith(b"\n"):
                    raise ConnectionError(ENDED)
                try:
                    self._left = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ConnectionError(f"the engine sent a broken chunk header: {line[:40]!r}") from None
                if self._left == 0:  # the last chunk, then trailers up to an empty line
                    while self._reader.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    self._done = True
                    break
            data = self._reader.read(min(wanted, self._left))
            if not data:
                raise ConnectionError(ENDED)
            parts.append(data)
            self._left -= len(data)
            wanted -= len(data)
            if not self._left and self._reader.read(2) != b"\r\n":  # each chunk ends in CRLF
                raise ConnectionError(ENDED)
        return b"".join(parts)

    def close(self) -> None:
        self._reader.close()


class JsonStream:
    """Iterates the objects of a streamed answer; `close()` from another thread ends the iteration (the
    socket is shut down under the reader). An answer that ends without `close()` raises ConnectionError."""

    def __init__(self, sock: socket.socket, reader: IO[bytes]) -> None:
        self._sock = sock
        self._reader = reader
        self._closed = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            for line in self._reader:
                if line.strip():
                    yield json.loads(line)
        finally:
            self._reader.close()
            self._sock.close()
        if not self._closed:
            raise ConnectionError(ENDED)

    def close(self) -> None:
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()


def _words(body: bytes, reason: str) -> str:
    """The engine's `{"message": "..."}`, else the body, else the status's reason."""
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or body.decode(errors="replace").strip() or reason)
