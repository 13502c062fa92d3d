"""The demo content of the seed notes, made on the sandbox engine from busybox-static (nothing is pulled).

- `busybox:latest`: a base image made with `docker import` from a busybox rootfs.
- `commit_test:first` / `commit_test:second`: committed from containers with author and message, so the
  layers pane shows the 12 B and 13 B layers with the messages as comments (seed 001).
- container `commit_test2` (stopped) still uses `commit_test:first`, so `rmi` of it conflicts (seed 000).
- `my-image-name:0.0` and `alicek107/my-image-name:0.0`: one ID, two names (export + import, seed 004).
- `demo/app:latest` committed twice: the first commit is left dangling (`<none>`).
- in the sandbox registry (seed 002): demo/app, team/tools (two tags on one digest), base/os with a manifest
  list; local names in every state the registry view compares (pushed, differs, not pushed).
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
from pathlib import Path

import docker
import requests

from imgtui.engine.models import full_id
from imgtui.sandbox import BUSYBOX

AUTHOR = "alicek106"


def busybox_rootfs() -> bytes:
    """A tar of a minimal root filesystem: busybox-static and a link per applet."""
    applets = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for folder in ("bin", "etc", "root", "tmp", "var"):
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if folder == "tmp" else 0o755
            info.mtime = int(time.time())
            tar.addfile(info)
        tar.add(str(BUSYBOX), arcname="bin/busybox")
        for applet in applets:
            if applet == "busybox":
                continue
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            info.mode = 0o777
            tar.addfile(info)
        passwd = b"root:x:0:0:root:/root:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(passwd))
    return buf.getvalue()


def run_and_commit(
    api: docker.APIClient,
    image: str,
    name: str,
    command: list[str],
    repository: str,
    tag: str,
    message: str | None = None,
    author: str | None = None,
    remove: bool = False,
) -> str:
    """`docker run --network none --name NAME IMAGE CMD`, then `docker commit`; returns the new image ID."""
    container = api.create_container(
        image, command=command, name=name, host_config=api.create_host_config(network_mode="none")
    )
    api.start(container)
    status = api.wait(container, timeout=60)
    if status.get("StatusCode") != 0:
        raise RuntimeError(f"{' '.join(command)} in {image} exited with {status}")
    result = api.commit(container, repository=repository, tag=tag, message=message, author=author)
    if remove:
        api.remove_container(container)
    return full_id(str(result["Id"]))


def seed(docker_host: str, registry: str | None = None, fill: bool = True) -> list[str]:
    """Create the demo content if it is not there yet; returns what was made, one line each. `fill=False`
    leaves the registry empty (the tests push into it themselves and count what the engine uploads)."""
    api = docker.APIClient(base_url=docker_host, version="auto", timeout=120)
    names = {_short(n) for img in api.images() for n in (img.get("RepoTags") or [])}
    made: list[str] = []
    if "busybox:latest" not in names:
        api.import_image_from_data(
            busybox_rootfs(), repository="busybox", tag="latest", changes=['CMD ["/bin/sh"]']
        )
        made.append("busybox:latest (docker import of busybox-static)")
    existing = {c["Names"][0].lstrip("/") for c in api.containers(all=True) if c.get("Names")}
    if "commit_test:first" not in names and "commit_test" not in existing:
        run_and_commit(
            api, "busybox:latest", "commit_test", ["sh", "-c", "echo test_first! >> first"],
            "commit_test", "first", message="my first commit", author=AUTHOR,
        )  # fmt: skip
        made.append("commit_test:first (commit of container commit_test, 12 B layer)")
    if "commit_test:second" not in names and "commit_test2" not in existing:
        run_and_commit(
            api, "commit_test:first", "commit_test2", ["sh", "-c", "echo test_second! >> second"],
            "commit_test", "second", message="my second commit", author=AUTHOR,
        )  # fmt: skip
        made.append("commit_test:second (commit of container commit_test2, which stays and uses :first)")
    if "my-image-name:0.0" not in names:
        exported = b"".join(api.export("commit_test"))
        # The tag goes in the repository: Podman 4.3's import leaves out a separate `tag` (":latest").
        api.import_image_from_data(exported, repository="my-image-name:0.0")
        api.tag("my-image-name:0.0", "alicek107/my-image-name", "0.0")
        made.append("my-image-name:0.0 = alicek107/my-image-name:0.0 (export + import, one ID two names)")
    if "demo/app:latest" not in names:
        for version in ("1", "2"):
            run_and_commit(
                api, "busybox:latest", f"demo-app-build-{version}",
                ["sh", "-c", f"mkdir -p /app && echo 'version {version}' > /app/VERSION"],
                "demo/app", "latest", message=f"build {version}", author="ci", remove=True,
            )  # fmt: skip
        made.append("demo/app:latest, built twice: the first build is now a dangling <none> image")
    if registry and f"{registry}/demo/app:latest" not in names:
        api.tag("demo/app:latest", f"{registry}/demo/app", "latest")
        made.append(f"{registry}/demo/app:latest (named for the sandbox registry)")
    if registry and fill and f"{registry}/team/tools:stable" not in names:
        made += fill_registry(api, registry)
    api.close()
    return made


def _short(name: str) -> str:
    """A name as the docker CLI shows it: Podman lists `docker.io/library/busybox:latest` (and
    `localhost/NAME` for what it loaded)."""
    return name.removeprefix("docker.io/library/").removeprefix("docker.io/")


def _push(api: docker.APIClient, source: str, target: str) -> None:
    repository, tag = target.rsplit(":", 1)
    api.tag(source, repository, tag)
    for line in api.push(repository, tag, stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(f"push {target}: {line['error']}")


def fill_registry(api: docker.APIClient, registry: str) -> list[str]:
    """Content for the registry view (seed 002): a few repositories, two tags on one digest, a manifest
    list, and local names that are pushed, outdated, or never pushed."""
    _push(api, "demo/app:latest", f"{registry}/demo/app:latest")
    _push(api, "commit_test:second", f"{registry}/team/tools:v2")
    _push(api, "commit_test:second", f"{registry}/team/tools:stable")
    _push(api, "busybox:latest", f"{registry}/base/os:latest")
    _push(api, "commit_test:second", f"{registry}/base/os:extended")
    entries = []
    for tag, platform in (("latest", ("linux", "amd64")), ("extended", ("linux", "arm64"))):
        entry = _image_manifest(registry, "base/os", tag)
        entry["platform"] = {"os": platform[0], "architecture": platform[1]}
        entries.append(entry)
    # The classic store pushes Docker v2 manifests; the containerd store OCI ones (under an OCI index).
    oci = entries[0]["mediaType"] == OCI_MANIFEST
    kind = OCI_INDEX if oci else DOCKER_LIST
    body = {"schemaVersion": 2, "mediaType": kind, "manifests": entries}
    url = f"http://{registry}/v2/base/os/manifests/multi"
    requests.put(url, data=json.dumps(body), headers={"Content-Type": kind}, timeout=10).raise_for_status()
    api.tag("commit_test:first", f"{registry}/team/tools", "stable")  # the local name now differs
    api.tag("demo/app:latest", f"{registry}/demo/app", "next")  # never pushed
    return [
        f"pushed to {registry}: demo/app:latest, team/tools:v2 and :stable (one digest), base/os:latest",
        f"{registry}/base/os:multi: a manifest list (its arm64 entry is a relabelled amd64 image, for show)",
        f"local {registry}/team/tools:stable now names another image (differs); demo/app:next is not pushed",
    ]


DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _image_manifest(registry: str, repository: str, tag: str) -> dict[str, object]:
    """The descriptor (mediaType, digest, size) of the image manifest a pushed tag names; when the tag
    names an index (as a push from the containerd image store makes), its first image manifest."""
    accept = ", ".join((DOCKER_V2, OCI_MANIFEST, DOCKER_LIST, OCI_INDEX))
    answer = requests.get(
        f"http://{registry}/v2/{repository}/manifests/{tag}", headers={"Accept": accept}, timeout=10
    )
    answer.raise_for_status()
    kind = answer.headers.get("Content-Type", "").split(";")[0]
    if kind in (DOCKER_LIST, OCI_INDEX):
        for entry in answer.json().get("manifests", []):
            if entry.get("mediaType") in (DOCKER_V2, OCI_MANIFEST) and not entry.get("annotations", {}).get(
                "vnd.docker.reference.type"
            ):
                return {"mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"]}
        raise RuntimeError(f"{repository}:{tag} is an index with no image manifest")
    return {"mediaType": kind, "digest": answer.headers["Docker-Content-Digest"], "size": len(answer.content)}


def write_rootfs(path: Path) -> Path:
    path.write_bytes(busybox_rootfs())
    return path
