"""An engine that speaks only API 1.44 and up, as Docker 29 does: a unix-socket HTTP front for the sandbox
engine that refuses older versioned paths with Docker 29's own 400 answer, says `Api-Version: 1.52` on
unversioned ones, and passes the rest on with the version the engine behind it speaks.

Docker 29 cannot run here (Debian's newest is 26.1), so this tests the client at the protocol boundary: what
versions it asks for, and that it never asks one the engine refuses.
"""

from __future__ import annotations

import http.client
import re
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

VERSIONED = re.compile(r"^/v(\d+)\.(\d+)(/.*)$")
MINIMUM = (1, 44)
NEWEST = "1.52"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


class VersionGate:
    def __init__(self, engine_socket: Path, path: Path, engine_api: str) -> None:
        self.path = path
        self.asked: list[str] = []
        """The API versions clients asked for (`unversioned` for plain paths)."""
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                gate.handle(self, "GET")

            def do_HEAD(self) -> None:  # noqa: N802
                gate.handle(self, "HEAD")

            def do_POST(self) -> None:  # noqa: N802
                gate.handle(self, "POST")

            def do_DELETE(self) -> None:  # noqa: N802
                gate.handle(self, "DELETE")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        path.unlink(missing_ok=True)
        self.server = Server(str(path), Handler)
        self.engine_socket = str(engine_socket)
        self.engine_api = engine_api
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.path.unlink(missing_ok=True)

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        target = request.path
        found = VERSIONED.match(target)
        if found:
            asked = (int(found.group(1)), int(found.group(2)))
            self.asked.append(f"{asked[0]}.{asked[1]}")
            if asked < MINIMUM:
                body = (
                    f'{{"message":"client version {asked[0]}.{asked[1]} is too old. Minimum supported API '
                    f'version is {MINIMUM[0]}.{MINIMUM[1]}, please upgrade your client to a newer version"}}'
                ).encode()
                self._send(request, 400, body, {"Content-Type": "application/json", "Api-Version": NEWEST})
                return
            target = f"/v{self.engine_api}{found.group(3)}"
        else:
            self.asked.append("unversioned")
        length = int(request.headers.get("Content-Length") or 0)
        sent = request.rfile.read(length) if length else None
        upstream = _UnixConnection(self.engine_socket)
        upstream.request(method, target, body=sent, headers={"Host": "docker"})
        answer = upstream.getresponse()
        data = answer.read()
        headers = {
            k: v for k, v in answer.getheaders() if k.lower() not in ("transfer-encoding", "content-length")
        }
        headers["Api-Version"] = NEWEST
        self._send(request, answer.status, data, headers)
        upstream.close()

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        request.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("date", "server"):
                request.send_header(key, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
