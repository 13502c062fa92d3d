"""A fault proxy on 127.0.0.1 in front of a real registry (tests only): it relays HTTP requests to the
registry one per connection (it asks the registry for `Connection: close`, so the client opens a new
connection for each request and every request is seen here), and breaks the ones a rule names:

- `Rule(path, stall=True)`: read the request, answer nothing (the connection stays open until `stop()`);
- `Rule(path, reset=True)`: read the request, reset the connection (RST) without an answer;
- `Rule(path, reset_after=N)`: relay the registry's answer, its head and N bytes of its body, then reset the
  connection (RST, as a dropped link or a crashed load balancer does);
- `Rule(path, stall_after=N)`: relay the head and N bytes of the body, then send nothing more (a hung
  backend);
- `Rule(path, answer=Canned(...))`: answer this instead of asking the registry (a 500, a garbage body).

Each rule applies `times` times (None: always), to requests whose method matches and whose path+query
contains `path`. `frozen` makes the whole registry hang: every connection is accepted and never answered,
whatever is sent on it (TLS probes included)."""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field

HEAD_LIMIT = 64 * 1024


@dataclass
class Canned:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def raw(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} Canned", f"Content-Type: {self.content_type}",
                 f"Content-Length: {len(self.body)}", "Connection: close",
                 "Docker-Distribution-Api-Version: registry/2.0",
                 *(f"{k}: {v}" for k, v in self.headers.items())]  # fmt: skip
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Rule:
    path: str
    method: str = "GET"
    times: int | None = 1
    stall: bool = False
    reset: bool = False
    reset_after: int | None = None
    stall_after: int | None = None
    answer: Canned | None = None
    hits: int = 0

    def matches(self, method: str, target: str) -> bool:
        live = self.times is None or self.hits < self.times
        return live and method == self.method and self.path in target


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        assert host == "127.0.0.1", "traffic to loopback only"
        self.upstream = (host, int(port))
        self.rules: list[Rule] = []
        self.seen: list[str] = []
        """Every request relayed or broken, as "METHOD /path?query"."""
        self.frozen = False
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.address = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
        self.frozen = False

    def stop(self) -> None:
        self._stopped.set()
        self._accepting.join(5)
        self._server.close()
        for thread in self._threads:
            thread.join(5)

    # -- the connections -------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except (socket.timeout, OSError):
                continue
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        try:
            if self.frozen:
                self._stopped.wait()
                return
            head = self._read_head(client)
            if head is None:
                return  # not HTTP (a TLS probe of a plain-HTTP registry): closed, as a registry refuses it
            method, target, request = head
            with self._lock:
                self.seen.append(f"{method} {target}")
                rule = next((r for r in self.rules if r.matches(method, target)), None)
                if rule is not None:
                    rule.hits += 1
            if rule is not None and rule.stall:
                self._stopped.wait()
            elif rule is not None and rule.reset:
                _reset(client)
            elif rule is not None and rule.answer is not None:
                client.sendall(rule.answer.raw())
            else:
                budget = rule.reset_after if rule else None
                stall = rule.stall_after if rule else None
                self._relay(client, request, budget if stall is None else stall, reset=stall is None)
        except OSError:
            pass
        finally:
            client.close()

    def _read_head(self, client: socket.socket) -> tuple[str, str, bytes] | None:
        """(method, target, the request to send upstream: its head with `Connection: close`, and its body)"""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(4096)
            if not chunk or (not data and not chunk[:1].isalpha()) or len(data) > HEAD_LIMIT:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [line for line in lines[1:] if not line.lower().startswith(("connection:", "keep-alive:"))]
        length = next(
            (int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:")), 0
        )
        while len(rest) < length:
            chunk = client.recv(65536)
            if not chunk:
                return None
            rest += chunk
        relayed = "\r\n".join([lines[0], *headers, "Connection: close"]).encode() + b"\r\n\r\n"
        return method, target, relayed + rest

    def _relay(self, client: socket.socket, request: bytes, budget: int | None, reset: bool) -> None:
        with socket.create_connection(self.upstream, timeout=30) as upstream:
            upstream.sendall(request)
            head = b""
            while b"\r\n\r\n" not in head:  # the head whole, then the budget counts bytes of the body
                chunk = upstream.recv(65536)
                if not chunk:
                    client.sendall(head)
                    return
                head += chunk
            end = head.index(b"\r\n\r\n") + 4
            client.sendall(head[:end])
            chunk, sent = head[end:], 0
            while True:
                if budget is not None and sent + len(chunk) >= budget:
                    client.sendall(chunk[: budget - sent])
                    if reset:
                        _reset(client)
                    else:
                        self._stopped.wait()
                    return
                client.sendall(chunk)
                sent += len(chunk)
                chunk = upstream.recv(65536)
                if not chunk:
                    return


def _reset(client: socket.socket) -> None:
    """SO_LINGER with a zero timeout: close() then sends RST, not FIN (a reset, not a clean end)."""
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()
