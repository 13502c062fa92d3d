"""Answers a real docker-registry 2.8 cannot be made to give, on 127.0.0.1, at the protocol boundary:
a tags list paged with Link headers (the spec allows it; distribution 2.8 returns every tag at once), 429 with
Retry-After, a 500, and an HTML page where JSON should be (a web server in front of the wrong path)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlparse

PAGED_TAGS = [f"v{n:02d}" for n in range(1, 24)]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        query = parse_qs(url.query)
        headers: dict[str, str] = {"Docker-Distribution-Api-Version": "registry/2.0"}
        if url.path == "/v2/":
            self._send(200, {}, headers)
        elif url.path == "/v2/paged/tags/list":
            n = int(query.get("n", ["1000"])[0])
            last = query.get("last", [""])[0]
            rest = [t for t in PAGED_TAGS if t > last]
            page = rest[:n]
            if len(rest) > n:
                headers["Link"] = f'</v2/paged/tags/list?n={n}&last={quote(page[-1])}>; rel="next"'
            self._send(200, {"name": "paged", "tags": page}, headers)
        elif url.path == "/v2/limited/tags/list":
            headers["Retry-After"] = "7"
            self._send(429, {"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]}, headers)
        elif url.path == "/v2/broken/tags/list":
            self._send(500, {"errors": [{"code": "UNKNOWN", "message": "storage backend down"}]}, headers)
        elif url.path == "/v2/html/tags/list":
            raw = b"<html><body>Welcome to nginx!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        else:
            self._send(
                404, {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}, headers
            )

    def _send(self, status: int, body: object, headers: dict[str, str]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


def start() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
