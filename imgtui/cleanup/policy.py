"""A cleanup policy: which images a cleanup removes, from flags or a JSON policy file.

A name is kept when any of these holds: it matches a protect pattern; its image is among the newest `keep`
images of its repository (by created time); its image was used within `unused_days` days. Every other
name goes, provided a rule was given (`keep` or `unused_days`): with neither, only dangling images go (the
default policy). Dangling images always go. `until_free` then adds the least recently used images until
that many bytes are freed (docuum's way), honouring the protect patterns and `keep`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import humanize

from imgtui.engine.models import split_name

KEYS = ("keep", "unused_days", "protect", "until_free")
UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
         "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3,
         "tib": 1024**4}  # fmt: skip
"""As `imgtui analyze` reads sizes: MB = 1000², MiB = 1024²."""


class PolicyError(ValueError):
    """A policy that cannot be used, in one sentence."""


@dataclass(frozen=True)
class Policy:
    keep: int | None = None
    """Keep the newest N images of each repository (by created time; tags of one image count once)."""
    unused_days: float | None = None
    """Remove images not used for more than this many days (last use seen by imgtui, else created)."""
    protect: tuple[str, ...] = ()
    """Glob patterns (fnmatch: `*`, `?`, `[...]`) over `repository:tag` or the repository alone."""
    until_free: int | None = None
    """Also remove least recently used images until this many bytes are freed (imgtui's figures)."""

    def __post_init__(self) -> None:
        if self.keep is not None and (isinstance(self.keep, bool) or self.keep < 0):
            raise PolicyError(f"keep must be a whole number of images, 0 or more, not {self.keep!r}")
        if self.unused_days is not None and not (self.unused_days >= 0 and math.isfinite(self.unused_days)):
            raise PolicyError(f"unused_days must be a number of days, 0 or more, not {self.unused_days!r}")
        if self.until_free is not None and self.until_free <= 0:
            raise PolicyError(f"until_free must be a size above 0, not {self.until_free!r}")
        for pattern in self.protect:
            if not pattern.strip():
                raise PolicyError("a protect pattern is empty")

    @property
    def selects_tagged(self) -> bool:
        """Does a rule remove tagged names (else only dangling images go)?"""
        return self.keep is not None or self.unused_days is not None

    def protected_by(self, name: str) -> str | None:
        """The first protect pattern `name` (repository:tag) matches, or None."""
        repository, _ = split_name(name)
        for pattern in self.protect:
            if fnmatchcase(name, pattern) or fnmatchcase(repository, pattern):
                return pattern
        return None

    def describe(self) -> str:
        """The policy in one line: `remove dangling images, and names whose image is …`."""
        text = "remove dangling images"
        rules = []
        if self.keep is not None:
            rules.append(f"is not among the newest {self.keep} of its repository")
        if self.unused_days is not None:
            rules.append(f"was unused for more than {self.unused_days:g} days")
        if rules:
            text += ", and names whose image " + " and ".join(rules)
        if self.protect:
            text += "; never names matching " + " ".join(self.protect)
        if self.until_free is not None:
            text += f"; then the least recently used images until {size(self.until_free)} is freed"
        return text

    def to_json(self) -> dict[str, Any]:
        return {"keep": self.keep, "unused_days": self.unused_days, "protect": list(self.protect),
                "until_free": self.until_free}  # fmt: skip


def size(n: int) -> str:
    """Decimal units, three significant digits, as imgtui shows sizes everywhere: 33 kB, 1.5 GB."""
    return humanize.naturalsize(n, format="%.3g").replace(" Bytes", " B").replace(" Byte", " B")


def parse_size(value: str, what: str = "size") -> int:
    """`10GB`, `1.5GiB`, `500000` -> bytes."""
    found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", value)
    if not found or found.group(2).lower() not in UNITS:
        raise PolicyError(f"{what}: {value!r} is not a size (like 10GB or 1.5GiB)")
    return int(float(found.group(1)) * UNITS[found.group(2).lower()])


def from_mapping(data: Any, where: str = "the policy") -> Policy:
    """A policy from the JSON file's object (see the README's "Cleanup policies")."""
    if not isinstance(data, dict):
        raise PolicyError(f'{where} must be a JSON object like {{"keep": 3}}')
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise PolicyError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    keep = data.get("keep")
    if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool)):
        raise PolicyError(f"{where}: keep must be a whole number, not {keep!r}")
    days = data.get("unused_days")
    if days is not None and (not isinstance(days, (int, float)) or isinstance(days, bool)):
        raise PolicyError(f"{where}: unused_days must be a number of days, not {days!r}")
    protect = data.get("protect", [])
    if isinstance(protect, str):
        protect = [protect]
    if not isinstance(protect, list) or not all(isinstance(p, str) for p in protect):
        raise PolicyError(f'{where}: protect must be a list of patterns like ["*:latest"]')
    until = data.get("until_free")
    size: int | None
    if until is None:
        size = None
    elif isinstance(until, int) and not isinstance(until, bool):
        size = until
    elif isinstance(until, str):
        size = parse_size(until, "until_free")
    else:
        raise PolicyError(f'{where}: until_free must be a size like "10GB" or a number of bytes')
    return Policy(keep, None if days is None else float(days), tuple(protect), size)


def from_file(path: Path) -> Policy:
    try:
        text = path.read_text()
    except OSError as exc:
        raise PolicyError(f"cannot read the policy file {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PolicyError(f"the policy file {path} is not JSON: {exc}") from exc
    return from_mapping(data, f"the policy file {path}")
