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


def image_archive(names: list[str], created: datetime, content: int) -> tuple[bytes, str]:
    """An archive of one image, and its ID: one layer holding `/data`, `content` random bytes (random: its
    compressed copy on the containerd store is as big), created at `created`, with these RepoTags (none:
    dangling)."""
    layer = _tar([("data", os.urandom(content))])
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    stamp = created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": stamp,
        "config": {"Cmd": ["/data"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": stamp, "created_by": f"made for a cleanup test ({content} bytes)"}],
    }).encode()  # fmt: skip
    digest = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{digest}.json", "RepoTags": names or None,
                            "Layers": ["l/layer.tar"]}])  # fmt: skip
    archive = _tar([("l/layer.tar", layer), (f"{digest}.json", config), ("manifest.json", manifest.encode())])
    return archive, f"sha256:{digest}"


def make_image(
    api: docker.APIClient, names: list[str], days_old: float, content: int, now: datetime | None = None
) -> str:
    """Load such an image, made `days_old` days before `now`; returns its ID as the engine gives it (the
    config's digest on the classic store, the manifest's on the containerd store)."""
    archive, config_id = image_archive(names, (now or datetime.now(timezone.utc)) - timedelta(days=days_old),
                                       content)  # fmt: skip
    said = "".join(str(line.get("stream") or "") for line in api.load_image(archive))
    loaded = [line.split(":", 1)[1].strip() for line in said.splitlines() if line.startswith("Loaded image")]
    ref = names[0] if names else (loaded[0] if loaded else config_id)
    return str(api.inspect_image(ref)["Id"])


def layered_archive(names: list[str], layers: list[bytes]) -> bytes:
    """An archive of one image whose layers each hold one file of these bytes (`/l0`, `/l1`, …): images
    given the same bytes for their lower layers share those layers."""
    tars = [_tar([(f"l{n}", data)]) for n, data in enumerate(layers)]
    diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]
    when = "2026-01-01T00:00:00Z"
    history = [{"created": when, "created_by": f"layer {n}"} for n in range(len(tars))]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": when,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }
    ).encode()
    digest = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{digest}.json", "RepoTags": names,
                            "Layers": [f"{n}/layer.tar" for n in range(len(tars))]}])  # fmt: skip
    members = [(f"{n}/layer.tar", t) for n, t in enumerate(tars)]
    return _tar([*members, (f"{digest}.json", config), ("manifest.json", manifest.encode())])
