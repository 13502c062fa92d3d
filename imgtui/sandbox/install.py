"""What the sandbox needs from Debian's packages, installed with apt-get when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

APT_PACKAGES = {
    "dockerd": "docker.io",
    "docker-registry": "docker-registry",
    "busybox": "busybox-static",
}
CGROUPS = Path("/sys/fs/cgroup")
SYSTEM_BIN = ("/usr/bin", "/usr/sbin")
BUSYBOX = Path("/bin/busybox")


class SandboxError(Exception):
    """The sandbox could not be installed, started or seeded; the message says why."""


TEST_PACKAGES = {"podman": "podman", "sshd": "openssh-server", "ssh": "openssh-client"}
"""What only the tests need besides: Podman, for its Docker-compatible API (sandbox/podman.py); OpenSSH's
server and client, for engines reached over ssh:// (sandbox/sshd.py)."""


def ensure_installed(log: bool = True, tests: bool = False) -> None:
    """apt-get install what is missing (with `tests`, what the tests need too), without letting the
    packages start a system engine or service."""
    missing = []
    for binary, package in {**APT_PACKAGES, **(TEST_PACKAGES if tests else {})}.items():
        if binary == "busybox":
            if not BUSYBOX.exists():
                missing.append(package)
        elif shutil.which(binary) is None and not any(Path(d, binary).exists() for d in SYSTEM_BIN):
            missing.append(package)
    if not cgroups_mounted() and shutil.which("cgroupfs-mount") is None:
        # Only a machine booted without an init that mounts cgroups needs Debian's script (gone in Debian 13,
        # whose machines run systemd).
        missing.append("cgroupfs-mount")
    if missing:
        apt_install(missing, log)
    if shutil.which("docker") is None and has_candidate("docker-cli"):
        apt_install(["docker-cli"], log)  # Debian 13 ships the CLI apart from docker.io (the tests use it)


def has_candidate(package: str) -> bool:
    """apt knows the package on this release (`apt-cache policy` names a candidate)."""
    if shutil.which("apt-cache") is None:
        return False
    found = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True).stdout
    return "Candidate:" in found and "Candidate: (none)" not in found


def apt_install(packages: list[str], log: bool = True) -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            f"missing {', '.join(packages)}: run as root, or apt-get install {' '.join(packages)}"
        )
    if log:
        print(f"imgtui sandbox: installing {' '.join(packages)} with apt-get ...", flush=True)
    policy = Path("/usr/sbin/policy-rc.d")
    added_policy = not policy.exists()
    if added_policy:
        # Keep the packages' maintainer scripts from starting a system dockerd on /var/run/docker.sock.
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        for attempt in (1, 2):
            update = subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, text=True)
            result = subprocess.run(
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode == 0:
                return
            if attempt == 2:
                raise SandboxError(
                    f"apt-get install {' '.join(packages)} failed:\n"
                    f"{update.stderr[-1000:]}{result.stderr[-2000:]}"
                )
            time.sleep(3)
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)


def cgroups_mounted() -> bool:
    if (CGROUPS / "cgroup.controllers").exists():
        return True
    return (CGROUPS / "memory").is_dir() and any((CGROUPS / "memory").iterdir())


def ensure_cgroups() -> None:
    """Containers need mounted cgroups. Machines booted without an init that mounts them (no systemd) get
    them from Debian's cgroupfs-mount script, which the package's blocked service start would have run."""
    if cgroups_mounted():
        return
    script = shutil.which("cgroupfs-mount") or "/usr/bin/cgroupfs-mount"
    if Path(script).exists():
        subprocess.run([script], capture_output=True, check=False)
