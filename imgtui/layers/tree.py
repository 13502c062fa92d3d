"""File trees to show: what one layer changed, the whole filesystem as of a layer, or the wasted versions;
each with directory sizes summed, children listed by name or size, and a path filter. Built once per view
(in a worker), read lazily by the UI a directory at a time."""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import accumulate

from imgtui.layers.model import Analysis, Change, Changed, Entry, Kind, parent_of


class Node:
    """One path of a tree. A plain class with slots: a tree of a whole image has a node per path."""

    __slots__ = ("path", "kind", "size", "change", "wasted", "layer", "origin", "target", "mode", "children")

    def __init__(self, path: str, kind: Kind, size: int = 0) -> None:
        self.path = path
        self.kind = kind
        self.size = size
        """A file's bytes; a directory's: every file under it."""
        self.change: Change | None = None
        self.wasted = 0
        """Bytes of versions of this path (or, for a directory, under it) that the image does not show."""
        self.layer = -1
        """The layer that wrote this version."""
        self.origin = ""
        """That layer's digest: two images' files from one layer digest are the same file."""
        self.target = ""
        self.mode = 0
        self.children: list[str] = []
        """Paths of its children (a LayerTree leaves it empty: ask it, children() and has_children())."""


class FileTree:
    """Nodes by path, `/` at the root; directories that only lead to a change are made up on the way."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {"/": Node("/", Kind.DIR)}

    def put(self, entry: Entry, change: Change | None, layer: int, wasted: int = 0, origin: str = "") -> None:
        nodes = self.nodes
        path = entry.path
        node = nodes.get(path)
        if node is None:
            node = nodes[path] = Node(path, entry.kind)
            # link it to its parent, making up the directories on the way that no entry of its own lists
            child = path
            while True:
                parent = child[: child.rfind("/")] or "/"
                above = nodes.get(parent)
                if above is not None:
                    above.children.append(child)
                    break
                above = nodes[parent] = Node(parent, Kind.DIR)
                above.children.append(child)
                child = parent
        node.mode = entry.mode
        node.kind, node.change, node.layer, node.target, node.origin = (
            entry.kind,
            change,
            layer,
            entry.target,
            origin,
        )
        if entry.kind is not Kind.DIR:
            node.size = entry.size
        node.wasted += wasted

    def finish(self, count_removed: bool = False) -> FileTree:
        """Sum sizes and wasted bytes into the directories, deepest first; removed paths only with
        `count_removed` (the wasted tree, made of them)."""
        nodes = self.nodes
        for path in sorted(nodes, key=lambda p: 0 if p == "/" else p.count("/"), reverse=True):
            node = nodes[path]
            if (
                node.kind is Kind.DIR
                and node.children
                and (count_removed or node.change is not Change.REMOVED)
            ):
                kids = [nodes[c] for c in node.children]
                node.size = sum(k.size for k in kids if count_removed or k.change is not Change.REMOVED)
                node.wasted += sum(k.wasted for k in kids)
        return self

    def children(self, path: str, by_size: bool = False, only: set[str] | None = None) -> list[Node]:
        """A directory's children, directories first then by name, or biggest first; `only` keeps the
        paths a filter left (and the directories leading to them)."""
        found = [self.nodes[c] for c in self.nodes[path].children if only is None or c in only]
        return _ordered(found, by_size)

    def matching(self, text: str) -> set[str]:
        """Paths containing `text`, with every directory above them."""
        return _with_parents(p for p in self.nodes if text in p)

    def of_change(self, change: Change) -> set[str]:
        return _with_parents(p for p, node in self.nodes.items() if node.change is change)

    def count(self) -> int:
        return len(self.nodes) - 1

    def has_children(self, path: str) -> bool:
        return bool(self.nodes[path].children)


def layer_changes(analysis: Analysis, index: int) -> LayerTree:
    """What layer `index` added, modified and removed. A removed path's size is the bytes it took away
    (everything under a removed directory); directories sum only what the layer itself holds."""
    wasted = _wasted_by_path(analysis, written_by=index)
    changes = analysis.layers[index].changes
    removed = [c.entry.path for c in changes if c.change is Change.REMOVED]
    taken = dict.fromkeys(removed, 0)
    for w in analysis.wasted:
        if w.hidden_by == index:
            path = w.path
            while path not in taken and path != "/":
                path = parent_of(path)
            if path in taken:
                taken[path] += w.bytes
    return LayerTree(changes, index, wasted, taken)


class LayerTree(FileTree):
    """A FileTree of what one layer changed, made as it is looked at: the changes sorted by path, with
    running sums of the bytes and wasted bytes that count toward the directories above them, so that a
    directory's figures are two subtractions and its children one pass over its own range (skipping each
    subdirectory's range by bisection). Opening a layer of 20,000 files made 20,000 nodes before the first
    could be shown (85 ms); this makes the few on screen.

    The figures are FileTree.finish's: a directory sums its children, except that a removed path (its size
    is the bytes it took away) and anything that is not a directory stop the sum at them (their own wasted
    bytes still count above them)."""

    def __init__(self, changes: Sequence[Changed], index: int, wasted: dict[str, int],
                 taken: dict[str, int]) -> None:  # fmt: skip
        self.index = index
        self._taken = taken
        last = {c.entry.path: c for c in changes}  # a path written twice: the later one stands
        paths = sorted(last)
        self._paths = paths
        self._changes = found = [last[p] for p in paths]
        self._own_wasted = wasted
        # Every path with something under it (entries, and the directories made up above them)
        above: set[str] = set()
        for path in {p[: p.rfind("/")] or "/" for p in paths}:
            while path not in above:
                above.add(path)
                path = path[: path.rfind("/")] or "/"
        self._known = above.union(paths) | {"/"}
        removed, directory = Change.REMOVED, Kind.DIR
        sizes = [0 if c.change is removed or c.entry.kind is directory else c.entry.size for c in found]
        hidden = [wasted.get(p, 0) for p in paths] if wasted else [0] * len(paths)
        # A removed path or a non-directory with paths under it: those do not count above it.
        self._stops = {
            p
            for p in above
            if p in last and (last[p].change is removed or last[p].entry.kind is not directory)
        }
        for stop in self._stops:
            lo, hi = self._range(stop)
            sizes[lo:hi] = [0] * (hi - lo)
            hidden[lo:hi] = [0] * (hi - lo)
        self._size_sums = [0, *accumulate(sizes)]
        self._wasted_sums = [0, *accumulate(hidden)]
        self._made: dict[str, Node] = {}
        self.nodes = _LazyNodes(self)  # type: ignore[assignment]

    def _under_stop(self, path: str) -> bool:
        while path != "/" and self._stops:
            path = path[: path.rfind("/")] or "/"
            if path in self._stops:
                return True
        return False

    def _range(self, path: str) -> tuple[int, int]:
        """The positions of the paths under `path` (all of them for the root)."""
        if path == "/":
            return (1 if self._paths and self._paths[0] == "/" else 0), len(self._paths)
        return bisect_left(self._paths, path + "/"), bisect_left(self._paths, path + "0")  # "0" follows "/"

    def node(self, path: str) -> Node | None:
        node = self._made.get(path)
        if node is not None or path not in self._known:
            return node
        at = bisect_left(self._paths, path)
        changed = self._changes[at] if at < len(self._paths) and self._paths[at] == path else None
        lo, hi = self._range(path)
        if changed is None:
            node = Node(path, Kind.DIR)
        else:
            entry = changed.entry
            node = Node(path, entry.kind, entry.size if entry.kind is not Kind.DIR else 0)
            node.change, node.layer, node.target, node.mode = (
                changed.change,
                self.index,
                entry.target,
                entry.mode,
            )
            node.wasted = self._own_wasted.get(path, 0)
        if changed is not None and changed.change is Change.REMOVED:
            node.size = self._taken.get(path, 0)
        elif node.kind is Kind.DIR and hi > lo:
            if self._under_stop(path):
                self._finish_below(node, lo, hi)  # under a stop: its sums are its own
            else:
                node.size = self._size_sums[hi] - self._size_sums[lo]
                node.wasted += self._wasted_sums[hi] - self._wasted_sums[lo]
        self._made[path] = node
        return node

    def _finish_below(self, node: Node, lo: int, hi: int) -> None:
        """A directory under a removed path or a file (seldom seen): summed the slow way, as FileTree does."""
        tree = FileTree()
        for path, changed in zip(self._paths[lo:hi], self._changes[lo:hi]):
            tree.put(changed.entry, changed.change, self.index, self._own_wasted.get(path, 0))
            if changed.change is Change.REMOVED:
                tree.nodes[path].size = self._taken.get(path, 0)
        below = tree.finish().nodes[node.path]  # made up by put() above what is under it
        node.size = below.size
        node.wasted += below.wasted

    def has_children(self, path: str) -> bool:
        lo, hi = self._range(path)
        return hi > lo

    def _child_paths(self, path: str) -> list[str]:
        paths = self._paths
        lo, hi = self._range(path)
        prefix = len(path) + 1 if path != "/" else 1
        found: dict[str, None] = {}
        at = lo
        while at < hi:
            rest = paths[at][prefix:]
            slash = rest.find("/")
            if slash < 0:
                found[paths[at]] = None
                at += 1
            else:
                child = paths[at][: prefix + slash]
                found[child] = None
                at = bisect_left(paths, child + "0", at, hi)  # past everything under it
        return list(found)

    def children(self, path: str, by_size: bool = False, only: set[str] | None = None) -> list[Node]:
        found = [self.node(c) for c in self._child_paths(path) if only is None or c in only]
        return _ordered([n for n in found if n is not None], by_size)

    def matching(self, text: str) -> set[str]:
        return _with_parents(p for p in ("/", *self._paths) if text in p)

    def of_change(self, change: Change) -> set[str]:
        return _with_parents(p for p, c in zip(self._paths, self._changes) if c.change is change)

    def count(self) -> int:
        return len(self._known) - 1


class _LazyNodes(Mapping[str, Node]):
    """LayerTree's nodes by path, each made when first asked for."""

    def __init__(self, tree: LayerTree) -> None:
        self.tree = tree

    def __getitem__(self, path: str) -> Node:
        node = self.tree.node(path)
        if node is None:
            raise KeyError(path)
        return node

    def __iter__(self) -> Iterator[str]:
        return iter(self.tree._known)

    def __len__(self) -> int:
        return len(self.tree._known)

    def __contains__(self, path: object) -> bool:
        return path in self.tree._known


def _ordered(found: list[Node], by_size: bool) -> list[Node]:
    if by_size:
        return sorted(found, key=lambda n: (-n.size, n.path))
    return sorted(found, key=lambda n: (n.kind is not Kind.DIR, n.path))


def _with_parents(paths: Iterable[str]) -> set[str]:
    wanted: set[str] = set()
    for path in paths:
        while path not in wanted:
            wanted.add(path)
            path = parent_of(path)
    return wanted


def filesystem_at(analysis: Analysis, index: int) -> FileTree:
    """Every path visible once layers 0..`index` are applied, marked with what `index` itself did to it."""
    from imgtui.layers.analysis import VisibleTree

    visible = VisibleTree()
    for layer in analysis.layers[: index + 1]:
        for changed in layer.changes:
            if changed.change is Change.REMOVED:
                visible.take(changed.entry.path)
            else:
                visible.add(changed.entry, layer.index)
    own = {c.entry.path: c.change for c in analysis.layers[index].changes}
    tree = FileTree()
    for path, (entry, written) in visible.visible.items():
        tree.put(entry, own.get(path), written, origin=analysis.layers[written].digest)
    return tree.finish()


def wasted_tree(analysis: Analysis) -> FileTree:
    """Only the wasted versions, each at its path with its bytes."""
    tree = FileTree()
    for w in analysis.wasted:
        tree.put(Entry(w.path, Kind.FILE, w.bytes, 0, 0, 0), Change.REMOVED, w.written_by, w.bytes)
    return tree.finish(count_removed=True)


def _wasted_by_path(analysis: Analysis, written_by: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for w in analysis.wasted:
        if w.written_by == written_by:
            found[w.path] = found.get(w.path, 0) + w.bytes
    return found


class Trees:
    """An analysis with the trees built from it so far, the last few kept: going back to a layer, or opening
    the image again in the same session, shows its tree with nothing to build. Safe to use from a worker
    thread and the UI at once (each step is one dict operation under the GIL; two threads building the same
    tree at once build it twice, the same)."""

    def __init__(self, analysis: Analysis, keep: int = 4) -> None:
        self.analysis = analysis
        self.keep = keep
        self._built: OrderedDict[tuple[str, int], FileTree] = OrderedDict()
        self.failed = False
        """A tree could not be built (a layer the cache lost since the analysis was read): read the image
        again rather than keep this analysis."""

    def built(self, scope: str, index: int) -> FileTree | None:
        """The tree if it is built already, else None (nothing is built here)."""
        key = (scope, 0 if scope == "wasted" else index)
        tree = self._built.get(key)
        if tree is not None:
            self._built[key] = self._built.pop(key)  # recently used
        return tree

    def build(self, scope: str, index: int) -> FileTree:
        """`layer` (what layer `index` changed), `filesystem` (as of layer `index`) or `wasted`."""
        tree = self.built(scope, index)
        if tree is not None:
            return tree
        try:
            if scope == "layer":
                tree = layer_changes(self.analysis, index)
            elif scope == "filesystem":
                tree = filesystem_at(self.analysis, index)
            else:
                tree = wasted_tree(self.analysis)
        except Exception:
            self.failed = True
            raise
        self._built[(scope, 0 if scope == "wasted" else index)] = tree
        while len(self._built) > self.keep:
            self._built.pop(next(iter(self._built)), None)
        return tree


def diff(left: FileTree, right: FileTree) -> list[tuple[str, str, int, int]]:
    """(path, what, left bytes, right bytes) for every file that differs between two final filesystems
    (`filesystem_at` their top layers): `only left`, `only right`, or `changed` (another size, kind or link
    target, or the same size from another layer: contents are never read, so such a file may be equal)."""
    rows = []
    paths = {p for p, n in left.nodes.items() if n.kind is not Kind.DIR}
    paths |= {p for p, n in right.nodes.items() if n.kind is not Kind.DIR}
    for path in sorted(paths):
        a, b = left.nodes.get(path), right.nodes.get(path)
        if a is None and b is not None:
            rows.append((path, "only right", 0, b.size))
        elif b is None and a is not None:
            rows.append((path, "only left", a.size, 0))
        elif (
            a is not None
            and b is not None
            and (a.size, a.kind, a.target, a.origin) != (b.size, b.kind, b.target, b.origin)
        ):
            rows.append((path, "changed", a.size, b.size))
    return rows
