"""A tar header scanner for streams: one pass, headers parsed, member data skipped without a copy per header.

The standard library's `tarfile` in stream mode keeps its read-ahead buffer in a bytes object it re-slices on
every header (a 1 MiB buffer cost 13 s over 200,000 headers) and parses each header through several layers
of calls; this reads the stream in large chunks, parses the 512-byte headers (ustar, GNU long names and
base-256 numbers, PAX records) directly, and hands out bounded views for nested tars (the layers inside an
image archive) and for gzip-compressed members.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

BLOCK = 512
CHUNK = 1 << 20
NO_DATA = (b"1", b"2", b"3", b"4", b"5", b"6")
"""Links, devices, directories, FIFOs: whatever their size field says, no data follows their header."""
MAX_SIZE = 1 << 60
"""No member is an exbibyte: a bigger size is a broken header (and would overflow a seek)."""
META_LIMIT = 16 << 20
"""A long name, long link or PAX header bigger than this is a broken header, not something to read."""


class TarError(Exception):
    """The stream is not a tar (or ends in the middle of one)."""


class Stream(Protocol):
    def read(self, size: int) -> bytes: ...

    def skip(self, size: int) -> int: ...


AFTER_SEEK = 64 << 10


class Reader:
    """A raw stream read in large chunks; `read(n)` returns up to n bytes, `skip(n)` passes them."""

    def __init__(self, raw: IO[bytes], chunk: int = CHUNK) -> None:
        self._raw = raw
        self._chunk = chunk
        self._next = chunk
        """The next read's size: small right after a seek (the next header may be all that is wanted),
        doubling back to `chunk` as reading goes on."""
        self._buf = b""
        self._pos = 0
        self._sought = False

    def read(self, size: int) -> bytes:
        while len(self._buf) - self._pos < size:
            data = self._raw.read(max(self._next, size))
            self._next = min(self._next * 2, self._chunk)
            if not data:
                if self._sought and self._raw.seek(0, 1) > self._raw.seek(0, 2):
                    raise TarError("the archive ends inside a member (it is cut short)")
                break
            self._buf = self._buf[self._pos :] + data
            self._pos = 0
        out = self._buf[self._pos : self._pos + size]
        self._pos += len(out)
        return out

    def peek(self, size: int) -> bytes:
        """The next `size` bytes (fewer at the end), left to be read again."""
        out = self.read(size)
        self._pos -= len(out)
        return out

    def skip(self, size: int) -> int:
        available = len(self._buf) - self._pos
        if size <= available:
            self._pos += size
            return size
        passed = available
        self._buf, self._pos = b"", 0
        seekable = getattr(self._raw, "seekable", None)
        if seekable is not None and seekable():  # a file: what is skipped is not read at all
            self._raw.seek(size - passed, 1)
            self._next = AFTER_SEEK
            self._sought = True
            return size
        while passed < size:
            data = self._raw.read(min(self._chunk, size - passed))
            if not data:
                break
            passed += len(data)
        return passed


class Limited:
    """The next `size` bytes of a stream, as a stream of its own (one member's data)."""

    def __init__(self, stream: Stream, size: int) -> None:
        self._stream = stream
        self.left = size

    def read(self, size: int) -> bytes:
        data = self._stream.read(min(size, self.left))
        self.left -= len(data)
        return data

    def skip(self, size: int) -> int:
        passed = self._stream.skip(min(size, self.left))
        self.left -= passed
        return passed

    def peek(self, size: int) -> bytes:
        """The next `size` bytes, left to be read again (when the stream below can peek; else raises
        AttributeError, and the caller reads and wraps the bytes in `Prepended`)."""
        return self._stream.peek(min(size, self.left))  # type: ignore[attr-defined,no-any-return]

    def drain(self) -> None:
        self.skip(self.left)


def peek(stream: Stream, size: int) -> tuple[bytes, Stream]:
    """The first `size` bytes of a stream, and a stream that still starts with them: the stream itself when
    it can peek (each layer of wrapping costs a call per header read), else one that gives them back."""
    try:
        return stream.peek(size), stream  # type: ignore[attr-defined]
    except AttributeError:
        head = stream.read(size)
        return head, Prepended(head, stream)


class Prepended:
    """A stream whose first bytes were read ahead (to tell gzip from zstd from tar) and are given back."""

    def __init__(self, head: bytes, stream: Stream) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int) -> bytes:
        if not self._head:
            return self._stream.read(size)
        out, self._head = self._head[:size], self._head[size:]
        return out + self._stream.read(size - len(out)) if len(out) < size else out

    def skip(self, size: int) -> int:
        first = min(size, len(self._head))
        self._head = self._head[first:]
        return first + self._stream.skip(size - first)


class Inflated:
    """A compressed stream (gzip by default), decompressed as it is read."""

    def __init__(self, stream: Stream, head: bytes = b"", make: Callable[[], Any] | None = None) -> None:
        self._stream = stream
        self._make = make or (lambda: zlib.decompressobj(wbits=47))
        self._inflate = self._make()
        self._pending = head
        self._buf = b""
        self._pos = 0

    def _more(self) -> bool:
        data = self._pending or self._stream.read(CHUNK)
        self._pending = b""
        if not data:
            if not getattr(self._inflate, "eof", True):
                raise TarError("the compressed stream ends early (it is cut short)")
            return False
        try:
            out = self._inflate.decompress(data)
            if getattr(self._inflate, "unused_data", b""):  # concatenated members (pigz, zstd frames)
                rest = self._inflate.unused_data
                self._inflate = self._make()
                out += self._inflate.decompress(rest)
        except Exception as exc:  # zlib.error, zstandard's or compression.zstd's ZstdError
            raise TarError(f"the compressed stream is damaged: {exc}") from None
        self._buf = self._buf[self._pos :] + out
        self._pos = 0
        return True

    def read(self, size: int) -> bytes:
        while len(self._buf) - self._pos < size and self._more():
            pass
        out = self._buf[self._pos : self._pos + size]
        self._pos += len(out)
        return out

    def skip(self, size: int) -> int:
        passed = 0
        while passed < size:
            available = len(self._buf) - self._pos
            if not available and not self._more():
                break
            step = min(size - passed, len(self._buf) - self._pos)
            self._pos += step
            passed += step
        return passed


@dataclass
class Header:
    name: str
    type: bytes
    size: int
    mode: int
    uid: int
    gid: int
    linkname: str

    @property
    def is_file(self) -> bool:
        return self.type in (b"0", b"\0", b"7")


def _number(field: bytes) -> int:
    text = field.rstrip(b"\0 ")
    if text.isdigit():  # the common case: zero-padded digits ended by NUL or space
        try:
            return int(text, 8)
        except ValueError:
            raise TarError(f"a header field is not an octal number: {text[:12]!r}") from None
    if field and field[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field, "big", signed=False)
        return value & ((1 << (8 * len(field) - 1)) - 1)
    text = field.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    if not text.isdigit() or b"8" in text or b"9" in text:
        raise TarError(f"a header field is not an octal number: {text[:12]!r}")
    return int(text, 8)


def _decimal(records: dict[str, str], key: str, default: int) -> int:
    """A PAX record's number (size, uid, gid), else the header's."""
    if key not in records:
        return default
    text = records[key]
    if not (text.isascii() and text.isdigit()):
        raise TarError(f"the PAX record {key} is not a number: {text[:20]!r}")
    return int(text)


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        digits = data[pos:space]
        length = int(digits) if digits.isdigit() else 0
        if length <= space - pos or pos + length > len(data):  # a length that cannot be: not moving on
            raise TarError(f"a PAX record has a broken length: {digits[:12]!r}")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def scan(stream: Stream) -> Iterator[tuple[Header, Limited]]:
    """Every member of a tar stream: its header, and its data as a bounded stream. Data the caller does not
    read is skipped before the next header."""
    long_name = long_link = None
    pax: dict[str, str] = {}
    while True:
        block = stream.read(BLOCK)
        if len(block) < BLOCK:
            if block.strip(b"\0"):
                raise TarError("the stream ends in the middle of a header")
            return
        if block == bytes(BLOCK):
            return  # the end-of-archive blocks
        if block[257:262] != b"ustar" and _checksum(block) != _number(block[148:156]):
            raise TarError("not a tar header")
        kind = block[156:157]
        size = _number(block[124:136])
        padded = -size % BLOCK
        if kind in (b"L", b"K", b"x", b"g"):
            if size > META_LIMIT:
                raise TarError(f"a long name or PAX header of {size} bytes")
            data = stream.read(size)[:size]
            if len(data) < size:
                raise TarError("the stream ends inside a long name or PAX header")
            stream.skip(padded)
            if kind == b"L":
                long_name = _text(data)
            elif kind == b"K":
                long_link = _text(data)
            elif kind == b"x":
                pax = _pax(data)
            continue
        name = _text(block[0:100])
        if block[257:263] == b"ustar\0" and block[345] != 0:  # POSIX ustar prefix
            name = _text(block[345:500]) + "/" + name
        header = Header(
            pax.get("path") or long_name or name,
            kind,
            _decimal(pax, "size", size),
            _number(block[100:108]),
            _decimal(pax, "uid", _number(block[108:116])),
            _decimal(pax, "gid", _number(block[116:124])),
            pax.get("linkpath") or long_link or _text(block[157:257]),
        )
        long_name = long_link = None
        pax = {}
        if header.size > MAX_SIZE:
            raise TarError(f"a member of {header.size} bytes")
        stored = header.size if kind not in NO_DATA else 0
        body = Limited(stream, stored)
        yield header, body
        rest = body.left
        if stream.skip(rest + (-stored % BLOCK)) < rest:  # the rest and the padding in one call
            raise TarError(f"the stream ends inside {header.name[:80]!r} (it is cut short)")


def is_header(block: bytes) -> bool:
    """Whether `block` is a tar header (its checksum is right): a blob that starts with `{` may still be a
    layer whose first member's name does."""
    try:
        return len(block) == BLOCK and _checksum(block) == _number(block[148:156])
    except TarError:
        return False


def _checksum(block: bytes) -> int:
    return sum(block[:148]) + 8 * 32 + sum(block[156:])
