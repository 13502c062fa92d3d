"""Images with a chosen created time and a known size, made with `docker load` of an archive written here
(the legacy `docker save` layout: manifest.json, the config, one layer.tar): `docker import` and `commit`
stamp the time of the call, and a cleanup plan must be tested on images days and months old."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from datetime import datetime, timedelta, timezone

import docker


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def image_archive(names: list[str], created: datetime, content: int, arch: str = "amd64") -> bytes:
    """An archive of one image: one layer holding `/data`, `content` random bytes (random: its compressed
    copy on the containerd store is as big), created at `created`, with these RepoTags (none: dangling)."""
    layer = _tar([("data", os.urandom(content))])
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    stamp = created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    config = json.dumps({
        "architecture": arch, "os": "linux", "created": stamp,
        "config": {"Cmd": ["/data"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": stamp, "created_by": f"made for a cleanup test ({content} bytes)"}],
    }).encode()  # fmt: skip
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": names or None, "Layers": ["l/layer.tar"]}])
    return _tar([("l/layer.tar", layer), (config_name, config), ("manifest.json", manifest.encode())])


def make_image(
    api: docker.APIClient, names: list[str], days_old: float, content: int, now: datetime | None = None
) -> str:
    """Load such an image; returns its ID."""
    when = (now or datetime.now(timezone.utc)) - timedelta(days=days_old)
    archive = image_archive(names, when, content)
    config_id = "sha256:" + hashlib.sha256(
        tarfile.open(fileobj=io.BytesIO(archive)).extractfile(  # type: ignore[union-attr]
            json.loads(tarfile.open(fileobj=io.BytesIO(archive)).extractfile("manifest.json").read())[0]["Config"]  # type: ignore[union-attr]
        ).read()
    ).hexdigest()
    for _ in api.load_image(archive):
        pass
    return config_id
