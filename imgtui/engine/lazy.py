"""docker-py, requests and urllib3 imported when first used, not when imgtui starts: together about 0.1 s of
imports that the first screen does not need on a unix socket (imgtui/engine/unixhttp.py lists the images with
the standard library). A module here does

    if TYPE_CHECKING:
        import docker
    else:
        docker = lazy("docker")

and uses `docker.errors.NotFound`, `docker.APIClient` as before: the first attribute read imports the
package (Python's import lock makes that safe from any thread), and the names that the package's own
`__init__` imports (docker.errors, docker.utils, docker.auth, requests.exceptions, urllib3.exceptions) are
there once it has run."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _Lazy:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<{self._name}, imported when first used>"


def lazy(name: str) -> Any:
    """The package `name`, imported on the first attribute read."""
    return _Lazy(name)
