"""Layer indexes and waste on hand-made layers whose figures are known to the byte: a file replaced, a file
deleted, a directory deleted, an opaque directory, a hard link, a mode-only change, a file re-added after its
deletion. The layers are real tars (plain, gzip), read by the same code that reads the engine's."""

from __future__ import annotations

import gzip
import io
import tarfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from imgtui.layers import Change, Kind, LayerError, analyze, read_layer


def layer(*members: tuple[str, object], compress: bool = False) -> io.BytesIO:
    """A layer tar: (name, bytes) files, (name, None) directories, (name, ("link", target)) hard links,
    (name, ("sym", target)) symlinks, (name, (bytes, mode)) files with a mode."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, body in members:
            info = tarfile.TarInfo(name)
            data = b""
            if body is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif isinstance(body, tuple) and body[0] in ("link", "sym"):
                info.type = tarfile.LNKTYPE if body[0] == "link" else tarfile.SYMTYPE
                info.linkname = str(body[1])
            else:
                data, info.mode = body if isinstance(body, tuple) else (body, 0o644)  # type: ignore[assignment]
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = out.getvalue()
    return io.BytesIO(gzip.compress(raw) if compress else raw)


def test_headers_only_every_kind_and_whiteouts() -> None:
    index = read_layer(layer(
        ("./etc", None), ("./etc/app.conf", b"x" * 10), ("./etc/.wh.old.conf", b""),
        ("./var/.wh..wh..opq", b""),
        ("bin/sh", ("sym", "busybox")), ("bin/ash", ("link", "bin/busybox")), (".bashrc", b"ls"),
    ), "sha256:l1")  # fmt: skip
    kinds = {e.path: e.kind for e in index.entries}
    assert kinds == {"/etc": Kind.DIR, "/etc/app.conf": Kind.FILE, "/bin/sh": Kind.SYMLINK,
                     "/bin/ash": Kind.HARDLINK, "/.bashrc": Kind.FILE}  # fmt: skip
    assert index.removed == ("/etc/old.conf",) and index.opaque == ("/var",)
    assert index.content_bytes == 12, "a hard link holds no bytes of its own"
    assert next(e for e in index.entries if e.path == "/bin/ash").target == "/bin/busybox"


def test_gzip_layers_read_the_same() -> None:
    plain = read_layer(layer(("a", b"1234")), "sha256:p")
    packed = read_layer(layer(("a", b"1234"), compress=True), "sha256:p")
    assert plain.entries == packed.entries


def test_not_a_tar_is_a_sentence() -> None:
    with pytest.raises(LayerError, match="not a readable tar"):
        read_layer(io.BytesIO(b"definitely not a tar archive" * 40), "sha256:bad")


def test_exact_waste_of_every_kind_of_change() -> None:
    base = read_layer(layer(
        ("data", None), ("data/a", b"a" * 2000), ("data/b", b"b" * 300), ("data/mode", b"m" * 50),
        ("data/again", b"g" * 70), ("cache", None), ("cache/x", b"x" * 400), ("cache/y", b"y" * 600),
        ("opaq", None), ("opaq/p", b"p" * 111), ("opaq/q", b"q" * 222), ("big", b"B" * 1000),
        ("big-link", ("link", "big")),
    ), "sha256:base")  # fmt: skip
    second = read_layer(layer(
        ("data", None), ("data/a", b"A" * 5000),  # replaced: the old 2000 bytes are wasted, not 7000
        ("data/.wh.b", b""),                       # deleted: 300
        ("data/mode", (b"m" * 50, 0o755)),         # a mode-only change copies the file up: 50
        ("data/.wh.again", b""),                   # deleted here (70), written again above
        (".wh.cache", b""),                        # a directory deleted: 400 + 600
        ("opaq", None), ("opaq/.wh..wh..opq", b""), ("opaq/r", b"r" * 5),  # opaque: 111 + 222
    ), "sha256:second")  # fmt: skip
    third = read_layer(layer(("data/again", b"G" * 70)), "sha256:third")
    result = analyze("test:1", [base, second, third], ["ADD base", "RUN change", "RUN again"])

    assert result.size_bytes == (2000 + 300 + 50 + 70 + 400 + 600 + 111 + 222 + 1000) + (5000 + 50 + 5) + 70
    assert result.wasted_bytes == 2000 + 300 + 50 + 70 + 400 + 600 + 111 + 222
    assert result.efficiency == pytest.approx(1 - result.wasted_bytes / result.size_bytes)
    by_path = {(w.path, w.written_by, w.hidden_by): w.bytes for w in result.wasted}
    assert by_path == {
        ("/data/a", 0, 1): 2000, ("/data/b", 0, 1): 300, ("/data/mode", 0, 1): 50, ("/data/again", 0, 1): 70,
        ("/cache/x", 0, 1): 400, ("/cache/y", 0, 1): 600, ("/opaq/p", 0, 1): 111, ("/opaq/q", 0, 1): 222,
    }  # fmt: skip
    assert result.wasted[0].path == "/data/a", "biggest first"
    changes = {(c.entry.path, c.change) for c in result.layers[1].changes}
    assert ("/data/a", Change.MODIFIED) in changes and ("/data/b", Change.REMOVED) in changes
    assert ("/cache", Change.REMOVED) in changes and ("/opaq/p", Change.REMOVED) in changes
    assert ("/opaq/r", Change.ADDED) in changes
    assert [c.change for c in result.layers[2].changes] == [Change.ADDED], "re-added after its deletion"
    assert result.layers[1].command == "RUN change"
    assert result.user_wasted_ratio == pytest.approx(result.wasted_bytes / (5000 + 50 + 5 + 70))


def test_trees_of_a_layer_the_filesystem_and_the_waste() -> None:
    from imgtui.layers.tree import diff, filesystem_at, layer_changes, wasted_tree

    base = read_layer(layer(("data", None), ("data/a", b"a" * 2000), ("data/b", b"b" * 300),
                            ("cache", None), ("cache/x", b"x" * 400)), "sha256:base")  # fmt: skip
    top = read_layer(layer(("data/a", b"A" * 5000), (".wh.cache", b""), ("new", b"n" * 7)), "sha256:top")
    result = analyze("t:1", [base, top])

    first = layer_changes(result, 0)
    assert first.nodes["/data"].size == 2300 and first.nodes["/"].size == 2700
    assert first.nodes["/data/a"].wasted == 2000 and first.nodes["/data"].wasted == 2000
    assert first.nodes["/"].wasted == 2400, "/data/a's 2000 and /cache/x's 400: layer 0's hidden bytes"
    second = layer_changes(result, 1)
    assert {p: n.change for p, n in second.nodes.items() if n.change} == {
        "/data/a": Change.MODIFIED, "/cache": Change.REMOVED, "/new": Change.ADDED}  # fmt: skip
    assert second.nodes["/cache"].size == 400, "a removed directory: the bytes it took away"
    assert second.nodes["/"].size == 5007, "what the layer holds: the removal is not added in"
    assert [n.path for n in second.children("/", by_size=True)] == ["/data", "/cache", "/new"]

    before, after = filesystem_at(result, 0), filesystem_at(result, 1)
    assert "/cache/x" in before.nodes and "/cache/x" not in after.nodes and "/cache" not in after.nodes
    assert after.nodes["/data/a"].size == 5000 and after.nodes["/data/a"].layer == 1
    assert after.nodes["/data/b"].change is None, "untouched by the layer shown"
    assert after.matching("dat") == {"/", "/data", "/data/a", "/data/b"}
    assert after.of_change(Change.ADDED) == {"/", "/new"}

    waste = wasted_tree(result)
    assert waste.nodes["/"].size == 2400 and set(waste.nodes) == {
        "/",
        "/data",
        "/data/a",
        "/cache",
        "/cache/x",
    }

    assert diff(before, after) == [
        ("/cache/x", "only left", 400, 0),
        ("/data/a", "changed", 2000, 5000),
        ("/new", "only right", 0, 7),
    ]


def test_comparing_two_images_skips_what_they_share() -> None:
    """A rebuild: the same base, then another top layer. Only files the tops touched are compared; a file of
    the base that a top removed counts; sizes exact; same size from another layer is `rewritten`."""
    from imgtui.layers.compare import CHANGED, ONLY_LEFT, ONLY_RIGHT, REWRITTEN, compare

    base = read_layer(layer(("etc", None), ("etc/os", b"o" * 100), ("cache", None), ("cache/x", b"x" * 400)),
                      "sha256:base")  # fmt: skip
    old = read_layer(
        layer(("app", None), ("app/VERSION", b"version 1\n"), ("app/big", b"b" * 3000)), "sha256:o"
    )
    new = read_layer(layer(("app", None), ("app/VERSION", b"version 2\n"), ("app/big", b"b" * 1000),
                           ("app/new", b"n" * 7), (".wh.cache", b"")), "sha256:n")  # fmt: skip
    result = compare(analyze("app:old", [base, old]), analyze("app:latest", [base, new]))
    assert result.shared_layers == 1
    assert [(d.path, d.what, d.left_bytes, d.right_bytes) for d in result.differences] == [
        ("/app/big", CHANGED, 3000, 1000),
        ("/cache/x", ONLY_LEFT, 400, 0),
        ("/app/new", ONLY_RIGHT, 0, 7),
        ("/app/VERSION", REWRITTEN, 10, 10),
    ]
    assert result.delta == -2000 - 400 + 7
    assert "/etc/os" not in {d.path for d in result.differences}, "the shared base's file is not compared"


def test_a_mode_only_change_is_changed_with_its_detail() -> None:
    from imgtui.layers.compare import CHANGED, compare
    from imgtui.layers.model import Entry, Kind, LayerIndex

    base = LayerIndex("sha256:b", (Entry("/run.sh", Kind.FILE, 12, 0o100644, 0, 0),))
    top = LayerIndex("sha256:t", (Entry("/run.sh", Kind.FILE, 12, 0o100755, 0, 0),))
    result = compare(analyze("a", [base]), analyze("b", [base, top]))
    assert [(d.path, d.what, d.detail) for d in result.differences] == [
        ("/run.sh", CHANGED, "mode 644 → 755")
    ]


def test_an_archive_file_seeks_past_the_layers_it_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated image (10 layers, 2,000 files, exact waste known) read from its archive file, then
    again with the cache: nothing parsed, and less than a tenth of the file read (the rest sought past)."""
    import io

    import imgtui.layers.reading as reading
    from imgtui.layers.cache import LayerCache
    from imgtui.layers.sources import from_file, from_stream
    from imgtui.sandbox.big import write

    big = write(tmp_path / "big", files=2000, total=20 << 20, overwritten=10)
    cache = LayerCache(tmp_path / "cache")
    assert from_file(big.path, cache=cache).wasted_bytes == big.wasted
    parsed: list[str] = []
    original = reading.read_layer

    def counting(raw, digest):  # type: ignore[no-untyped-def]
        parsed.append(digest)
        return original(raw, digest)

    monkeypatch.setattr(reading, "read_layer", counting)

    class Counting(io.FileIO):
        read_bytes = 0

        def read(self, size: int = -1) -> bytes:  # type: ignore[override]
            data = super().read(size)
            Counting.read_bytes += len(data)
            return data

    with Counting(str(big.path), "rb") as raw:
        layers, config, keys = from_stream(raw, cache=cache)  # type: ignore[arg-type]
    assert parsed == [] and len(layers) == 10
    assert analyze("big", layers).wasted_bytes == big.wasted
    assert Counting.read_bytes < big.path.stat().st_size / 10, (Counting.read_bytes, big.path.stat().st_size)


def test_only_content_addressed_members_are_remembered(tmp_path: Path) -> None:
    """`0/layer.tar` is another layer in every archive that uses the name: never taken from the cache."""
    from imgtui.layers.cache import LayerCache

    cache = LayerCache(tmp_path)
    cache.put("sha256:" + "1" * 64, read_layer(layer(("a", b"a")), "sha256:" + "1" * 64))
    cache.put_member("0/layer.tar", "sha256:" + "1" * 64)
    cache.put_member("2" * 64 + "/layer.tar", "sha256:" + "1" * 64)
    assert cache.known("0/layer.tar") is None
    assert cache.known("2" * 64 + "/layer.tar") is not None
    assert cache.known("blobs/sha256/" + "1" * 64) is not None, "an uncompressed blob: digest = diff ID"


def test_enter_on_a_history_row_opens_the_layer_it_made_when_commands_repeat() -> None:
    """Podman's commits all have the command `/bin/sh`, and a Dockerfile may run one command twice: the
    row is matched with the layer by how many rows below it have the same command (the history table is
    newest first), not with the first layer of that command."""
    from imgtui.engine.models import MISSING, Layer, same_below

    layers = [read_layer(layer((f"f{n}", b"x" * n)), f"sha256:{n}") for n in range(4)]
    result = analyze("podman:1", layers, ["ADD base", "/bin/sh", "/bin/sh", "/bin/sh"])
    assert [result.layer_of("/bin/sh", older) for older in (0, 1, 2)] == [1, 2, 3]
    assert result.layer_of("/bin/sh", 7) == 3 and result.layer_of("ADD base") == 0
    assert result.layer_of('CMD ["sh"]') == 3, "a row that made no layer opens the top one"
    when = datetime.now(timezone.utc)
    rows = [Layer(MISSING, when, command, 0, "") for command in ("/bin/sh", "/bin/sh", "/bin/sh", "ADD base")]
    assert [same_below(rows, row) for row in rows] == [2, 1, 0, 0]
    assert result.layer_of(rows[1].created_by, same_below(rows, rows[1])) == 2
    assert same_below(rows, None) == 0
