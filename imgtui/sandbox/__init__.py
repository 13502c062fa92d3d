"""A private Docker engine and registry for demos, screenshots and tests, on a machine that has none.

- `sandbox.py`: `Sandbox`, one engine + registry under one state folder.
- `engines.py`: the engines it can run (this machine's dockerd; Debian 13's dockerd 26 in a container, with
  the classic or the containerd image store).
- `roots.py`: fresh Debian roots made with debootstrap, as images.
- `install.py`: the Debian packages it needs; `processes.py`: pid files and ports.
- `seed.py`: the demo content; `generate.py`: many images for benchmarks; `proxy.py`: a counting proxy.
"""

from __future__ import annotations

from imgtui.sandbox.engines import ENGINES
from imgtui.sandbox.install import BUSYBOX, SandboxError, ensure_cgroups, ensure_installed
from imgtui.sandbox.sandbox import DEFAULT_STATE, Sandbox, default_state

__all__ = [
    "BUSYBOX",
    "DEFAULT_STATE",
    "ENGINES",
    "Sandbox",
    "SandboxError",
    "default_state",
    "ensure_cgroups",
    "ensure_installed",
]
