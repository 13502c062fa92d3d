"""Real registries for the tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1, each with its own
config and storage, and the helpers that fill them (pushes from the sandbox engine; manifests of the kinds the
engine cannot push, written with the registry API as the distribution spec describes)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import docker

DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningRegistry:
    address: str
    folder: Path
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def run_registry(folder: Path, *, delete: bool = True, auth: str = "", tls: tuple[Path, Path] | None = None):  # type: ignore[no-untyped-def]
    """Start docker-registry with a config of its own; `auth` is the YAML under `auth:` (indented 2)."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config = (
        "version: 0.1\nlog:\n  level: warn\nstorage:\n"
        f"  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        f"  delete:\n    enabled: {str(delete).lower()}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    if tls:
        config += f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n"
    if auth:
        config += f"auth:\n{auth}"
    (folder / "config.yml").write_text(config)
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    log = (folder / "registry.log").open("ab")
    proc = subprocess.Popen([binary, "serve", str(folder / "config.yml")], stdout=log, stderr=log)
    scheme = "https" if tls else "http"
    context = ssl._create_unverified_context() if tls else None
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/v2/", timeout=1, context=context)
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(
                f"docker-registry did not start: {(folder / 'registry.log').read_text()[-800:]}"
            )
        time.sleep(0.1)
    return RunningRegistry(f"127.0.0.1:{port}", folder, proc)


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (RSA, so it can sign registry tokens too)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imgtui test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def push(
    api: docker.APIClient,
    image: str,
    target: str,
    auth_config: dict[str, str] | None = None,
    docker_v2: bool = True,
) -> None:
    """Tag `image` as `target` (REGISTRY/REPO:TAG) and push it through the sandbox engine. The classic image
    store pushes a Docker v2 manifest, the containerd store an OCI index over an OCI manifest; with
    `docker_v2` the tag is then rewritten as the Docker v2 manifest of the same blobs, so that the registry
    holds the same kinds whichever store the engine uses."""
    repository, tag = target.rsplit(":", 1)
    api.tag(image, repository, tag)
    for line in api.push(repository, tag, stream=True, decode=True, auth_config=auth_config):
        if "error" in line:
            raise RuntimeError(f"push {target}: {line['error']}")
    if docker_v2 and auth_config is None:
        registry, _, path = repository.partition("/")
        Raw(registry).to_docker_v2(path, tag)


class Raw:
    """The registry API spoken directly (test set-up only): manifests the engine cannot push."""

    def __init__(self, address: str, user: str = "", password: str = "") -> None:
        self.base = f"http://{address}"
        self.headers = {}
        if user:
            self.headers["Authorization"] = (
                "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            )

    def fetch(self, repository: str, ref: str) -> tuple[str, bytes, str]:
        """Whatever manifest the tag or digest names: (digest, body, media type)."""
        accept = ", ".join((DOCKER_V2, OCI_MANIFEST, DOCKER_LIST, OCI_INDEX))
        request = urllib.request.Request(
            f"{self.base}/v2/{repository}/manifests/{ref}", headers={**self.headers, "Accept": accept}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            kind = response.headers.get("Content-Type", "").split(";")[0]
            return response.headers["Docker-Content-Digest"], response.read(), kind

    def to_docker_v2(self, repository: str, tag: str) -> None:
        """Rewrite `tag` as a Docker v2 schema 2 manifest of the image it names (the first image manifest of
        an index), with the media types the distribution spec gives Docker's gzip layers and config."""
        _, raw, kind = self.fetch(repository, tag)
        if kind in (DOCKER_LIST, OCI_INDEX):
            entries = json.loads(raw)["manifests"]
            image = next(
                e for e in entries
                if e.get("mediaType") in (DOCKER_V2, OCI_MANIFEST)
                and not (e.get("annotations") or {}).get("vnd.docker.reference.type")
            )  # fmt: skip
            _, raw, kind = self.fetch(repository, image["digest"])
        if kind == DOCKER_V2:
            if json.loads(raw).get("mediaType") == DOCKER_V2:
                body = json.loads(raw)
                self.put_manifest(repository, tag, DOCKER_V2, body)
            return
        manifest = json.loads(raw)
        body = {
            "schemaVersion": 2,
            "mediaType": DOCKER_V2,
            "config": {**manifest["config"], "mediaType": "application/vnd.docker.container.image.v1+json"},
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": layer["size"],
                    "digest": layer["digest"],
                }
                for layer in manifest["layers"]
            ],  # fmt: skip
        }
        self.put_manifest(repository, tag, DOCKER_V2, body)

    def get_manifest(self, repository: str, ref: str) -> tuple[str, bytes]:
        request = urllib.request.Request(
            f"{self.base}/v2/{repository}/manifests/{ref}", headers={**self.headers, "Accept": DOCKER_V2}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["Docker-Content-Digest"], response.read()

    def put_manifest(self, repository: str, ref: str, media_type: str, body: dict[str, object]) -> str:
        raw = json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base}/v2/{repository}/manifests/{ref}",
            data=raw,
            method="PUT",
            headers={**self.headers, "Content-Type": media_type},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201, response.status
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def copy(self, repository: str, ref: str, target: str, tag: str) -> None:
        """The same image under another repository: blobs mounted across (POST ?mount=&from=), then the
        manifest (so filling a registry with many repositories needs no engine round trips)."""
        _, raw = self.get_manifest(repository, ref)
        manifest = json.loads(raw)
        for blob in [manifest["config"], *manifest["layers"]]:
            request = urllib.request.Request(
                f"{self.base}/v2/{target}/blobs/uploads/?mount={blob['digest']}&from={repository}",
                method="POST",
                headers=self.headers,
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 201, f"blob not mounted: {response.status}"
        self.put_manifest(target, tag, DOCKER_V2, manifest)

    def oci_copy(self, repository: str, ref: str, new_tag: str) -> tuple[str, int]:
        """The same image as an OCI image manifest under `new_tag`: returns (digest, size)."""
        _, raw = self.get_manifest(repository, ref)
        docker_manifest = json.loads(raw)
        body = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {**docker_manifest["config"], "mediaType": "application/vnd.oci.image.config.v1+json"},
            "layers": [
                {**layer, "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"}
                for layer in docker_manifest["layers"]
            ],
        }
        digest = self.put_manifest(repository, new_tag, OCI_MANIFEST, body)
        return digest, len(json.dumps(body).encode())

    def index(
        self, repository: str, tag: str, media_type: str, entries: list[tuple[str, str, int, str]]
    ) -> str:
        """A manifest list / OCI index of (digest, media type, size, "os/arch") entries."""
        manifests = []
        for digest, entry_type, size, platform in entries:
            os_name, arch = platform.split("/")
            manifests.append(
                {"mediaType": entry_type, "digest": digest, "size": size,
                 "platform": {"os": os_name, "architecture": arch}}
            )  # fmt: skip
        body = {"schemaVersion": 2, "mediaType": media_type, "manifests": manifests}
        return self.put_manifest(repository, tag, media_type, body)
