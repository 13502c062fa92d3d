"""A real BuildKit build on the sandbox engine, with no network: build cache records need BuildKit.

What works here (checked on the sandbox's dockerd 20.10 and the docker CLI 28 of this machine): the CLI's
`DOCKER_BUILDKIT=1 docker build` needs the buildx plugin, which is not installed ("BuildKit is enabled but
the buildx component is missing"); the classic builder (`DOCKER_BUILDKIT=0`) makes no build cache records.
The engine's API does it alone: `POST /build?version=2` with the context as a tar body (dockerd serves the
body to BuildKit as an http context, no session needed), `networkmode=none`, and `FROM busybox:latest`
resolved from the engine's own images (BuildKit in dockerd looks there before any registry).
"""

from __future__ import annotations

import io
import json
import tarfile

import docker

WHY_NOT = (
    "a BuildKit build with the context as the request body works on dockerd 20.10 only: dockerd 26.1 looks "
    "the context's made-up host name (build-context-…) up in DNS, which leaves the machine; the tests do not "
    "speak BuildKit's session protocol"
)


def can_build(api: docker.APIClient) -> bool:
    """Whether `build` may run on this engine without any traffic off the machine (see WHY_NOT)."""
    return str(api.version().get("Version", "")).startswith("20.")


def build(api: docker.APIClient, tag: str, dockerfile: str) -> str:
    """Build `dockerfile` with BuildKit as `tag`; returns the image ID (raises with the engine's words).
    Refuses where `can_build` says no: it must never send a DNS query off the machine."""
    if not can_build(api):
        raise RuntimeError(WHY_NOT)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    params = {"t": tag, "version": "2", "networkmode": "none", "rm": "1"}
    response = api._post(
        api._url("/build"), data=buf.getvalue(), params=params,
        headers={"Content-Type": "application/x-tar"}, stream=True, timeout=300,
    )  # fmt: skip
    api._raise_for_status(response)
    image_id = ""
    for line in response.iter_lines():
        item = json.loads(line)
        if "error" in item:
            raise RuntimeError(f"build of {tag} failed: {item['error']}")
        aux = item.get("aux")
        if item.get("id") == "moby.image.id" and isinstance(aux, dict):
            image_id = aux["ID"]
    if not image_id:
        raise RuntimeError(f"build of {tag} gave no image ID")
    return image_id
