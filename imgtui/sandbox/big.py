"""A big image for the layer-contents benchmarks: about 1 GB in 200,000 files over 10 layers, written as a
`docker save` archive file (never held in memory) with waste known to the byte: the top layer rewrites
`overwritten` files of the first layer and deletes one directory of the second."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

BLOCK = random.Random(4711).randbytes(1 << 20)
"""File contents are slices of one block of random bytes: what gzip cannot shrink (its window is 32 KiB), as
most of a real image's bytes, so that a registry's blobs are as big as the layers."""


@dataclass(frozen=True)
class BigImage:
    path: Path
    name: str
    files: int
    file_size: int
    wasted: int
    """The exact wasted bytes of the image."""


def _body(size: int, n: int) -> io.BytesIO:
    start = (n * 7919) % (len(BLOCK) - size) if size < len(BLOCK) else 0
    return io.BytesIO((BLOCK * (size // len(BLOCK) + 1))[start : start + size])


def _layer(path: Path, members: list[tuple[str, int]]) -> str:
    """Write a layer tar of (name, size) files (size -1: a whiteout); returns its diff ID."""
    digest = hashlib.sha256()

    class Hashing(io.RawIOBase):
        def __init__(self, out: io.BufferedWriter) -> None:
            self.out = out

        def writable(self) -> bool:
            return True

        def write(self, data: bytes) -> int:  # type: ignore[override]
            digest.update(data)
            return self.out.write(data)

    with (
        path.open("wb") as raw,
        tarfile.open(fileobj=Hashing(raw), mode="w|", format=tarfile.GNU_FORMAT) as tar,
    ):  # type: ignore[arg-type]
        dirs: set[str] = set()
        for n, (name, size) in enumerate(members):
            parent = os.path.dirname(name)
            if parent and parent not in dirs:
                info = tarfile.TarInfo(parent)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                dirs.add(parent)
            info = tarfile.TarInfo(name)
            info.size, info.mode = max(size, 0), 0o644
            tar.addfile(info, _body(info.size, n))
    return "sha256:" + digest.hexdigest()


def write(folder: Path, name: str = "bench/big:1", layers: int = 10, files: int = 200_000,
          total: int = 1 << 30, overwritten: int = 1000) -> BigImage:  # fmt: skip
    """The archive under `folder` (about `total` bytes, plus the layers written beside it first)."""
    folder.mkdir(parents=True, exist_ok=True)
    per_layer = files // layers
    size = total // files
    work = Path(tempfile.mkdtemp(prefix="big-", dir=folder))
    diff_ids = []
    deleted_dir = "data/l1/d0"
    in_deleted = 0
    for n in range(layers):
        members = [(f"data/l{n}/d{k // 1000}/f{k}", size) for k in range(per_layer)]
        if n == 1:
            in_deleted = sum(1 for m, _ in members if m.startswith(deleted_dir + "/"))
        if n == layers - 1:
            members = members[: per_layer - overwritten - 1]
            members += [(f"data/l0/d{k // 1000}/f{k}", size) for k in range(overwritten)]
            members.append(("data/l1/.wh.d0", -1))
        diff_ids.append(_layer(work / f"{n}.tar", members))
    config = {
        "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": f"generated layer {n}"}
                    for n in range(layers)],
    }  # fmt: skip
    config_data = json.dumps(config).encode()
    config_name = hashlib.sha256(config_data).hexdigest() + ".json"
    target = folder / "big.tar"
    with tarfile.open(target, "w") as out:
        names = [f"{d.split(':')[1]}/layer.tar" for d in diff_ids]  # content addresses, as docker's
        for n, member in enumerate(names):
            out.add(str(work / f"{n}.tar"), arcname=member)
            (work / f"{n}.tar").unlink()
        manifest = [{"Config": config_name, "RepoTags": [name], "Layers": names}]
        for extra, data in ((config_name, config_data), ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(extra)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    work.rmdir()
    return BigImage(target, name, per_layer * layers, size, (overwritten + in_deleted) * size)
