"""Fresh Debian roots as images on a sandbox engine: what a new machine looks like, made with debootstrap.

`debootstrap --variant=minbase` of bullseye (Python 3.9), bookworm (3.11) or trixie (3.13), with a few named
packages, is packed once into a tar under the cache folder and `docker import`ed into an engine. The fresh
machine checks (scripts/fresh-machines) run the README's commands in such roots, and the Docker 26 engine of
the sandbox (imgtui.sandbox.engines) is trixie's docker.io in one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

MIRROR = os.environ.get("IMGTUI_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE = Path(os.environ.get("IMGTUI_ROOTS", "/var/tmp/imgtui-roots"))
SUITES = {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}


class RootError(Exception):
    """A root could not be made; the message says why."""


def root_tar(suite: str, packages: tuple[str, ...] = (), cache: Path = CACHE, log: bool = True) -> Path:
    """A tar of a minbase root of `suite` with `packages`, made once and kept under `cache`."""
    if suite not in SUITES:
        raise RootError(f"unknown suite {suite!r}: one of {', '.join(SUITES)}")
    key = hashlib.sha256(f"{suite} {MIRROR} {' '.join(sorted(packages))}".encode()).hexdigest()[:12]
    target = cache / f"{suite}-{key}.tar"
    if target.exists():
        return target
    if shutil.which("debootstrap") is None:
        _apt_install("debootstrap")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"root-{suite}-", dir=cache) as tmp:
        root = Path(tmp) / "root"
        args = ["debootstrap", "--variant=minbase"]
        if packages:
            args.append("--include=" + ",".join(packages))
        args += [suite, str(root), MIRROR]
        if log:
            print(f"imgtui sandbox: debootstrap {suite} with {', '.join(packages) or 'nothing more'} ...",
                  flush=True)  # fmt: skip
        result = subprocess.run(args, capture_output=True, text=True)
        if result.returncode != 0:
            tail = (
                (Path(root) / "debootstrap" / "debootstrap.log").read_text(errors="replace")[-1500:]
                if (root / "debootstrap" / "debootstrap.log").exists()
                else result.stderr[-1500:]
            )
            raise RootError(f"debootstrap {suite} failed:\n{tail}")
        # What a fresh machine has and a chroot does not: name resolution and apt's sources.
        (root / "etc" / "resolv.conf").write_text(Path("/etc/resolv.conf").read_text())
        partial = target.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."], check=True)
        partial.rename(target)
    return target


def _apt_install(*packages: str) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise RootError(f"apt-get install {' '.join(packages)} failed:\n{result.stderr[-1500:]}")


def import_root(docker_host: str, tar: Path, name: str) -> str:
    """`docker import` the root as `name` on the engine at `docker_host` (once: kept if already there)."""
    import docker

    api = docker.APIClient(base_url=docker_host, version="auto", timeout=600)
    try:
        if api.images(name=name, quiet=True):
            return name
        repository, _, tag = name.partition(":")
        api.import_image_from_file(str(tar), repository=repository, tag=tag or "latest")
    finally:
        api.close()
    return name
