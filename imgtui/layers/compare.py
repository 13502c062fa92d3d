"""Two images side by side (a rebuilt `webapp:latest` and its dangling predecessor): which files differ in
their final filesystems, with sizes. Layers both share from the bottom hold the same files in both: the
comparison starts above them, and a file that one of those layers wrote and that nothing above changed
is never looked at.

Contents are never read: a file is `changed` when its size, kind, link target or mode differs (`detail`
says which), `rewritten` when only the layer that wrote it differs (same size and kind: its bytes may or
may not differ)."""

from __future__ import annotations

from imgtui.layers.model import Analysis, Kind, parent_of
from imgtui.layers.tree import Node, filesystem_at
from imgtui.record import record

ONLY_LEFT, ONLY_RIGHT, CHANGED, REWRITTEN = "only left", "only right", "changed", "rewritten"


@record
class Difference:
    path: str
    what: str
    """ONLY_LEFT, ONLY_RIGHT, CHANGED or REWRITTEN."""
    left_bytes: int
    right_bytes: int
    detail: str = ""
    """For CHANGED: what differs besides the size (`mode 644 → 600`, `symlink → file`, `target a → b`)."""

    @property
    def delta(self) -> int:
        return self.right_bytes - self.left_bytes


@record
class Comparison:
    left: str
    right: str
    shared_layers: int
    """Layers both images have from the bottom: skipped."""
    differences: tuple[Difference, ...]
    """Biggest change in bytes first."""

    def count(self, what: str) -> int:
        return sum(1 for d in self.differences if d.what == what)

    @property
    def delta(self) -> int:
        """Bytes the right image's files hold over the left's (negative: fewer)."""
        return sum(d.delta for d in self.differences)


def shared_layers(left: Analysis, right: Analysis) -> int:
    shared = 0
    for a, b in zip(left.layers, right.layers):
        if a.digest != b.digest:
            break
        shared += 1
    return shared


def compare(left: Analysis, right: Analysis) -> Comparison:
    shared = shared_layers(left, right)
    touched: set[str] = set()
    for analysis in (left, right):
        for layer in analysis.layers[shared:]:
            touched.update(c.entry.path for c in layer.changes)
    a = filesystem_at(left, len(left.layers) - 1) if left.layers else None
    b = filesystem_at(right, len(right.layers) - 1) if right.layers else None
    a_nodes = a.nodes if a is not None else {}
    b_nodes = b.nodes if b is not None else {}
    # What a layer above the shared ones touched, and what is under a directory it touched (a removed
    # directory takes its files with it: they came from a shared layer, but differ now). The rest came from
    # the shared layers in both and is not looked at.
    wanted = [p for p in {**a_nodes, **b_nodes} if _under(p, touched)]
    found: list[Difference] = []
    for path in wanted:
        x, y = a_nodes.get(path), b_nodes.get(path)
        if (x is not None and x.kind is Kind.DIR) or (y is not None and y.kind is Kind.DIR):
            continue
        if x is None and y is not None:
            found.append(Difference(path, ONLY_RIGHT, 0, y.size))
        elif y is None and x is not None:
            found.append(Difference(path, ONLY_LEFT, x.size, 0))
        elif x is not None and y is not None:
            if (x.size, x.kind, x.target, x.mode) != (y.size, y.kind, y.target, y.mode):
                found.append(Difference(path, CHANGED, x.size, y.size, _detail(x, y)))
            elif x.origin != y.origin:
                found.append(Difference(path, REWRITTEN, x.size, y.size))
    found.sort(key=lambda d: (-abs(d.delta), -max(d.left_bytes, d.right_bytes), d.path))
    return Comparison(left.name, right.name, shared, tuple(found))


def _under(path: str, touched: set[str]) -> bool:
    while True:
        if path in touched:
            return True
        if path == "/":
            return False
        path = parent_of(path)


def _detail(x: Node, y: Node) -> str:
    said = []
    if x.kind is not y.kind:
        said.append(f"{x.kind.value} → {y.kind.value}")
    elif x.target != y.target:
        said.append(f"target {x.target} → {y.target}")
    if x.mode != y.mode:
        said.append(f"mode {x.mode & 0o7777:o} → {y.mode & 0o7777:o}")
    return ", ".join(said)
