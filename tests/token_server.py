"""A token service for a real docker-registry configured with `auth: token` (the distribution spec's bearer
flow). The registry only verifies the tokens; issuing them is this small server's job (a real deployment would
run e.g. docker_auth or a cloud IAM here). Tokens are RS256 JWTs carrying the signing certificate in `x5c`,
which the registry checks against its `rootcertbundle`.

Rules: the right user and password get every action they ask for; a wrong password gets 401; anonymous
requests get `pull` on repositories and nothing else (so listing the catalog or deleting needs a login)."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

SERVICE = "imgtui-registry"
ISSUER = "imgtui-token-issuer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    def __init__(self, cert: Path, key: Path, user: str, password: str) -> None:
        self.cert = x509.load_pem_x509_certificate(cert.read_bytes())
        self.key = serialization.load_pem_private_key(key.read_bytes(), password=None)
        self.user, self.password = user, password
        self.requests: list[dict[str, object]] = []
        """What was asked (scope, user), for the tests; never the password."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.answer(self)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                server.answer_form(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        """GET: scopes in the query, credentials as Basic auth (what imgtui and the classic store send)."""
        query = parse_qs(urlparse(request.path).query)
        header = request.headers.get("Authorization", "")
        credentials = None
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            credentials = (user, password)
        self.grant(request, query, credentials)

    def answer_form(self, request: BaseHTTPRequestHandler) -> None:
        """POST: the OAuth2 form the containerd image store sends (`grant_type=password`, space-separated
        scopes), as Docker Hub's auth service takes it."""
        length = int(request.headers.get("Content-Length") or 0)
        form = parse_qs(request.rfile.read(length).decode())
        query = {"scope": " ".join(form.get("scope", [])).split(), "service": form.get("service", [])}
        credentials = None
        if form.get("grant_type") == ["password"]:
            credentials = (form.get("username", [""])[0], form.get("password", [""])[0])
        self.grant(request, query, credentials, oauth=True)

    def grant(
        self,
        request: BaseHTTPRequestHandler,
        query: dict[str, list[str]],
        credentials: tuple[str, str] | None,
        oauth: bool = False,
    ) -> None:
        user = ""
        if credentials is not None:
            user, password = credentials
            if (user, password) != (self.user, self.password):
                self.requests.append({"scope": query.get("scope", []), "user": user, "refused": True})
                self._send(request, 401, {"details": "incorrect username or password"})
                return
        self.requests.append({"scope": query.get("scope", []), "user": user, "refused": False})
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = actions.split(",")
            granted = wanted if user else [a for a in wanted if a == "pull" and kind == "repository"]
            if granted:
                access.append({"type": kind, "name": name, "actions": granted})
        token = self.token(user, access)
        answer = {"access_token": token} if oauth else {"token": token}
        self._send(request, 200, {**answer, "expires_in": 300})

    def token(self, subject: str, access: Sequence[Mapping[str, object]]) -> str:
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}  # fmt: skip
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]
        return f"{signing}.{_b64(signature)}"

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: dict[str, object]) -> None:
        raw = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(raw)))
        request.end_headers()
        request.wfile.write(raw)

    def registry_auth(self, cert: Path) -> str:
        """The `auth:` section of the registry's config that trusts this server's tokens."""
        return (f"  token:\n    realm: {self.realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
                f"    rootcertbundle: {cert}\n")  # fmt: skip
