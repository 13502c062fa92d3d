"""An analysis for people and pipelines: the text `imgtui analyze` prints, its JSON (a documented contract,
README "Analyzing images in CI"), and the CI rules dive's users already have in `.dive-ci`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import humanize

from imgtui.layers.model import Analysis, Change

DEFAULT_RULES = {
    "lowest_efficiency": "0.9",
    "highest_wasted_bytes": "disabled",
    "highest_user_wasted_percent": "0.1",
}
ALIASES = {"lowestefficiency": "lowest_efficiency", "highestwastedbytes": "highest_wasted_bytes",
           "highestuserwastedpercent": "highest_user_wasted_percent"}  # fmt: skip
UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
         "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3,
         "tib": 1024**4}  # fmt: skip


class RuleError(Exception):
    """A rule's value cannot be read; the message names it."""


def to_json(analysis: Analysis, top: int = 20) -> dict[str, Any]:
    """`image.{name, size_bytes, wasted_bytes, efficiency, top_wasted[...]}` and `layers[...]`, layer indexes
    from 0 at the base, paths absolute."""
    return {
        "image": {
            "name": analysis.name,
            "size_bytes": analysis.size_bytes,
            "wasted_bytes": analysis.wasted_bytes,
            "efficiency": analysis.efficiency,
            "top_wasted": [
                {"path": w.path, "bytes": w.bytes, "written_by": w.written_by, "hidden_by": w.hidden_by}
                for w in analysis.wasted[:top]
            ],
        },
        "layers": [
            {
                "index": layer.index,
                "digest": layer.digest,
                "size_bytes": layer.size_bytes,
                "command": layer.command,
                "added": layer.count(Change.ADDED),
                "modified": layer.count(Change.MODIFIED),
                "removed": layer.count(Change.REMOVED),
            }
            for layer in analysis.layers
        ],
    }


def text(analysis: Analysis, top: int = 10) -> str:
    lines = [f"Image {analysis.name}", "", "  layer        size  added  modified  removed  command"]
    for layer in analysis.layers:
        shown = humanize.naturalsize(layer.size_bytes)
        added, modified = layer.count(Change.ADDED), layer.count(Change.MODIFIED)
        command = " ".join(layer.command.split())[:60]
        gone = layer.count(Change.REMOVED)
        lines.append(f"  {layer.index:>5}  {shown:>10}  {added:>5}  {modified:>8}  {gone:>7}  {command}")
    size, wasted = analysis.size_bytes, analysis.wasted_bytes
    lines += [
        "",
        f"Size {humanize.naturalsize(size)} ({size} bytes) in the layers; wasted "
        f"{humanize.naturalsize(wasted)} ({wasted} bytes); efficiency {analysis.efficiency:.2%}",
    ]
    if analysis.wasted:
        lines += ["", "Wasted (file versions the final image does not show), biggest first:",
                  "       bytes  written by  hidden by  path"]  # fmt: skip
        for w in analysis.wasted[:top]:
            lines.append(f"  {w.bytes:>10}  {w.written_by:>10}  {w.hidden_by:>9}  {w.path}")
        if len(analysis.wasted) > top:
            lines.append(f"  … and {len(analysis.wasted) - top} more")
    return "\n".join(lines) + "\n"


# -- CI rules -------------------------------------------------------------------------------------------
def read_rules(path: Path | None) -> dict[str, str]:
    """The rules of a `.dive-ci` file (dive's YAML: `rules:` then `name: value` lines; camelCase or
    snake_case names; `disabled` or `off` turn a rule off), over the defaults."""
    rules = dict(DEFAULT_RULES)
    if path is None or not path.is_file():
        return rules
    inside = False
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw.startswith((" ", "\t")):
            inside = line.strip() == "rules:"
            continue
        if inside and ":" in line:
            key, value = (part.strip().strip("'\"") for part in line.split(":", 1))
            name = ALIASES.get(key.replace("_", "").replace("-", "").lower(), key)
            if name in DEFAULT_RULES:
                rules[name] = value
    return rules


def parse_bytes(value: str) -> int:
    found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", value)
    if not found or found.group(2).lower() not in UNITS:
        raise RuleError(f"highest_wasted_bytes: {value!r} is not a size (like 20MB or 1.5GiB)")
    return int(float(found.group(1)) * UNITS[found.group(2).lower()])


@dataclass(frozen=True)
class RuleResult:
    name: str
    passed: bool | None
    """None: the rule is off."""
    message: str


def evaluate(analysis: Analysis, rules: dict[str, str]) -> list[RuleResult]:
    results = []
    for name in DEFAULT_RULES:
        value = str(rules.get(name, DEFAULT_RULES[name])).strip().lower()
        if value in ("disabled", "off", ""):
            results.append(RuleResult(name, None, "off"))
            continue
        if name == "highest_wasted_bytes":
            limit = parse_bytes(value)
            ok = analysis.wasted_bytes <= limit
            said = f"wasted {analysis.wasted_bytes} bytes, the limit is {limit}"
        else:
            try:
                threshold = float(value)
            except ValueError as exc:
                raise RuleError(f"{name}: {value!r} is not a number") from exc
            if name == "lowest_efficiency":
                ok = analysis.efficiency >= threshold
                said = f"efficiency {analysis.efficiency:.4f}, the lowest allowed is {threshold}"
            else:
                ok = analysis.user_wasted_ratio <= threshold
                ratio = analysis.user_wasted_ratio
                said = f"wasted {ratio:.4f} of the bytes over the base layer, at most {threshold} allowed"
        results.append(RuleResult(name, ok, said))
    return results


def rules_text(results: list[RuleResult]) -> str:
    lines = ["CI rules:"]
    for r in results:
        status = "skip" if r.passed is None else "PASS" if r.passed else "FAIL"
        lines.append(f"  {status}  {r.name}: {r.message}")
    failed = sum(1 for r in results if r.passed is False)
    lines.append(f"Result: {'FAIL' if failed else 'PASS'} ({failed} failed of {len(results)})")
    return "\n".join(lines) + "\n"
