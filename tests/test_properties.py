"""Property tests (hypothesis) of what reads outside input: image references, registry manifests and image
configs, layer tars and image archives. Each parser either answers or raises its module's own error (which
the UI shows as a sentence), never anything else and never hangs; what is built from generated parts reads
back as exactly those parts; sizes and waste add up.

The default profile runs a few hundred examples per test (CI); `IMGTUI_HYPOTHESIS=long` runs the long
profile (5,000 per test, over 100,000 in all) outside CI. Inputs that once broke a parser are kept as
`@example`s."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import signal
import string
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imgtui.analyze_cli import registry_reference
from imgtui.engine.reference import BadReference, problem, validate, validate_pull
from imgtui.layers import Entry, Kind, LayerError, LayerIndex, analyze, commands_of, read_archive, read_layer
from imgtui.layers.cache import LayerCache
from imgtui.layers.files import NotFound, file_from_archive, file_from_layer
from imgtui.layers.model import COUNTED, Analysis, Change, parent_of
from imgtui.layers.reading import normal_path
from imgtui.layers.tarscan import Reader, TarError, scan
from imgtui.layers.tree import FileTree, layer_changes
from imgtui.registry import RegistryError
from imgtui.registry.models import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    SCHEMA1,
    Manifest,
)
from imgtui.registry.parsing import parse_history, parse_manifest, parse_time, platform_text, schema1_config

_COMMON = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default-imgtui", max_examples=200, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("long", max_examples=5_000, **_COMMON)  # type: ignore[arg-type]
settings.load_profile("long" if os.environ.get("IMGTUI_HYPOTHESIS") == "long" else "default-imgtui")


@contextmanager
def bounded(seconds: float = 10.0) -> Iterator[None]:
    """A parser that loops forever on some input fails the test instead of hanging it."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds:g} s")

    before = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


# --- image references ------------------------------------------------------------------------------------

_ALNUM = "[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_ENGINE_TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # Go's \w is ASCII
_ENGINE_DIGEST = "sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}"


def engine_name(name: str) -> bool:
    """Whether the engine takes `name` (no tag) as a repository: distribution's reference grammar
    (reference/regexp.go), its 255-character limit, and the daemon's refusal of 64 hex digits (an ID)."""
    return bool(re.fullmatch(_NAME, name)) and len(name) <= 255 and not re.fullmatch("[a-f0-9]{64}", name)


def engine_reference(text: str) -> tuple[str, str] | None:
    """What the engine makes of `NAME[:TAG]` (docker tag, docker pull): (name, tag), or None if it refuses."""
    found = re.fullmatch(rf"({_NAME})(?::({_ENGINE_TAG}))?", text)
    if found is None or not engine_name(found[1]):
        return None
    return found[1], found[2] or "latest"


LOWER = string.ascii_lowercase + string.digits
alnums = st.text(LOWER, min_size=1, max_size=6)
components: st.SearchStrategy[str] = st.builds(
    lambda first, rest: first + "".join(s + a for s, a in rest),
    alnums,
    st.lists(st.tuples(st.sampled_from([".", "_", "__", "-", "---"]), alnums), max_size=3),
)
labels = st.builds(
    lambda a, middle, b: a + (middle + b if b else ""),
    st.sampled_from(string.ascii_letters + string.digits),
    st.text(string.ascii_letters + string.digits + "-", max_size=5),
    st.text(string.ascii_letters + string.digits, max_size=1),
)
domains: st.SearchStrategy[str] = st.one_of(
    st.builds(
        lambda ls, port: ".".join(ls) + port,
        st.lists(labels, min_size=2, max_size=3),
        st.sampled_from(["", ":5000", ":443", ":1"]),
    ),  # fmt: skip
    st.builds(lambda label, port: f"{label}:{port}", labels, st.integers(0, 65535)),
    st.just("localhost"),
)
tags = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(string.ascii_letters + string.digits + "_"),
    st.text(string.ascii_letters + string.digits + "_.-", max_size=127),
)
digests = st.sampled_from([("sha256", 32), ("sha384", 48), ("sha512", 64)]).flatmap(
    lambda a: st.binary(min_size=a[1], max_size=a[1]).map(lambda b: f"{a[0]}:{b.hex()}")
)


@st.composite
def repositories(draw: st.DrawFn) -> str:
    domain = draw(st.none() | domains)
    path = draw(st.lists(components, min_size=1, max_size=4))
    if domain is None and "." in path[0] and len(path) > 1:  # the engine would read it as a registry
        path[0] = path[0].replace(".", "_")
    repository = "/".join(([domain] if domain else []) + path)
    if len(repository) > 255 or re.fullmatch("[a-f0-9]{64}", repository):
        return "library/busybox"
    return repository


reference_like = st.one_of(
    st.text(),
    st.text(string.ascii_letters + string.digits + ":/@._-", max_size=80),
    st.builds(
        lambda parts, seps: "".join(p + s for p, s in zip(parts, seps)),
        st.lists(
            st.sampled_from(["a", "B", "localhost", "x.io", "5000", "é", "ǅ", "٣", "_", "-", "--", "__"])
        ),
        st.lists(st.sampled_from(["", ":", "/", "@", ".", "_"])),
    ),
)


@given(reference_like)
@example("0123456789abcdef" * 4)  # 64 hex digits: the engine reads it as an image ID (issue 15)
@example("busybox:é")  # Python's \w is Unicode, the engine's is ASCII
@example("busybox:٣")
@example("busybox:" + "a" * 199 + "!")  # a 200-character tag pushed the reason off screen (issue 15)
def test_a_name_validate_accepts_is_one_the_engine_accepts(text: str) -> None:
    """`validate` answers (repository, tag) or a BadReference sentence, and never lets through a name the
    engine refuses. If it broke, the tag dialog (t) or a pull (P) would crash, or would accept a name and
    then show the engine's "invalid reference format" instead of saying what is wrong before sending it."""
    try:
        repository, tag = validate(text)
    except BadReference as bad:
        assert str(bad) and problem(text) == str(bad)
        assert len(str(bad)) <= 200, "the reason must fit on screen after the input's echo (issue 15)"
        return
    assert engine_reference(text.strip()) == (repository, tag), text
    assert problem(text) is None


@given(repositories(), st.none() | tags)
def test_a_valid_reference_formatted_and_parsed_again_is_the_same(repository: str, tag: str | None) -> None:
    """Every name the engine takes, with or without a tag, is accepted and split into the same repository
    and tag; and the split, formatted again, reads the same. If it broke, the tag dialog would refuse a good
    name (a registry with a port, a nested path) or tag the image under another name."""
    text = repository if tag is None else f"{repository}:{tag}"
    assert validate(text) == (repository, tag or "latest")
    assert validate(f" {text}\t") == (repository, tag or "latest"), "surrounding blanks are not the name"
    again = "{}:{}".format(*validate(text))
    assert validate(again) == validate(text)


@given(st.one_of(reference_like, st.builds("{}@{}".format, repositories(), st.text(max_size=140))))
@example("busybox@sha256:" + "0" * 32)  # a sha256 digest is 64 hex digits
@example("busybox@1:" + "0" * 64)  # an algorithm begins with a letter
@example("busybox@sha256:" + "A" * 64)  # the engine takes lowercase hex only
def test_a_pull_reference_is_taken_only_when_the_engine_takes_it(text: str) -> None:
    """`validate_pull` answers (repository, tag or digest) that the engine takes too, or a BadReference.
    If it broke, a pull by a bad digest would start a job that fails with the engine's words."""
    try:
        repository, reference = validate_pull(text)
    except BadReference as bad:
        assert str(bad)
        return
    name = text.strip()
    if "@" in name:
        assert name == f"{repository}@{reference}" and engine_name(repository)
        assert re.fullmatch(_ENGINE_DIGEST, reference), reference
    else:
        assert engine_reference(name) == (repository, reference)


@given(repositories(), digests)
def test_a_pull_by_digest_round_trips(repository: str, digest: str) -> None:
    """NAME@DIGEST as the registry view offers it (one platform of an index) is pulled by that digest. If it
    broke, pulling one platform would be refused or pull another image."""
    assert validate_pull(f"{repository}@{digest}") == (repository, digest)


@given(domains, st.lists(components, min_size=1, max_size=3).map("/".join),
       st.one_of(tags.map(lambda t: ":" + t), digests.map(lambda d: "@" + d)))  # fmt: skip
def test_imgtui_analyze_reads_a_registry_reference_back(host: str, path: str, reference: str) -> None:
    """`imgtui analyze HOST/REPO[:TAG|@DIGEST]` asks that registry for that repository and reference. If it
    broke, `imgtui analyze` would read another repository or tag than the one named."""
    assert registry_reference(f"{host}/{path}{reference}") == (host, path, reference[1:])
    if reference.startswith(":"):
        assert registry_reference(f"{host}/{path}") == (host, path, "latest")


@given(st.text())
def test_imgtui_analyze_tells_a_registry_from_a_local_name(target: str) -> None:
    """Any target is either a local name (None) or (host, repository, reference) with a host that names a
    registry. If it broke, `imgtui analyze` would crash on an odd argument."""
    found = registry_reference(target)
    if found is not None:
        host, repository, reference = found
        assert target.startswith(host + "/") and reference
        assert "." in host or ":" in host or host == "localhost"


# --- registry manifests and image configs -----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
MANIFEST_KEYS = ["mediaType", "config", "layers", "manifests", "history", "fsLayers", "digest", "size",
                 "platform", "os", "architecture", "variant", "v1Compatibility", "blobSum", "created",
                 "created_by", "empty_layer", "comment", "container_config", "Cmd"]  # fmt: skip
shaped = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(["", "sha256:ab"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(MANIFEST_KEYS) | st.text(max_size=5), inner, max_size=6)
    ),
    max_leaves=20,
)
"""JSON whose keys are mostly the ones a manifest or config has, with values of every type."""
media_types = st.sampled_from(
    [DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX, SCHEMA1, "application/json", ""]
)
hexdigests = st.binary(min_size=1, max_size=8).map(lambda b: "sha256:" + hashlib.sha256(b).hexdigest())


def check_manifest(manifest: Manifest) -> None:
    assert manifest.size >= 0 and manifest.layers_size >= 0
    assert all(isinstance(d, str) and size >= 0 for d, size in manifest.layers)
    assert all(p.size >= 0 and isinstance(p.platform, str) for p in manifest.platforms)
    assert isinstance(manifest.config_digest, str) and all(
        isinstance(h, str) for h in manifest.schema1_history
    )


@given(media_types, st.one_of(st.dictionaries(st.text(max_size=10), json_values), shaped.filter(
    lambda v: isinstance(v, dict))))  # fmt: skip
@example(DOCKER_MANIFEST, {"layers": [{"digest": "sha256:ab", "size": "many"}]})
@example(DOCKER_MANIFEST, {"layers": [{"digest": "sha256:ab", "size": -5}]})
@example(DOCKER_MANIFEST, {"layers": [{"size": [1]}]})
@example(DOCKER_MANIFEST, {"config": "sha256:ab"})
@example(DOCKER_MANIFEST, {"layers": 5})
@example(OCI_INDEX, {"manifests": [{"size": {"a": 1}}]})
@example(OCI_INDEX, {"manifests": True})
@example(SCHEMA1, {"history": ["not an object"]})
@example(SCHEMA1, {"fsLayers": [None]})
def test_any_manifest_body_is_a_manifest_or_a_registry_error(media: str, body: dict[str, Any]) -> None:
    """Whatever JSON object a registry answers for a manifest, it is read as a Manifest whose sizes are not
    negative, or refused with a RegistryError. If it broke, the registry view's tags pane would show a
    traceback's words (or a negative size) for an odd or broken registry."""
    try:
        manifest = parse_manifest("sha256:" + "0" * 64, media, 10, body)
    except RegistryError as error:
        assert str(error)
        return
    check_manifest(manifest)


platform_dicts = st.fixed_dictionaries(
    {"os": st.sampled_from(["linux", "windows"]), "architecture": st.sampled_from(["amd64", "arm64", "arm"])},
    optional={"variant": st.sampled_from(["v7", "v8"])},
)


@given(st.lists(st.tuples(hexdigests, st.integers(0, 1 << 40)), max_size=8), hexdigests,
       st.sampled_from([DOCKER_MANIFEST, OCI_MANIFEST]))  # fmt: skip
def test_an_image_manifest_reads_back_its_layers(
    layers: list[tuple[str, int]], config: str, media: str
) -> None:
    """An image manifest's config digest and (digest, size) layers are read in order. If it broke, the
    registry view would show wrong sizes, or the layer contents of another layer."""
    body = {"mediaType": media, "config": {"digest": config, "size": 7},
            "layers": [{"digest": d, "size": s, "mediaType": "x"} for d, s in layers]}  # fmt: skip
    manifest = parse_manifest("sha256:m", media, 123, body)
    assert manifest.layers == tuple(layers) and manifest.config_digest == config and not manifest.is_index
    assert manifest.layers_size == sum(s for _, s in layers)


@given(st.lists(st.tuples(hexdigests, st.integers(0, 1 << 20), platform_dicts), max_size=6),
       st.sampled_from([DOCKER_LIST, OCI_INDEX]))  # fmt: skip
def test_an_index_reads_back_its_platforms(
    entries: list[tuple[str, int, dict[str, str]]], media: str
) -> None:
    """An index's entries are read in order as os/architecture[/variant]. If it broke, the registry view
    would list the wrong platforms of a multi-platform tag, or pull another one."""
    body = {
        "manifests": [
            {"digest": d, "size": s, "mediaType": OCI_MANIFEST, "platform": p} for d, s, p in entries
        ]
    }
    manifest = parse_manifest("sha256:i", media, 1, body)
    assert manifest.is_index and manifest.layers_size == 0
    assert [(p.digest, p.size, p.platform) for p in manifest.platforms] == [
        (d, s, "/".join([p["os"], p["architecture"]] + ([p["variant"]] if "variant" in p else [])))
        for d, s, p in entries
    ]


@given(shaped, st.lists(st.tuples(hexdigests, st.integers(0, 1 << 30)), max_size=5))
@example(5, [])
@example({"a": 1}, [("sha256:ab", 1)])
@example([{"created": 5, "created_by": ["RUN", "x"]}], [])
def test_any_history_is_rows_or_a_registry_error(entries: Any, layers: list[tuple[str, int]]) -> None:
    """An image config's history, whatever its shape, becomes rows (each layer of the manifest in exactly
    one, in order), or a RegistryError. If it broke, the registry view's history pane would crash or lose a
    layer's size."""
    try:
        rows = parse_history(entries, tuple(layers))
    except RegistryError as error:
        assert str(error)
        return
    made = [(r.digest, r.size) for r in reversed(rows) if r.size is not None and r.digest]
    assert made == [(d, s) for d, s in layers if d]
    assert all(r.size is None or r.size >= 0 for r in rows)


@given(st.lists(st.tuples(st.text(max_size=30), st.booleans()), max_size=10), st.integers(0, 10))
def test_history_pairs_each_layer_with_the_step_that_made_it(
    steps: list[tuple[str, bool]], extra: int
) -> None:
    """The history rows that made a layer are paired with the manifest's layers bottom first, newest row
    first in the answer; layers without history come last. If it broke, the history pane would put each
    layer's size beside another step."""
    made = [command for command, empty in steps if not empty]
    layers = tuple((f"sha256:{n}", n) for n in range(len(made) + extra))
    history = [{"created_by": c, "empty_layer": True} if e else {"created_by": c} for c, e in steps]
    rows = list(reversed(parse_history(history, layers)))
    assert [(r.created_by, r.digest) for r in rows if r.size is not None][: len(made)] == [
        (c, d) for c, (d, _) in zip(made, layers)
    ]
    assert [r.digest for r in rows if r.size is not None] == [d for d, _ in layers]


@given(
    st.lists(st.one_of(st.text(max_size=40), json_values.map(json.dumps), shaped.map(json.dumps)), max_size=5)
)
@example(['"a string"'])
@example(["[1, 2]"])
@example(['{"container_config": [1]}'])
@example('{"container_config": {"Cmd": [1, null]}}'.split("\n"))
@example(['{"container_config": {"Cmd": "ls -l"}}'])
@example(['{"os": null, "created": 5}'])
def test_a_schema1_history_is_a_config_or_a_registry_error(history: list[str]) -> None:
    """An old schema 1 manifest's v1Compatibility strings, whatever they hold, become an image config or a
    RegistryError. If it broke, opening an old image's history in the registry view would crash."""
    manifest = Manifest("sha256:old", SCHEMA1, 1, layers=(), schema1_history=tuple(history))
    try:
        config = schema1_config(manifest)
    except RegistryError as error:
        assert str(error)
        return
    assert len(config.history) == len(history) and isinstance(config.platform, str)
    assert all(isinstance(row.created_by, str) for row in config.history)


@given(json_values)
@example("2024-01-02T03:04:05.123456789Z")
@example("2024-01-02T03:04:05.Z")
@example(".")
def test_a_time_is_a_datetime_or_none_and_a_platform_is_text(value: Any) -> None:
    """A config's `created` is a time or unknown, its platform a text. If it broke, a tag with an odd date
    would crash the registry view's tags pane."""
    parse_time(value)
    assert isinstance(platform_text(value), str)


history_entries = st.fixed_dictionaries(
    {}, optional={"created_by": st.text(max_size=10) | shaped, "empty_layer": st.booleans() | shaped}
)


@given(
    st.one_of(
        st.dictionaries(st.sampled_from(["history", "rootfs"]) | st.text(max_size=5), shaped, max_size=3),
        st.fixed_dictionaries({"history": st.lists(history_entries | shaped, max_size=8)}),
    ),
    st.integers(0, 12),
)
@example({"history": [{"created_by": "RUN x"}]}, 0)
def test_the_command_of_each_layer(config: dict[str, Any], layers: int) -> None:
    """`commands_of` gives exactly one created-by line per layer, whatever the config's history holds. If it
    broke, the layers pane would label a layer with another layer's command, or crash."""
    commands = commands_of(config, layers)
    assert len(commands) == layers and all(isinstance(c, str) for c in commands)


# --- layer tars and image archives --------------------------------------------------------------------------

name_parts: st.SearchStrategy[str] = st.text(
    string.ascii_letters + string.digits + "._-{} é", min_size=1, max_size=12
).filter(lambda p: p not in (".", "..") and not p.startswith(".wh."))
paths = st.lists(name_parts, min_size=1, max_size=3).map("/".join)
KIND_TYPES = {Kind.FILE: tarfile.REGTYPE, Kind.DIR: tarfile.DIRTYPE, Kind.SYMLINK: tarfile.SYMTYPE,
              Kind.HARDLINK: tarfile.LNKTYPE, Kind.DEVICE: tarfile.CHRTYPE,
              Kind.FIFO: tarfile.FIFOTYPE}  # fmt: skip


@st.composite
def entries(draw: st.DrawFn, path: str) -> tuple[str, Entry]:
    """(the member name as written, the Entry it must read back as)."""
    kind = draw(st.sampled_from(list(Kind)))
    size = draw(st.integers(0, 3000)) if kind is Kind.FILE else 0
    mode = draw(st.integers(0, 0o7777))
    uid, gid = draw(st.integers(0, 70000)), draw(st.integers(0, 70000))
    target = ""
    if kind is Kind.SYMLINK:
        target = draw(st.text(string.ascii_letters + "./-é", min_size=1, max_size=120))
    elif kind is Kind.HARDLINK:
        target = draw(paths)
    name = (
        draw(st.sampled_from(["", "./", "/"]))
        + path
        + ("/" if kind is Kind.DIR and draw(st.booleans()) else "")
    )
    expected_target = normal_path(target) if kind is Kind.HARDLINK else target
    return name, Entry(normal_path(path), kind, size, mode, uid, gid, expected_target)


@st.composite
def layer_specs(
    draw: st.DrawFn, names: st.SearchStrategy[str] = paths, most: int = 12, removed: int = 4, opaques: int = 2
) -> tuple[list[tuple[str, Entry]], list[str], list[str]]:
    """Members (unique paths) and whiteouts: removed paths and opaque directories."""
    chosen = draw(st.lists(names, max_size=most, unique_by=normal_path))
    members = [draw(entries(p)) for p in chosen]
    taken = {normal_path(p) for p in chosen}
    whiteouts = draw(
        st.lists(names.filter(lambda p: normal_path(p) not in taken), max_size=removed, unique_by=normal_path)
    )
    opaque = draw(st.lists(names, max_size=opaques, unique_by=normal_path))
    return members, [normal_path(w) for w in whiteouts], [normal_path(o) for o in opaque]


def tar_of(members: list[tuple[tarfile.TarInfo, bytes]], form: int) -> bytes:
    out = io.BytesIO()
    try:
        with tarfile.open(fileobj=out, mode="w", format=form) as tar:
            for info, data in members:
                tar.addfile(info, io.BytesIO(data))
    except ValueError:  # a name too long for ustar
        return tar_of(members, tarfile.PAX_FORMAT)
    return out.getvalue()


def content(path: str, size: int) -> bytes:
    """A file's bytes, telling which file they are."""
    label = path.encode() + b"|"
    return (label * (size // len(label) + 1))[:size]


def layer_tar(spec: tuple[list[tuple[str, Entry]], list[str], list[str]], form: int) -> bytes:
    members, removed, opaque = spec
    infos: list[tuple[tarfile.TarInfo, bytes]] = []
    for name, entry in members:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.uid, info.gid = KIND_TYPES[entry.kind], entry.mode, entry.uid, entry.gid
        info.linkname = entry.target
        info.size = entry.size
        infos.append((info, content(entry.path, entry.size)))
    for path in removed:
        parent, _, base = path.rpartition("/")
        infos.append((tarfile.TarInfo(f"{parent}/.wh.{base}".lstrip("/")), b""))
    for path in opaque:
        infos.append((tarfile.TarInfo(path.lstrip("/") + "/.wh..wh..opq"), b""))
    return tar_of(infos, form)


def zstd_frames(data: bytes, cuts: list[int]) -> bytes:
    """`data` as zstd frames of raw (stored) blocks, cut into frames at `cuts`: what a zstd-compressed layer
    is, without needing a compressor."""
    out = b""
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for start, end in zip(bounds, bounds[1:] or [0]):
        chunk = data[start:end]
        frame = b"\x28\xb5\x2f\xfd" + bytes([0x00, 7 << 3])  # no content size, a 128 KiB window
        blocks = [chunk[n : n + (1 << 17)] for n in range(0, len(chunk), 1 << 17)] or [b""]
        for n, block in enumerate(blocks):
            last = 1 if n == len(blocks) - 1 else 0
            frame += (last | (len(block) << 3)).to_bytes(3, "little") + block
        out += frame
    return out


def has_zstd() -> bool:
    try:
        from imgtui.layers.reading import _zstd

        _zstd()
    except LayerError:
        return False
    return True


compressions = st.sampled_from(["plain", "gzip", "gzip-members", "zstd"])


def compress(data: bytes, how: str, cut: int) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "gzip-members":  # pigz and friends: concatenated members
        at = cut % (len(data) + 1)
        return gzip.compress(data[:at], mtime=0) + gzip.compress(data[at:], mtime=0)
    if how == "zstd":
        return zstd_frames(data, [cut])
    return data


forms = st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])


class Unseekable:
    """A stream that can only be read, as the engine's save stream and a registry blob are."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)

    def seekable(self) -> bool:
        return False

    def __enter__(self) -> Unseekable:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def source(data: bytes, seekable: bool) -> IO[bytes]:
    """A real file (seeks past what is skipped) or a stream that can only be read."""
    if not seekable:
        return Unseekable(data)  # type: ignore[return-value]
    handle = tempfile.TemporaryFile()
    handle.write(data)
    handle.seek(0)
    return handle  # type: ignore[return-value]


def expected_index(spec: tuple[list[tuple[str, Entry]], list[str], list[str]], digest: str) -> LayerIndex:
    members, removed, opaque = spec
    return LayerIndex(digest, tuple(e for _, e in members if e.path != "/"), tuple(removed), tuple(opaque))


Spec = tuple[list[tuple[str, Entry]], list[str], list[str]]
ONE_FILE: Spec = ([("a", Entry("/a", Kind.FILE, 3000, 0o644, 0, 0))], [], [])


@given(layer_specs(), forms, compressions, st.integers(0, 1 << 16), st.booleans())
def test_a_layer_reads_back_as_its_entries_and_whiteouts(
    spec: tuple[list[tuple[str, Entry]], list[str], list[str]], form: int, how: str, cut: int, seekable: bool
) -> None:
    """A layer tar (ustar, GNU or PAX; plain, gzip, several gzip members, zstd) built from generated entries
    reads back as exactly those entries (path, kind, size, mode, owner, link target) and whiteouts. If it
    broke, a layer's contents view would miss or misstate files, or count wasted bytes wrongly."""
    data = compress(layer_tar(spec, form), how, cut)
    with bounded(), source(data, seekable) as raw:
        if how == "zstd" and not has_zstd():
            with pytest.raises(LayerError, match="zstandard"):
                read_layer(raw, "sha256:l")
            return
        index = read_layer(raw, "sha256:l")
    assert index == expected_index(spec, "sha256:l")
    assert index.content_bytes == sum(e.size for _, e in spec[0]) >= 0


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data)
    for at, value in edits:
        if out:
            out[at % len(out)] = value
    if cut is not None:
        out = out[: cut % (len(out) + 1)]
    return bytes(out)


edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=4)
cuts = st.none() | st.integers(0, 1 << 20)


@given(layer_specs(), forms, compressions, st.integers(0, 1 << 16), edits, cuts, st.booleans())
@example(ONE_FILE, tarfile.GNU_FORMAT, "zstd", 0, [(5, 0xFF)], None, True)  # ZstdError got out of read_layer
@example(([], [], []), tarfile.USTAR_FORMAT, "zstd", 0, [(7, 0)], None, False)  # ZstdError: unknown frame
@example(([], [], []), tarfile.USTAR_FORMAT, "zstd", 0, [(4, 1)], None, False)  # ZstdError: dictionary
@example(([], [], ["/0"]), tarfile.USTAR_FORMAT, "gzip", 0, [], 0, False)  # cut to nothing: an empty tar
def test_a_broken_layer_is_a_layer_error(
    spec: tuple[list[tuple[str, Entry]], list[str], list[str]],
    form: int,
    how: str,
    cut: int,
    changes: list[tuple[int, int]],
    truncate: int | None,
    seekable: bool,
) -> None:
    """A layer tar with bytes changed or cut off reads as some index or raises LayerError, quickly. Cut off
    inside a member or inside a compressed stream, it is a LayerError; cut between two members of a plain
    tar (where a tar without its end blocks ends too, which Go's and Python's readers take) it is the
    members before the cut, nothing else. If it broke, opening a damaged layer would crash the contents
    view, hang it, or show a layer's files with wrong sizes or from the wrong place."""
    whole = compress(layer_tar(spec, form), how, cut)
    data = mutate(whole, changes, truncate)
    with bounded(), source(data, seekable) as raw:
        try:
            index = read_layer(raw, "sha256:l")
        except LayerError as error:
            assert str(error)
            return
    assert index.content_bytes >= 0 and all(e.size >= 0 for e in index.entries)
    if not changes and truncate is not None and len(data) < len(whole):
        expected = expected_index(spec, "sha256:l")
        if how != "plain" and data:  # (nothing at all is an empty tar, as Go's and Python's readers take it)
            assert index == expected, "a compressed layer cut short is an error unless only its end is gone"
        read = [*index.entries, *index.removed, *index.opaque]  # the order layer_tar writes them in
        assert read == [*expected.entries, *expected.removed, *expected.opaque][: len(read)]


@given(st.binary(max_size=3000), st.booleans())
@example(b"0" * 124 + b"99999999999\0" + b"\0" * 20 + b"ustar\0", True)
def test_any_bytes_are_a_layer_or_a_layer_error(data: bytes, seekable: bool) -> None:
    """Bytes that are no layer at all make a LayerError. If it broke, opening a corrupt layer would show a
    traceback or hang."""
    with bounded(), source(data, seekable) as raw:
        try:
            read_layer(raw, "sha256:x")
        except LayerError as error:
            assert str(error)


@given(layer_specs(), forms, compressions, st.integers(0, 1 << 16), st.none() | st.integers(0, 3000),
       edits, cuts, st.integers(0, 20))  # fmt: skip
@example(ONE_FILE, tarfile.GNU_FORMAT, "gzip", 0, None, [(20, 0xFF)], None, 0)  # zlib.error got out
@example(ONE_FILE, tarfile.GNU_FORMAT, "zstd", 0, None, [(5, 0xFF)], None, 0)  # so did ZstdError
def test_one_file_comes_out_of_a_layer_whole_or_as_a_layer_error(
    spec: tuple[list[tuple[str, Entry]], list[str], list[str]],
    form: int,
    how: str,
    cut: int,
    limit: int | None,
    changes: list[tuple[int, int]],
    truncate: int | None,
    pick: int,
) -> None:
    """A regular file of a layer comes out as exactly its bytes (at most `limit` of them), a path the layer
    has no regular file at is NotFound; a damaged layer is a LayerError, never another exception. If it
    broke, the file view (and saving a file out of a layer) would show another file's bytes, a cut file, or
    a traceback."""
    layer = compress(layer_tar(spec, form), how, cut)
    if how == "zstd" and not has_zstd():
        return
    files = [e for _, e in spec[0] if e.kind is Kind.FILE and e.path != "/"]
    with bounded():
        if files:
            wanted = files[pick % len(files)]
            out = io.BytesIO()
            assert file_from_layer(io.BytesIO(layer), wanted.path, out, limit=limit) == wanted.size
            assert out.getvalue() == content(wanted.path, wanted.size)[:limit]
        with pytest.raises(NotFound):
            file_from_layer(io.BytesIO(layer), "/no/such/file", io.BytesIO())
        broken = mutate(layer, changes, truncate)
        try:
            file_from_layer(io.BytesIO(broken), files[0].path if files else "/a", io.BytesIO(), limit=limit)
        except LayerError as error:
            assert str(error)


def header(
    name: bytes = b"a", kind: bytes = b"0", size: bytes = b"0", magic: bytes = b"ustar\x0000"
) -> bytes:
    """One raw tar header block with any field, its checksum right."""
    block = bytearray(512)
    block[0 : len(name)] = name
    block[100:108] = b"0000644\0"
    block[124 : 124 + len(size)] = size
    block[156:157] = kind
    block[257 : 257 + len(magic)] = magic
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def pax(records: bytes) -> bytes:
    return header(b"pax", b"x", b"%011o" % len(records)) + records + bytes(-len(records) % 512)


TAR_EXAMPLES = [
    pax(b"0 x") + header(),  # a record of length 0: the reader would never move on
    pax(b"-9 path=a\n") + header(),  # a negative length
    pax(b"11 path=\xff\n") + header(),  # not UTF-8
    pax(b"12 size=-70\n") + header(),  # a negative size
    pax(b"11 uid=abc\n") + header(),
    header(size=b"\x80" + b"\xff" * 11),  # base-256: a size no file has
    header(b"L", b"L", b"\x80" + b"\x00" * 8 + b"\xff" * 3),  # a long name of 16 MiB
    header(size=b"0000000009x"),  # not octal
    header(size=b"00000001000") + b"abc",  # cut inside the member's data
    header(b"././@LongLink", b"L", b"00000001000") + b"abc",  # cut inside a long name
]


@given(st.binary(max_size=2000) | st.sampled_from(TAR_EXAMPLES).flatmap(
    lambda b: st.builds(mutate, st.just(b), edits, cuts)), st.booleans())  # fmt: skip
def test_any_bytes_are_members_or_a_tar_error(data: bytes, seekable: bool) -> None:
    """The header scanner answers members with sizes not negative, or raises TarError, quickly. If it broke,
    reading a damaged archive or layer would crash or hang, or allocate whatever a header claims."""
    with bounded(), source(data, seekable) as raw:
        try:
            for found, body in scan(Reader(raw)):
                assert found.size >= 0 and found.uid >= 0 and found.gid >= 0
                body.read(10)
        except TarError as error:
            assert str(error)


for _data in TAR_EXAMPLES:
    test_any_bytes_are_members_or_a_tar_error = example(_data, True)(  # type: ignore[assignment]
        example(_data, False)(test_any_bytes_are_members_or_a_tar_error)
    )


# --- image archives: docker save (legacy layout), OCI layout, both ----------------------------------------


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, len(data) if kind == tarfile.REGTYPE else 0, link
    return info, data


def image_archive(
    layers: list[bytes], layout: str, commands: list[str], shared: bool, how: str
) -> tuple[bytes, list[str]]:
    """An image archive of these layer tars, as `docker save` writes it (`legacy`: N/layer.tar and
    manifest.json; `oci`: blobs and index.json; `both`: Docker 25's OCI layout with a manifest.json), the
    last layer written twice when `shared` (docker links the second); and the layers' diff IDs."""
    if shared and layers:
        layers = layers + [layers[-1]]
    diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t in layers]
    history = [{"created_by": c} for c in commands] + [{"created_by": "ENV x", "empty_layer": True}]
    config = json.dumps({"architecture": "amd64", "os": "linux", "history": history,
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()  # fmt: skip
    config_hex = hashlib.sha256(config).hexdigest()
    members: list[tuple[tarfile.TarInfo, bytes]] = []
    keys: list[str] = []
    if layout == "legacy":
        for n, tar in enumerate(layers):
            v1 = hashlib.sha256(b"%d" % n + tar).hexdigest()
            key = f"{v1}/layer.tar"
            if key in keys:
                members.append(member(f"{v1}x/layer.tar", kind=tarfile.SYMTYPE, link=f"../{v1}/layer.tar"))
                key = f"{v1}x/layer.tar"
            else:
                members += [member(f"{v1}/", kind=tarfile.DIRTYPE), member(f"{v1}/VERSION", b"1.0"),
                            member(f"{v1}/json", b"{}"), member(key, tar)]  # fmt: skip
            keys.append(key)
        members.append(member(f"{config_hex}.json", config))
        manifest = [{"Config": f"{config_hex}.json", "RepoTags": ["test/image:1"], "Layers": keys}]
        members.append(member("manifest.json", json.dumps(manifest).encode()))
        members.append(member("repositories", b'{"test/image": {"1": "x"}}'))
        return tar_of(members, tarfile.PAX_FORMAT), diff_ids
    blobs = {f"blobs/sha256/{config_hex}": config}
    descriptors = []
    for tar in layers:
        blob = compress(tar, how, len(tar) // 2)
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        key = f"blobs/sha256/{digest[7:]}"
        if key in blobs and shared:
            blobs[key + "x"] = b""  # never read: the links below
        blobs[key] = blob
        descriptors.append(
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": len(blob)}
        )
        keys.append(key)
    image = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": descriptors,
                        "config": {"digest": "sha256:" + config_hex,
                                   "size": len(config)}}).encode()  # fmt: skip
    image_hex = hashlib.sha256(image).hexdigest()
    blobs[f"blobs/sha256/{image_hex}"] = image
    named = {"io.containerd.image.name": "docker.io/test/image:1"}
    index = {"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + image_hex,
                                                "size": len(image), "annotations": named}]}  # fmt: skip
    members = [member("blobs/", kind=tarfile.DIRTYPE), member("blobs/sha256/", kind=tarfile.DIRTYPE)]
    members += [member(k, v) for k, v in blobs.items() if not k.endswith("x")]
    members += [
        member("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
        member("index.json", json.dumps(index).encode()),
    ]
    if layout == "both":
        manifest = [{"Config": f"blobs/sha256/{config_hex}", "RepoTags": ["test/image:1"], "Layers": keys}]
        members.append(member("manifest.json", json.dumps(manifest).encode()))
    return tar_of(members, tarfile.PAX_FORMAT), diff_ids


layouts = st.sampled_from(["legacy", "oci", "both"])
archive_compressions = st.sampled_from(["plain", "gzip", "gzip-members"])


@given(st.lists(layer_specs(), max_size=4), layouts, archive_compressions, st.booleans(), st.booleans())
@example([([("{", Entry("/{", Kind.FILE, 3, 0o644, 0, 0))], [], [])], "oci", "plain", False, True)
def test_an_image_archive_reads_back_as_its_layers(
    specs: list[tuple[list[tuple[str, Entry]], list[str], list[str]]],
    layout: str,
    how: str,
    shared: bool,
    seekable: bool,
) -> None:
    """An image archive (docker save's legacy layout, the OCI layout, both) of generated layers reads back
    as exactly those layers in order, each under its diff ID, with each layer's command. If it broke, `imgtui
    analyze` and the contents view (enter on a layer) would show another image's or a partial set of files."""
    tars = [layer_tar(s, tarfile.GNU_FORMAT) for s in specs]
    commands = [f"RUN step {n}" for n in range(len(tars) + shared)]
    data, diff_ids = image_archive(tars, layout, commands, shared, how)
    with bounded(), source(data, seekable) as raw:
        layers, config, keys = read_archive(raw).image("test/image:1")
    wanted = [expected_index(s, d) for s, d in zip(specs + specs[-1:] * shared, diff_ids)]
    assert layers == wanted
    for n, layer in enumerate(layers):  # one file out of each layer, as the file view takes it
        for entry in [e for e in layer.entries if e.kind is Kind.FILE][:1]:
            out = io.BytesIO()
            assert file_from_archive(io.BytesIO(data), keys[n], entry.path, out) == entry.size
            assert out.getvalue() == content(entry.path, entry.size)
    assert commands_of(config, len(layers)) == commands[: len(layers)]
    assert len(keys) == len(layers)


@given(st.lists(layer_specs(), min_size=1, max_size=3), layouts, archive_compressions, st.booleans(), edits,
       cuts, st.booleans())  # fmt: skip
def test_a_broken_image_archive_is_a_layer_error(
    specs: list[tuple[list[tuple[str, Entry]], list[str], list[str]]],
    layout: str,
    how: str,
    shared: bool,
    changes: list[tuple[int, int]],
    truncate: int | None,
    seekable: bool,
) -> None:
    """An image archive with bytes changed or cut off is read as an image or raises LayerError, quickly. If
    it broke, `imgtui analyze FILE` or the contents view would print a traceback or hang on a damaged
    archive instead of saying it cannot be read."""
    tars = [layer_tar(s, tarfile.GNU_FORMAT) for s in specs]
    data, _ = image_archive(tars, layout, ["RUN x"] * (len(tars) + shared), shared, how)
    data = mutate(data, changes, truncate)
    with bounded(), source(data, seekable) as raw:
        try:
            layers, config, keys = read_archive(raw).image(None)
            result = analyze("broken", layers, commands_of(config, len(layers)), keys)
        except LayerError as error:
            assert str(error)
            return
    assert 0 <= result.wasted_bytes <= result.size_bytes


def oci_json(index: Any, blobs: dict[str, Any]) -> bytes:
    members = [member("index.json", json.dumps(index).encode())]
    members += [member(f"blobs/sha256/{k}", json.dumps(v).encode()) for k, v in blobs.items()]
    return tar_of(members, tarfile.PAX_FORMAT)


@given(shaped, st.dictionaries(st.sampled_from(["a" * 64, "b" * 64]), shaped, max_size=2), shaped)
@example(
    {"manifests": [{"digest": "sha256:" + "a" * 64}]},
    {"a" * 64: {"manifests": [{"digest": "sha256:" + "a" * 64}]}},
    None,
)
@example({"manifests": [{"nodigest": 1}]}, {}, None)
@example({"manifests": [{"digest": 5}]}, {}, None)
@example(
    {"manifests": [{"digest": "sha256:" + "a" * 64}]}, {"a" * 64: {"layers": [{"x": 1}], "config": "c"}}, None
)
@example({"manifests": [{"digest": "sha256:" + "a" * 64}]}, {"a" * 64: {"layers": 5}}, None)
@example(None, {}, [{"Layers": 5}])
@example(None, {}, ["not an object"])
@example(None, {}, [{"Config": "c.json", "Layers": []}])
def test_any_archive_json_is_an_image_or_a_layer_error(
    index: Any, blobs: dict[str, Any], manifest: Any
) -> None:
    """An archive whose index.json, manifest.json and blobs hold any JSON is an image or a LayerError. If it
    broke, opening an odd archive (another tool's OCI layout, a hand-edited one) would crash."""
    members = [member("index.json", json.dumps(index).encode())]
    members += [member(f"blobs/sha256/{k}", json.dumps(v).encode()) for k, v in blobs.items()]
    if manifest is not None:
        members.append(member("manifest.json", json.dumps(manifest).encode()))
    members.append(member("c.json", json.dumps(blobs.get("b" * 64)).encode()))
    data = tar_of(members, tarfile.PAX_FORMAT)
    with bounded():
        try:
            layers, config, keys = read_archive(io.BytesIO(data)).image(None)
        except LayerError as error:
            assert str(error)
            return
    assert isinstance(config, dict) and len(keys) == len(layers)


# --- stacking layers: what the final image shows and what it wastes ---------------------------------------

small_paths = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3).map(
    lambda p: "/" + "/".join(p)
)


@st.composite
def stacked(draw: st.DrawFn) -> list[LayerIndex]:
    """Layers over a few paths, so that later layers overwrite, delete and hide what earlier ones wrote."""
    layers = []
    for n in range(draw(st.integers(0, 5))):
        written = draw(st.lists(small_paths, max_size=6, unique=True))
        made = tuple(Entry(p, draw(st.sampled_from([Kind.FILE, Kind.DIR, Kind.SYMLINK])), 0, 0o644, 0, 0)
                     for p in written)  # fmt: skip
        made = tuple(e._replace(size=draw(st.integers(0, 1000))) if e.kind is Kind.FILE else e for e in made)
        removed = tuple(draw(st.lists(small_paths, max_size=2, unique=True)))
        opaque = tuple(draw(st.lists(small_paths, max_size=1)))
        layers.append(LayerIndex(f"sha256:{n}", made, removed, opaque))
    return layers


def model(layers: list[LayerIndex]) -> tuple[dict[str, tuple[Entry, int]], list[tuple[str, int, int, int]]]:
    """The OCI image spec's rules, written plainly: what is visible at the end, and every hidden version."""
    visible: dict[str, tuple[Entry, int]] = {}
    hidden: list[tuple[str, int, int, int]] = []

    def drop(path: str, under_only: bool, by: int) -> None:
        for p in [
            p for p in visible if p.startswith(path.rstrip("/") + "/") or (p == path and not under_only)
        ]:
            entry, layer = visible.pop(p)
            if entry.size:
                hidden.append((p, entry.size, layer, by))

    for n, layer in enumerate(layers):
        for directory in layer.opaque:
            drop(directory, True, n)
        for path in layer.removed:
            drop(path, False, n)
        for entry in layer.entries:
            before = visible.get(entry.path)
            if before is not None and before[0].kind is Kind.DIR and entry.kind is not Kind.DIR:
                drop(entry.path, True, n)
            if before is not None and before[0].size:
                hidden.append((entry.path, before[0].size, before[1], n))
            visible[entry.path] = (entry, n)
    return visible, hidden


@given(stacked())
@example([LayerIndex("sha256:0", (Entry("/a", Kind.DIR, 0, 0, 0, 0), Entry("/a/b", Kind.FILE, 5, 0, 0, 0))),
          LayerIndex("sha256:1", (Entry("/a", Kind.FILE, 1, 0, 0, 0),))])  # fmt: skip
@example([LayerIndex("sha256:0", (Entry("/a/a/a", Kind.FILE, 1, 0, 0, 0),)),  # no entries for /a, /a/a
          LayerIndex("sha256:1", (), (), ("/a",))])  # fmt: skip
@example([LayerIndex("sha256:0", (Entry("/a/b", Kind.FILE, 1, 0, 0, 0),)),
          LayerIndex("sha256:1", (), ("/a",))])  # fmt: skip
def test_waste_is_every_hidden_version_and_adds_up(layers: list[LayerIndex]) -> None:
    """The wasted versions are exactly those the layers' rules hide (overwritten, deleted, under an opaque
    directory, under a directory a file replaced), and the layers' bytes are the wasted ones plus the ones
    the final image shows. If it broke, the waste figure (and `imgtui analyze --max-wasted`) would be
    wrong."""
    result = analyze("t", layers)
    visible, hidden = model(layers)
    assert sorted((w.path, w.bytes, w.written_by, w.hidden_by) for w in result.wasted) == sorted(hidden)
    assert result.size_bytes == result.wasted_bytes + sum(e.size for e, _ in visible.values())
    assert 0 <= result.wasted_bytes <= result.size_bytes and 0.0 <= result.efficiency <= 1.0
    assert [w.bytes for w in result.wasted] == sorted((w.bytes for w in result.wasted), reverse=True)


# --- the layer cache: what it keeps reads back, and a damaged file is a miss --------------------------------


@given(layer_specs(), shaped)
@example(([], [], []), {"paths": ["/a"], "kinds": "z"})
@example(([], [], []), {"paths": 5})
def test_the_cache_gives_back_a_layer_or_nothing(
    spec: tuple[list[tuple[str, Entry]], list[str], list[str]], junk: Any
) -> None:
    """A layer kept in the cache reads back the same; a cache file that holds anything else (damaged, or
    written by another version of imgtui) is a miss, so the layer is read again. If it broke, an image
    would open with another layer's files, or not open at all after an upgrade."""
    with tempfile.TemporaryDirectory() as folder:
        from pathlib import Path

        cache = LayerCache(Path(folder))
        layer = expected_index(spec, "sha256:" + "1" * 64)
        cache.put(layer.digest, layer)
        assert cache.get(layer.digest) == layer
        path = next(Path(folder).glob("layer-*"))
        path.write_bytes(gzip.compress(json.dumps(junk).encode()))
        found = cache.get(layer.digest)
        assert found is None or all(type(e.size) is int and e.size >= 0 and isinstance(e.path, str)
                                    for e in found.entries)  # fmt: skip


def eager_layer_tree(analysis: Analysis, index: int) -> FileTree:
    """What layer_changes built before it made its nodes lazily: every node up front (the reference)."""
    tree = FileTree()
    own = {w.path: w.bytes for w in analysis.wasted if w.written_by == index}
    taken: dict[str, int] = {
        c.entry.path: 0 for c in analysis.layers[index].changes if c.change is Change.REMOVED
    }
    for w in analysis.wasted:
        if w.hidden_by == index:
            path = w.path
            while path not in taken and path != "/":
                path = parent_of(path)
            if path in taken:
                taken[path] += w.bytes
    for changed in analysis.layers[index].changes:
        tree.put(changed.entry, changed.change, index, own.get(changed.entry.path, 0))
        if changed.change is Change.REMOVED:
            tree.nodes[changed.entry.path].size = taken.get(changed.entry.path, 0)
    return tree.finish()


near_paths = st.lists(st.sampled_from(["a", "a-b", "a.b", "b", "a b"]), min_size=1, max_size=3).map("/".join)
"""Paths that are often under one another, and names that sort between `a` and `a/…`."""


near_layer_specs = layer_specs(near_paths, most=14, removed=3, opaques=1)
"""A layer of such paths: files with paths under them, removed directories with entries under them."""


@given(
    st.lists(layer_specs() | near_layer_specs, min_size=1, max_size=4),
    st.sampled_from(["", "a", ".", "-", "é", "/", "b/"]),
)
def test_a_layer_tree_made_as_looked_at_is_the_tree_made_whole(
    specs: list[tuple[list[tuple[str, Entry]], list[str], list[str]]], text: str
) -> None:
    """The contents view's tree of one layer (made lazily from the paths in order, with running sums) has
    the nodes, sizes, wasted bytes, listings, filters and counts of the tree made node by node. If it broke,
    `enter` on a layer would show a directory with the wrong size or wasted bytes, miss a file or list one
    twice: paths like `/a`, `/a-b`, `/a/b` (`-` sorts before `/`), a file with paths under it, a removed
    directory."""
    layers = [expected_index(s, f"sha256:{n:064x}") for n, s in enumerate(specs)]
    analysis = analyze("test/image:1", layers)
    for index in range(len(layers)):
        lazy, whole = layer_changes(analysis, index), eager_layer_tree(analysis, index)
        assert set(lazy.nodes) == set(whole.nodes) and lazy.count() == whole.count()
        fields = ("kind", "size", "change", "wasted", "layer", "target", "mode")
        for path, node in whole.nodes.items():
            made = lazy.nodes[path]
            assert [getattr(made, f) for f in fields] == [getattr(node, f) for f in fields], path
            assert lazy.has_children(path) == bool(node.children), path
            for by_size in (False, True):
                listed = [n.path for n in lazy.children(path, by_size)]
                assert listed == [n.path for n in whole.children(path, by_size)], path
        assert lazy.matching(text) == whole.matching(text)
        for change in COUNTED:
            assert lazy.of_change(change) == whole.of_change(change)


@given(st.text(alphabet="ab:/@.-_0123456789", max_size=30))
@example("registry:5000/ns/app")
@example("app@sha256:abc")
@example("host:5000/app:1.0@sha256:abc")
def test_names_split_as_docker_py_splits_them(name: str) -> None:
    """models.parse_repository_tag is docker-py's, written out so that listing images needs no docker-py:
    both split every name alike."""
    from docker.utils import parse_repository_tag as docker_pys

    from imgtui.engine.models import parse_repository_tag

    assert parse_repository_tag(name) == tuple(docker_pys(name))


@given(st.text(alphabet="ab:/.-_5l", max_size=24).filter(lambda n: n and not n.startswith("-")))
@example("localhost/app")
@example("127.0.0.1:5000/app")
@example("docker.io/library/app")
def test_a_registry_named_as_docker_py_reads_it(name: str) -> None:
    """reference.names_a_registry (asked on every cursor move, without docker-py) says Docker Hub exactly
    where docker-py's resolve_repository_name does (a host named in front may still be Docker Hub's)."""
    import docker.errors
    from docker.auth import INDEX_NAME, resolve_repository_name

    from imgtui.engine.reference import names_a_registry

    try:
        host, _ = resolve_repository_name(name)
    except docker.errors.InvalidRepository:
        return
    if not names_a_registry(name):
        assert host == INDEX_NAME
    else:
        assert host == name.split("/", 1)[0] or host == INDEX_NAME
