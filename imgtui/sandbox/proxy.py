"""A unix-socket proxy in front of an engine: counts the requests that pass, can add latency to each, hold
some back until told, and be cut and restored (an engine that goes away and comes back). For tests and
benchmarks.

The latency (`delay`, seconds) is added once per request, before it is passed on: a round trip over a slow
link (ssh to a far server) as the engine sees it, since docker-py waits for each answer before the next
request on a connection. Requests on other connections (the event stream's, a second worker's) are not
held up by it, as on a real link."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

REQUEST_LINE = re.compile(rb"(?:^|\r\n\r\n|\r\n)(GET|POST|PUT|DELETE|HEAD) (/[^ ]*) HTTP/1\.[01]\r\n")


class EngineProxy:
    """Listen on `path`, forward every connection to the engine socket `target`."""

    def __init__(self, target: str | Path, path: str | Path, delay: float = 0.0) -> None:
        self.target = str(target).removeprefix("unix://")
        self.path = Path(str(path).removeprefix("unix://"))
        self.delay = delay
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._hold = ""
        self._released = threading.Event()
        self._released.set()
        self.held = 0
        """Requests waiting in the proxy now (see `hold`)."""

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def count(self, method: str | None = None, contains: str = "") -> int:
        with self._lock:
            return sum(1 for m, p in self.requests if (method is None or m == method) and contains in p)

    def hold(self, contains: str) -> None:
        """Keep back every request whose path contains `contains` until `release()`: a request that is in
        flight for as long as a test wants."""
        with self._lock:
            self._hold = contains
            self._released.clear()

    def release(self) -> None:
        with self._lock:
            self._hold = ""
            self._released.set()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def start(self) -> EngineProxy:
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="proxy-accept").start()
        return self

    def stop(self) -> None:
        """Close the listener and cut every open connection, as a dying engine would."""
        self.release()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.path.unlink(missing_ok=True)
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outgoing: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if outgoing:
                    found = REQUEST_LINE.findall(data[:8192])
                    if found:
                        paths = [(m.decode(), p.decode(errors="replace")) for m, p in found]
                        with self._lock:
                            self.requests += paths
                            held = bool(self._hold) and any(self._hold in p for _, p in paths)
                            self.held += held
                        if held:
                            self._released.wait()
                            with self._lock:
                                self.held -= 1
                        if self.delay:
                            time.sleep(self.delay * len(found))
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
