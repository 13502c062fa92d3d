"""`@record`: a frozen dataclass, with `__slots__` where the running Python can make them (3.10+).

imgtui runs on Python 3.9 (Debian 11, RHEL 9), whose dataclasses have no `slots=`; on newer Pythons the
slots keep ten thousand image records small. Type checkers see an ordinary frozen dataclass.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TypeVar

from typing_extensions import dataclass_transform

T = TypeVar("T")
_OPTIONS: dict[str, Any] = {"frozen": True}
if sys.version_info >= (3, 10):
    _OPTIONS["slots"] = True


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    return dataclass(**_OPTIONS)(cls)
