"""A small server on 127.0.0.1 that speaks the registry search API (`GET /v1/search?q=`), standing in for
Docker Hub's index, which cannot be reached here. The engine talks to it; imgtui talks only to the engine."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CATALOG = [
    {"name": "library/ubuntu", "description": "Ubuntu is a Debian-based Linux operating system",
     "star_count": 13460, "is_official": True, "is_automated": False},
    {"name": "alicek107/my-image-name", "description": "the seeds' image", "star_count": 3,
     "is_official": False, "is_automated": True},
]  # fmt: skip


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        if url.path == "/v1/_ping":
            body = b"true"
        elif url.path == "/v1/search":
            term = parse_qs(url.query).get("q", [""])[0]
            results = [r for r in CATALOG if term in str(r["name"])]
            body = json.dumps({"num_results": len(results), "query": term, "results": results}).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


def start() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
