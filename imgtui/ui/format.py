"""How numbers and times read on screen (humanize does the work)."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

import humanize


@lru_cache(maxsize=65536)
def size(n: int) -> str:
    """Decimal units with three significant digits, as `docker images` shows them: 1.98 MB, 12 B."""
    if n < 0:
        return "?"
    return humanize.naturalsize(n, format="%.3g").replace(" Bytes", " B").replace(" Byte", " B")


def ago(when: datetime, now: datetime | None = None) -> str:
    """`9 months ago`; the epoch (unknown) reads as `-`."""
    if when.timestamp() <= 0:
        return "-"
    return humanize.naturaltime(when, when=now or datetime.now(timezone.utc))


def cut(text: str, width: int) -> str:
    """One line of at most `width` characters, with an ellipsis when something was cut."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def cut_middle(text: str, width: int) -> str:
    """Like `cut`, but the ellipsis goes in the middle: `127.0…/base/os` keeps the registry and the name."""
    line = " ".join(text.split())
    if len(line) <= width:
        return line
    keep = max(width - 1, 0)
    head = keep // 3
    return line[:head] + "…" + (line[len(line) - (keep - head) :] if keep - head else "")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 image`, `2 images`, `0 images`."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
