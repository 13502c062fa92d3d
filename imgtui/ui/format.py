"""How numbers and times read on screen (humanize does the work)."""

from __future__ import annotations

from datetime import UTC, datetime
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
    return humanize.naturaltime(when, when=now or datetime.now(UTC))


def cut(text: str, width: int) -> str:
    """One line of at most `width` characters, with an ellipsis when something was cut."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"
