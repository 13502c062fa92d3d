"""A client of the Registry HTTP API v2 (the distribution spec) on `requests`: the catalog and tag lists page
by page (Link headers), manifests of every kind with the right Accept header, image configs, HEAD for digests
and DELETE by digest; anonymous, Basic and Bearer-token auth. Manifests and configs are cached by digest (a
digest never changes). Every failure becomes a RegistryError with a sentence a user can act on."""

from __future__ import annotations

import base64
import hashlib
import http.client
import ipaddress
import socket
import threading
import time
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from imgtui.registry.auth import Challenge, Credentials, from_docker_config, parse_challenge
from imgtui.registry.errors import AuthRequired, DeleteDisabled, NotFound, RegistryError
from imgtui.registry.models import (
    MANIFEST_TYPES,
    ImageConfig,
    Manifest,
    Page,
)
from imgtui.registry.parsing import parse_history, parse_manifest, parse_time, platform_text, schema1_config

ACCEPT = ", ".join(MANIFEST_TYPES)
CERTS_D = Path("/etc/docker/certs.d")
"""Where the docker engine looks for a registry's CA (`certs.d/HOST[:PORT]/ca.crt`); so does imgtui."""
RETRY_STATUS = (500, 502, 503, 504)
"""Answers a GET or HEAD is tried once more after: a registry behind a load balancer gives one of these for a
moment while a backend restarts. A second one in a row is said to the user (with the registry's own words)."""
RETRY_PAUSE = 0.5
"""Seconds before that one retry (also after a connection that broke mid-answer). Never after a timeout: that
would make the user wait twice the timeout."""


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split_address(address: str) -> tuple[str | None, str]:
    """`https://reg.example.com/` → ("https", "reg.example.com"); `127.0.0.1:5000` → (None, same)."""
    text = address.strip().rstrip("/")
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(f"{address!r} is not a registry address (give HOST[:PORT] or https://HOST)")
        return parts.scheme, parts.netloc
    if not text or "/" in text or " " in text:
        raise RegistryError(f"{address!r} is not a registry address (give HOST[:PORT] or https://HOST)")
    return None, text


def check_address(address: str, insecure: bool) -> tuple[str | None, str]:
    """split_address, refusing plain HTTP off loopback unless the registry is marked insecure (the engine's
    rule); (scheme or None, host)."""
    scheme, host = split_address(address)
    if scheme == "http" and not (is_loopback(host) or insecure):
        raise RegistryError(
            f"plain HTTP to {host} refused: only loopback registries or ones marked insecure (the dialog's "
            "box, or --insecure-registry) are spoken to without TLS, as the docker engine does"
        )
    return scheme, host


class Broken(RegistryError):
    """The connection broke while the registry was answering (reset, or closed early): tried once more."""


class Registry:
    """One registry, e.g. `Registry("127.0.0.1:5000")` or `Registry("https://reg.example.com")`.

    Plain HTTP is used only for loopback addresses or when `insecure` is set (as the docker engine does);
    `insecure` also accepts a TLS certificate that does not verify. Thread-safe enough for the UI's workers:
    the caches are dicts written whole, the token cache has a lock."""

    def __init__(
        self,
        address: str,
        *,
        insecure: bool = False,
        credentials: Credentials | None = None,
        page_size: int = 100,
        timeout: float = 15.0,
    ) -> None:
        scheme, self.host = check_address(address, insecure)
        self.insecure = insecure
        self.loopback = is_loopback(self.host)
        self._scheme = scheme
        """None until the first request decides (https first; http for loopback / insecure if TLS fails)."""
        self.page_size = page_size
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "imgtui"
        ca = CERTS_D / self.host / "ca.crt"
        self.verify: bool | str = False if insecure else (str(ca) if ca.is_file() else True)
        """Passed with every request: a Session's own `verify` loses to CURL_CA_BUNDLE in the environment."""
        if self.loopback:
            self.session.trust_env = False  # never through an HTTP proxy from the environment
        if insecure:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._credentials = credentials
        self._looked_up_config = credentials is not None
        self._tokens: dict[str, str] = {}
        self._basic = False
        self._lock = threading.Lock()
        self._manifests: dict[str, Manifest] = {}
        self._configs: dict[str, ImageConfig] = {}
        self._config_bodies: dict[str, dict[str, Any]] = {}

    # -- who we are -------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self._scheme or 'https'}://{self.host}"

    @property
    def credentials(self) -> Credentials | None:
        if not self._looked_up_config:
            self._looked_up_config = True
            self._credentials = from_docker_config(self.host)
        return self._credentials

    def set_credentials(self, username: str, password: str) -> None:
        """Credentials typed by the user: kept in this object only, never written anywhere."""
        with self._lock:
            self._credentials = Credentials(username, password, "typed")
            self._looked_up_config = True
            self._tokens.clear()

    def describe(self) -> str:
        found = self._credentials
        who = f"as {found.username} ({found.source})" if found else "anonymous"
        return f"{self.base_url} {who}"

    def close(self) -> None:
        self.session.close()

    # -- requests ---------------------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        scope: str,
        stream: bool = False,
        data: bytes | None = None,
    ) -> requests.Response:
        auth = self._auth_header(scope)
        if auth:
            headers = {**headers, "Authorization": auth}
        try:
            return self.session.request(
                method, url, headers=headers, timeout=self.timeout, verify=self.verify, stream=stream,
                data=data,
            )  # fmt: skip
        except requests.exceptions.SSLError as exc:
            raise RegistryError(
                f"TLS error talking to {self.host}: {_reason(exc)}. If it uses its own CA, put it in "
                f"{CERTS_D}/{self.host}/ca.crt (as for the docker engine), or mark the registry insecure"
            ) from None
        except requests.exceptions.Timeout:
            raise self._timed_out() from None
        except requests.exceptions.ChunkedEncodingError as exc:  # the body was cut short
            raise Broken(
                f"the connection to {self.host} broke in the middle of its answer ({_broke(exc)})"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if _caused_by(exc, urllib3.exceptions.ReadTimeoutError):  # a stall within the body
                raise self._timed_out() from None
            if _caused_by(exc, urllib3.exceptions.ProtocolError) and not _caused_by(
                exc, ConnectionRefusedError
            ):
                raise Broken(
                    f"the connection to {self.host} broke before it answered ({_broke(exc)})"
                ) from None
            raise RegistryError(f"cannot reach {self.host}: {_reason(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise RegistryError(f"request to {self.host} failed: {_reason(exc)}") from None

    def _timed_out(self) -> RegistryError:
        return RegistryError(
            f"{self.host} did not answer within {self.timeout:g} s (it may be down or overloaded)"
        )

    def _decide_scheme(self) -> None:
        """https, unless the registry is loopback or marked insecure and does not speak TLS (the engine's
        rule): then plain http. Costs one probe, once."""
        if self._scheme is not None:
            return
        if not (self.loopback or self.insecure):
            self._scheme = "https"
            return
        try:
            self.session.get(f"https://{self.host}/v2/", timeout=self.timeout, verify=self.verify)
            self._scheme = "https"
        except requests.exceptions.Timeout:
            # Silence is no answer to TLS or to HTTP: trying plain HTTP would wait the timeout again.
            raise self._timed_out() from None
        except requests.exceptions.SSLError as exc:
            # A TLS registry whose certificate does not verify stays https (and its error is shown); a
            # plain-HTTP one fails the handshake itself.
            verify_failed = "CERTIFICATE_VERIFY_FAILED" in str(exc) and not self.insecure
            self._scheme = "https" if verify_failed else "http"
        except requests.exceptions.RequestException:
            self._scheme = "http"

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str = "",
        headers: dict[str, str] | None = None,
        what: str = "",
        stream: bool = False,
        data: bytes | None = None,
    ) -> requests.Response:
        """One request with the auth dance: on 401, answer the challenge (Basic or Bearer) once and retry.
        `stream`: the body is read as it is used (a layer blob), not at once; `data`: the body to send."""
        self._decide_scheme()
        url = path if "://" in path else urljoin(self.base_url, path)
        headers = dict(headers or {})
        retry = method in ("GET", "HEAD")  # once (see RETRY_STATUS); a DELETE or PUT is never sent twice
        try:
            response = self._send(method, url, headers, scope, stream, data)
        except Broken:
            if not retry:
                raise
            time.sleep(RETRY_PAUSE)
            retry = False
            response = self._send(method, url, headers, scope, stream, data)
        if retry and response.status_code in RETRY_STATUS:
            response.close()
            time.sleep(RETRY_PAUSE)
            response = self._send(method, url, headers, scope, stream, data)
        if response.status_code == 401:
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if self._answer(challenge, scope):
                response = self._send(method, url, headers, scope, stream, data)
            if response.status_code == 401:
                self._refuse(challenge)
        if response.status_code >= 400:
            raise self._error(response, what or f"{method} {urlsplit(url).path}")
        return response

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except RecursionError:  # JSON nested thousands deep: no registry answers that
            raise RegistryError(f"{what}: {self.host} answered with JSON nested too deep to read") from None
        except ValueError:
            kind = response.headers.get("Content-Type", "?").split(";")[0] or "?"
            if "json" in kind:
                raise RegistryError(
                    f"{what}: {self.host} answered with a body that is not JSON although it says {kind}",
                    response.status_code,
                ) from None
            raise RegistryError(
                f"{what}: {self.host} answered with {kind}, not JSON (is this a registry? the address "
                "should point at the registry itself, not a web page in front of it)",
                response.status_code,
            ) from None

    def _names(self, response: requests.Response, what: str, field: str) -> Page:
        """A page of names: `{"FIELD": ["name", …]}` (null or absent: none), and the next page's URL."""
        body = self._json(response, what)
        names = body.get(field, []) if isinstance(body, dict) else ()
        if names is None:
            names = []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise RegistryError(
                f"{what}: {self.host} answered without a list of {field} (not a registry answer)"
            )
        next_url = self._next(response)
        if next_url is not None and _same_page(next_url, response.url):
            raise RegistryError(
                f"{what}: {self.host} gave the same page as the next one (its Link header loops)"
            )
        return Page(tuple(names), next_url)

    # -- auth -------------------------------------------------------------------------------------------
    def _auth_header(self, scope: str) -> str:
        with self._lock:
            token = self._tokens.get(scope)
        if token:
            return f"Bearer {token}"
        if self._basic and self.credentials is not None:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return ""

    def _answer(self, challenge: Challenge | None, scope: str) -> bool:
        """Get what the challenge asks for; False when there is nothing new to try."""
        if challenge is None:
            return False
        if challenge.scheme == "basic":
            if self.credentials is None or self._basic:
                return False
            self._basic = True
            return True
        if challenge.scheme == "bearer":
            token = self._fetch_token(challenge, challenge.params.get("scope") or scope)
            with self._lock:
                self._tokens[scope] = token
            return True
        return False

    def _fetch_token(self, challenge: Challenge, scope: str) -> str:
        realm = challenge.realm
        if not realm:
            raise RegistryError(f"{self.host} asked for a bearer token but named no token service (realm)")
        if urlsplit(realm).scheme == "http" and not (is_loopback(urlsplit(realm).netloc) or self.insecure):
            raise RegistryError(f"the token service {realm} is plain HTTP on a non-loopback address")
        params = {"service": challenge.params.get("service", "")}
        if scope:
            params["scope"] = scope
        auth = (self.credentials.username, self.credentials.password) if self.credentials else None
        try:
            verify = not self.insecure  # the token service is another host: the CA of certs.d is not its
            answer = self.session.get(realm, params=params, auth=auth, timeout=self.timeout, verify=verify)
        except requests.exceptions.RequestException as exc:
            raise RegistryError(f"cannot reach the token service {realm}: {_reason(exc)}") from None
        if answer.status_code in (401, 403):
            raise AuthRequired(
                f"the token service {realm} refused "
                + (f"the login of {self.credentials.username}" if self.credentials else "anonymous access")
                + " (log in with A, or give a user and password)",
                realm=realm,
                refused=self.credentials is not None,
            )
        if answer.status_code >= 400:
            status = answer.status_code
            raise RegistryError(f"the token service {realm} answered {status}", status)
        body = self._json(answer, "token")
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise RegistryError(f"the token service {realm} gave no token")
        return str(token)

    def _refuse(self, challenge: Challenge | None) -> None:
        realm = challenge.realm if challenge else ""
        named = f" (realm {realm!r})" if realm else ""
        if self.credentials is None:
            raise AuthRequired(f"{self.host} needs a login{named}", realm=realm)
        raise AuthRequired(
            f"{self.host} refused the credentials of {self.credentials.username}{named}"
            + (" from the docker config" if self.credentials.source == "docker config" else ""),
            realm=realm,
            refused=True,
        )

    # -- errors -----------------------------------------------------------------------------------------
    def _error(self, response: requests.Response, what: str) -> RegistryError:
        status = response.status_code
        code, message = "", ""
        try:
            body = response.json()
            first = (body.get("errors") or [{}])[0] if isinstance(body, dict) else {}
            code, message = str(first.get("code", "")), str(first.get("message", ""))
        except (ValueError, AttributeError, IndexError, TypeError):
            pass
        said = f": {message}" if message else ""
        if status == 404:
            return NotFound(f"{what}: {message or 'not found'} ({code or 404})", status, code)
        if status == 405 and response.request.method == "DELETE":
            return DeleteDisabled(
                f"{self.host} does not allow deleting (405{said}). Deletion must be enabled in the "
                "registry's config: storage.delete.enabled: true (or REGISTRY_STORAGE_DELETE_ENABLED=true), "
                "then restart it",
                status,
                code,
            )
        if status == 403:
            return RegistryError(f"{what}: forbidden (403{said}); the account lacks this right", status, code)
        if status == 429:
            wait = response.headers.get("Retry-After")
            later = f"; it asks to wait {wait} s" if wait else ""
            return RegistryError(f"{what}: {self.host} is rate-limiting (429{said}){later}", status, code)
        if status >= 500:
            return RegistryError(f"{what}: {self.host} had an internal error ({status}{said})", status, code)
        return RegistryError(f"{what}: {self.host} answered {status}{said}", status, code)

    # -- the API ------------------------------------------------------------------------------------------
    def ping(self) -> None:
        """GET /v2/: is it a registry, and may we in?"""
        response = self.request("GET", "/v2/", what="opening the registry")
        if "Docker-Distribution-Api-Version" not in response.headers and response.headers.get(
            "Content-Type", ""
        ).startswith("text/html"):
            raise RegistryError(f"{self.host} answered /v2/ with a web page: it is not a registry")

    def catalog(self, next_url: str | None = None) -> Page:
        """One page of repository names (`GET /v2/_catalog?n=…`), with the next page's URL."""
        path = next_url or f"/v2/_catalog?n={self.page_size}"
        response = self.request("GET", path, scope="registry:catalog:*", what="listing repositories")
        return self._names(response, "listing repositories", "repositories")

    def tags(self, repository: str, next_url: str | None = None) -> Page:
        """One page of a repository's tags (`GET /v2/NAME/tags/list?n=…`)."""
        path = next_url or f"/v2/{repository}/tags/list?n={self.page_size}"
        what = f"listing tags of {repository}"
        response = self.request("GET", path, scope=f"repository:{repository}:pull", what=what)
        return self._names(response, what, "tags")  # null once every tag is deleted

    def all_tags(self, repository: str) -> list[str]:
        page, out = self.tags(repository), list[str]()
        out.extend(page.names)
        while page.next_url:
            page = self.tags(repository, page.next_url)
            out.extend(page.names)
        return out

    def _next(self, response: requests.Response) -> str | None:
        link = response.links.get("next")
        return urljoin(response.url, link["url"]) if link and link.get("url") else None

    def digest_of(self, repository: str, tag: str) -> str:
        """HEAD the manifest: its Docker-Content-Digest (what a delete needs)."""
        return self.head(repository, tag)[0]

    def head(self, repository: str, tag: str) -> tuple[str, str]:
        """HEAD the manifest: (digest, media type)."""
        response = self.request(
            "HEAD",
            f"/v2/{repository}/manifests/{tag}",
            scope=f"repository:{repository}:pull",
            headers={"Accept": ACCEPT},
            what=f"{repository}:{tag}",
        )
        digest = response.headers.get("Docker-Content-Digest", "")
        media = response.headers.get("Content-Type", "").split(";")[0]
        if not digest:  # older registries omit it on HEAD: ask for the body
            manifest = self.manifest(repository, tag)
            return manifest.digest, manifest.media_type
        return digest, media

    def cached_manifest(self, digest: str) -> Manifest | None:
        return self._manifests.get(digest)

    def manifest(self, repository: str, reference: str) -> Manifest:
        """By tag or digest; a digest is answered from the cache when it can be."""
        if reference.startswith("sha256:") and reference in self._manifests:
            return self._manifests[reference]
        what = f"{repository}{'@' if reference.startswith('sha256:') else ':'}{reference}"
        response = self.request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            scope=f"repository:{repository}:pull",
            headers={"Accept": ACCEPT},
            what=what,
        )
        raw = response.content
        computed = "sha256:" + hashlib.sha256(raw).hexdigest()
        digest = response.headers.get("Docker-Content-Digest") or computed
        body = self._json(response, what)
        if not isinstance(body, dict):
            raise RegistryError(f"{what}: the manifest is not a JSON object")
        media = body.get("mediaType") or response.headers.get("Content-Type", "").split(";")[0]
        if media not in MANIFEST_TYPES and "manifests" in body:
            media = MANIFEST_TYPES[3]  # an OCI index may leave mediaType out
        expected = reference if reference.startswith("sha256:") else digest
        signed = media in MANIFEST_TYPES[4:]  # a schema 1 manifest's digest leaves its signatures out
        if expected.startswith("sha256:") and expected != computed and not signed:
            raise RegistryError(
                f"{what}: the manifest {self.host} sent does not match its digest {expected[:19]}"
            )
        try:
            manifest = parse_manifest(digest, media, len(raw), body)
        except (AttributeError, KeyError, TypeError, ValueError, RegistryError) as bad:
            # parse_manifest says where (`the manifest sha256:…: its config is not an object`)
            where = str(bad).split(": ", 1)[1] if isinstance(bad, RegistryError) and ": " in str(bad) else ""
            raise RegistryError(
                f"{what}: {self.host} sent a {media or 'JSON'} that is not a manifest"
                + (f" ({where})" if where else "")
            ) from None
        self._manifests[digest] = manifest
        return manifest

    def config(self, repository: str, manifest: Manifest) -> ImageConfig:
        """The image config blob of an image manifest: created, platform, history with layer sizes."""
        if manifest.schema1_history:
            return schema1_config(manifest)
        digest = manifest.config_digest
        if digest in self._configs:
            return self._configs[digest]
        body = self.config_body(repository, manifest)
        config = ImageConfig(
            digest,
            parse_time(body.get("created")),
            platform_text(body),
            parse_history(body.get("history") or (), manifest.layers),
        )
        self._configs[digest] = config
        return config

    def config_body(self, repository: str, manifest: Manifest) -> dict[str, Any]:
        """The image config blob as the registry holds it (rootfs diff IDs, full history)."""
        digest = manifest.config_digest
        if digest in self._config_bodies:
            return self._config_bodies[digest]
        what = f"config {digest[7:19]} of {repository}"
        response = self.request(
            "GET", f"/v2/{repository}/blobs/{digest}", scope=f"repository:{repository}:pull", what=what
        )
        if digest.startswith("sha256:") and hashlib.sha256(response.content).hexdigest() != digest[7:]:
            raise RegistryError(f"{what}: the blob does not match its digest")
        body = self._json(response, what)
        if not isinstance(body, dict):
            raise RegistryError(f"{what}: not a JSON object")
        self._config_bodies[digest] = body
        return body

    def blob(self, repository: str, digest: str) -> IO[bytes]:
        """A blob (a layer) as a stream to read from, never held whole."""
        response = self.request(
            "GET", f"/v2/{repository}/blobs/{digest}", scope=f"repository:{repository}:pull",
            what=f"layer {digest[7:19]} of {repository}", stream=True,
        )  # fmt: skip
        response.raw.decode_content = True  # a Content-Encoding of the transfer, not the layer's own gzip
        return BlobStream(response, self, f"layer {digest[7:19]} of {repository}")  # type: ignore[return-value]

    def manifest_bytes(self, repository: str, digest: str) -> tuple[bytes, str]:
        """A manifest exactly as the registry holds it, (bytes, media type): what putting it back needs."""
        what = f"{repository}@{digest[:19]}"
        response = self.request(
            "GET",
            f"/v2/{repository}/manifests/{digest}",
            scope=f"repository:{repository}:pull",
            headers={"Accept": ACCEPT},
            what=what,
        )
        raw = response.content
        if "sha256:" + hashlib.sha256(raw).hexdigest() != digest:
            raise RegistryError(f"{what}: the manifest {self.host} sent does not match its digest")
        media = response.headers.get("Content-Type", "").split(";")[0]
        if media not in MANIFEST_TYPES:  # a registry that says application/json: the manifest names its own
            body = self._json(response, what)
            media = body.get("mediaType", media) if isinstance(body, dict) else media
        return raw, media

    def put_manifest(self, repository: str, tag: str, raw: bytes, media_type: str) -> str:
        """PUT a manifest under a tag (201); returns its digest, as the registry computed it."""
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{tag}",
            scope=f"repository:{repository}:pull,push",
            headers={"Content-Type": media_type},
            what=f"putting a manifest as {repository}:{tag}",
            data=raw,
        )
        return response.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(raw).hexdigest()

    def has_blob(self, repository: str, digest: str) -> bool:
        try:
            self.request(
                "HEAD", f"/v2/{repository}/blobs/{digest}", scope=f"repository:{repository}:pull",
                what=f"blob {digest[7:19]} of {repository}",
            )  # fmt: skip
        except NotFound:
            return False
        return True

    def upload_blob(self, repository: str, data: bytes) -> str:
        """A small blob in two requests (POST for an upload URL, then PUT it whole with its digest)."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        scope, what = f"repository:{repository}:pull,push", f"uploading blob {digest[7:19]} to {repository}"
        started = self.request("POST", f"/v2/{repository}/blobs/uploads/", scope=scope, what=what)
        location = started.headers.get("Location", "")
        if not location:
            raise RegistryError(f"{what}: {self.host} gave no upload location")
        location = urljoin(self.base_url, location)
        url = f"{location}{'&' if '?' in location else '?'}digest={digest}"
        headers = {"Content-Type": "application/octet-stream"}
        self.request("PUT", url, scope=scope, headers=headers, what=what, data=data)
        return digest

    def delete(self, repository: str, digest: str) -> None:
        """DELETE the manifest by digest: every tag pointing at it goes with it. 202 on success."""
        self.request(
            "DELETE",
            f"/v2/{repository}/manifests/{digest}",
            scope=f"repository:{repository}:delete",
            what=f"deleting {repository}@{digest[:19]}",
        )
        self._manifests.pop(digest, None)


class BlobStream:
    """A blob's body as a file to read: a stall, a reset or an early end become a RegistryError sentence
    (with how far it got), not urllib3's exceptions, which layer readers would take for a bad tar."""

    def __init__(self, response: requests.Response, registry: Registry, what: str) -> None:
        self._response = response
        self._raw = response.raw
        self._registry = registry
        self._what = what
        self.done = 0
        length = response.headers.get("Content-Length", "")
        self.length = int(length) if length.isdigit() else None

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self._raw.read(None if size is None or size < 0 else size)
        except (urllib3.exceptions.ReadTimeoutError, socket.timeout):
            raise RegistryError(
                f"{self._what}: {self._registry.host} stopped sending after {self._far()} and did not go on "
                f"within {self._registry.timeout:g} s"
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise RegistryError(
                f"{self._what}: the connection to {self._registry.host} broke after {self._far()} "
                f"({_broke(exc)}); nothing of it was kept, try again"
            ) from None
        self.done += len(data)
        return data

    def _far(self) -> str:
        of = f" of {self.length:,}" if self.length is not None else ""
        try:
            done = max(self.done, int(self._raw.tell()))  # what came in, read whole or not
        except (AttributeError, OSError, ValueError):
            done = self.done
        return f"{done:,}{of} bytes"

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> BlobStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and every exception in its arguments, causes and contexts (requests wraps urllib3's
    exceptions in its own, urllib3 wraps the socket's)."""
    seen: dict[int, BaseException] = {}
    todo: list[object] = [exc]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen[id(item)] = item
        todo.extend([*item.args, item.__cause__, item.__context__, getattr(item, "reason", None)])
    return list(seen.values())


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(item, kind) for item in _chain(exc))


def _broke(exc: BaseException) -> str:
    """Why a connection broke, in words: the socket's own ("Connection reset by peer"), or an early end."""
    for item in _chain(exc):
        if isinstance(item, OSError) and item.strerror:
            return item.strerror.lower()
    for item in _chain(exc):
        if isinstance(item, (urllib3.exceptions.IncompleteRead, http.client.IncompleteRead)):
            return "it closed the connection before the end of the answer"
    return _reason(exc) if isinstance(exc, Exception) else type(exc).__name__


def _same_page(next_url: str, url: str) -> bool:
    return urlsplit(next_url)[2:4] == urlsplit(url)[2:4]


def _reason(exc: Exception) -> str:
    """The innermost useful words of a requests/urllib3 exception (no URLs with queries, no credentials)."""
    text = str(exc)
    for marker in ("Caused by ", "] "):
        if marker in text:
            text = text.rsplit(marker, 1)[1]
    return text.strip("()'\" ")[:200] or type(exc).__name__
