"""File trees to show: what one layer changed, the whole filesystem as of a layer, or the wasted versions;
each with directory sizes summed, children listed by name or size, and a path filter. Built once per view
(in a worker), read lazily by the UI a directory at a time."""

from __future__ import annotations

from collections import OrderedDict

from imgtui.layers.model import Analysis, Change, Entry, Kind, parent_of


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
        if by_size:
            return sorted(found, key=lambda n: (-n.size, n.path))
        return sorted(found, key=lambda n: (n.kind is not Kind.DIR, n.path))

    def matching(self, text: str) -> set[str]:
        """Paths containing `text`, with every directory above them."""
        wanted: set[str] = set()
        for path in self.nodes:
            if text in path:
                while path not in wanted:
                    wanted.add(path)
                    path = parent_of(path)
        return wanted

    def of_change(self, change: Change) -> set[str]:
        wanted: set[str] = set()
        for path, node in self.nodes.items():
            if node.change is change:
                while path not in wanted:
                    wanted.add(path)
                    path = parent_of(path)
        return wanted

    def count(self) -> int:
        return len(self.nodes) - 1


def layer_changes(analysis: Analysis, index: int) -> FileTree:
    """What layer `index` added, modified and removed. A removed path's size is the bytes it took away
    (everything under a removed directory); directories sum only what the layer itself holds."""
    tree = FileTree()
    wasted = _wasted_by_path(analysis, written_by=index)
    removed = [c.entry.path for c in analysis.layers[index].changes if c.change is Change.REMOVED]
    taken = dict.fromkeys(removed, 0)
    for w in analysis.wasted:
        if w.hidden_by == index:
            path = w.path
            while path not in taken and path != "/":
                path = parent_of(path)
            if path in taken:
                taken[path] += w.bytes
    for changed in analysis.layers[index].changes:
        tree.put(changed.entry, changed.change, index, wasted.get(changed.entry.path, 0))
        if changed.change is Change.REMOVED:
            tree.nodes[changed.entry.path].size = taken.get(changed.entry.path, 0)
    return tree.finish()


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
