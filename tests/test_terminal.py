"""What imgtui sends its terminal (an ssh link's load): the real app in a pseudo-terminal, its output read
back by an independent terminal emulator (pyte), as a user's terminal would show it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pyte
import pytest

from imgtui.ui.terminal import FrameFilter

ROWS, COLUMNS = 36, 120
DOWN, TAB = b"\x1b[B", b"\t"


class Terminal:
    """imgtui in a pseudo-terminal of ROWS x COLUMNS, what it writes fed to a pyte screen."""

    def __init__(self, fd: int, process: subprocess.Popen[bytes]) -> None:
        self.fd, self.process = fd, process
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.first = b""

    def read(self, quiet: float = 1.5, most: float = 20.0) -> bytes:
        """Everything written until `quiet` seconds pass with nothing."""
        out, end, last = b"", time.monotonic() + most, time.monotonic()
        while time.monotonic() < end and time.monotonic() - last < quiet:
            ready, _, _ = select.select([self.fd], [], [], 0.02)
            if ready:
                try:
                    data = os.read(self.fd, 1 << 16)
                except OSError:
                    break
                out += data
                last = time.monotonic()
        self.stream.feed(out)
        return out

    def lines(self) -> list[tuple[str, tuple[object, ...]]]:
        """Each row's text and its cells' colours and styles."""
        rows: list[tuple[str, tuple[object, ...]]] = []
        for y in range(ROWS):
            row = self.screen.buffer[y]
            cells = [row[x] for x in range(COLUMNS)]
            rows.append(
                ("".join(c.data for c in cells), tuple((c.fg, c.bg, c.bold, c.reverse) for c in cells))
            )
        return rows

    def press(self, key: bytes) -> tuple[bytes, list[tuple[str, tuple[object, ...]]]]:
        os.write(self.fd, key)
        return self.read(), self.lines()


@contextmanager
def imgtui(docker_host: str, send_all: bool = False, **environ: str) -> Iterator[Terminal]:
    fd, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "IMGTUI_SEND", "NO_COLOR"))}
    env.update({"DOCKER_HOST": docker_host, "TERM": "xterm-256color", **environ})
    if send_all:
        env["IMGTUI_SEND_ALL"] = "1"
    process = subprocess.Popen([sys.executable, "-m", "imgtui"], stdin=child, stdout=child, stderr=child,
                               env=env, start_new_session=True)  # fmt: skip
    os.close(child)
    terminal = Terminal(fd, process)
    try:
        terminal.first = terminal.read(quiet=3.0, most=60.0)
        yield terminal
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        os.close(fd)


def rows_written(data: bytes) -> set[int]:
    """Rows (from 0) that a frame writes cells on: each cursor move followed by something to print."""
    found = set()
    for match in re.finditer(rb"\x1b\[(\d+);(\d+)H([^\x1b]|\x1b\[[0-9;:]*m[^\x1b])", data):
        found.add(int(match.group(1)) - 1)
    return found


KEYS = [DOWN, DOWN, DOWN, TAB, DOWN, DOWN]
"""Down the repositories pane (the tags and layers panes follow), then down a repository's tags."""


def test_a_cursor_move_writes_only_the_rows_that_change(docker_host: str) -> None:
    """Each key writes cells only on rows whose text or colours change on the terminal: a move in the
    repositories pane writes its two cursor rows and what the tags and layers panes show anew, not their
    blank rows or headers again. If it broke, every key over ssh would carry whole panes (5.8 KiB a move
    before, against 0.7 KiB for a bare table moving its cursor)."""
    with imgtui(docker_host) as terminal:
        before = first = terminal.lines()
        for key in KEYS:
            data, after = terminal.press(key)
            changed = {y for y in range(ROWS) if before[y] != after[y]}
            assert rows_written(data) <= changed, (
                f"{key!r} wrote rows {sorted(rows_written(data) - changed)} that look as they did: "
                + " | ".join(after[y][0].strip()[:60] for y in sorted(rows_written(data) - changed))
            )
            before = after
        assert sum(a != b for a, b in zip(first, before)) > 10, "the keys moved through the panes"


def test_the_screen_shown_is_the_one_sent_whole(docker_host: str) -> None:
    """What the terminal shows after each key is what it shows when every frame is sent whole
    (IMGTUI_SEND_ALL=1, Textual's own way): the spans left out were on screen already. If it broke, a pane
    would keep a stale row, a cursor bar left behind or a tag that is gone."""
    screens = []
    for send_all in (True, False):
        with imgtui(docker_host, send_all) as terminal:
            shown = [terminal.lines()]
            for key in KEYS:
                shown.append(terminal.press(key)[1])
            screens.append(shown)
    whole, filtered = screens
    for n, (a, b) in enumerate(zip(whole, filtered)):
        for y in range(ROWS):
            assert runs(a[y]) == runs(b[y]), (
                f"after key {n}, row {y}: {a[y][0]!r} whole, {b[y][0]!r} filtered"
            )


def runs(row: tuple[str, tuple[object, ...]]) -> list[tuple[str, object]]:
    """A row as runs of cells of one style, each run's text unaged: the same screen, whatever relative
    time each run showed."""
    text, styles = row
    out: list[tuple[str, object]] = []
    for char, style in zip(text, styles):
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + char, style)
        else:
            out.append((char, style))
    return [(unaged(t), style) for t, style in out]


def unaged(text: str) -> str:
    """A row's text without its relative times (the two runs are seconds apart: "a second ago", "11
    seconds ago") and with runs of spaces as one."""
    return re.sub(r"\s+", " ", re.sub(r"(\d+|an?) (second|minute|hour)s? ago", "(age)", text))


COLOURS = re.compile(rb"\x1b\[([0-9;]*)m")


def colours(data: bytes) -> set[str]:
    """The colour codes of every style sequence written: 30-37/40-47 and 90-97/100-107 (16 colours),
    38;5;N / 48;5;N (256), 38;2;R;G;B (truecolor); 39 and 49 are the terminal's own."""
    found = set()
    for match in COLOURS.finditer(data):
        codes = match.group(1).decode().split(";")
        n = 0
        while n < len(codes):
            code = codes[n]
            if code in ("38", "48"):
                width = 3 if codes[n + 1] == "5" else 5
                found.add(";".join(codes[n : n + width]))
                n += width
                continue
            if code and (30 <= int(code) <= 37 or 40 <= int(code) <= 47 or 90 <= int(code) <= 107):
                found.add(code)
            n += 1
    return found


def test_no_color_means_no_colour_and_the_cursor_in_reverse(docker_host: str) -> None:
    """NO_COLOR=1 (no-color.org): not one colour code is written, not even Textual's shades of grey, and the
    cursor row shows in reverse video. If it broke, a terminal set up for no colour would get colours, or
    the cursor would vanish with them."""
    with imgtui(docker_host, NO_COLOR="1") as terminal:
        data, _ = terminal.press(DOWN)
        assert colours(terminal.first + data) == set()
        assert any(terminal.screen.buffer[y][2].reverse for y in range(3, 12)), "the cursor row is reversed"


def test_a_16_colour_terminal_gets_16_colours(docker_host: str) -> None:
    """TERM=xterm (16 colours): every colour written is one of the 16. If it broke, such a terminal would
    show garbage or nothing where imgtui meant a colour."""
    with imgtui(docker_host, TERM="xterm") as terminal:
        data, _ = terminal.press(DOWN)
        written = colours(terminal.first + data)
        assert written and all(";" not in code for code in written), sorted(written)[:5]


def frame(*spans: tuple[int, int, str]) -> str:
    return "".join(f"\x1b[{row};{column}H{text}" for row, column, text in spans)


def shown(data: list[str]) -> list[str]:
    screen = pyte.Screen(20, 3)
    stream = pyte.Stream(screen)
    for chunk in data:
        stream.feed(chunk)
    return list(screen.display)


@pytest.mark.parametrize(
    "frames",
    [
        # the same span twice: left out the second time
        [frame((1, 1, "\x1b[1mab\x1b[0m")), frame((1, 1, "\x1b[1mab\x1b[0m"))],
        # a span partly overwritten, then written again: sent again
        [frame((1, 1, "abcd")), frame((1, 3, "XY")), frame((1, 1, "abcd"))],
        # wide characters: a span's width is its cells, a change inside one sends all of it
        [frame((2, 1, "日本")), frame((2, 3, "z")), frame((2, 1, "日本")), frame((2, 1, "日x "))],
        # styles that add up, then a reset in the middle of a span
        [
            frame((1, 1, "\x1b[1m\x1b[31mab\x1b[0mc")),
            frame((1, 1, "\x1b[1mab\x1b[0mc")),
            frame((1, 2, "\x1b[31mb")),
        ],
        # something it cannot read (a hyperlink) makes the row unknown
        [
            frame((1, 1, "ab")),
            frame((1, 1, "\x1b]8;;x\x1b\\ab\x1b]8;;\x1b\\")),
            frame((1, 1, "cd")),
            frame((1, 1, "ab")),
        ],
        # a write that is not a frame (a clear) forgets everything
        [frame((3, 1, "q")), "\x1b[2J", frame((3, 1, "q"))],
    ],
)
def test_frames_filtered_show_what_they_show_whole(frames: list[str]) -> None:
    """The filter's own rules, against pyte: the screen is the same whether it ran or not."""
    keep = FrameFilter()
    assert shown([keep(f) for f in frames]) == shown(frames)


def test_only_the_cells_that_change_are_sent() -> None:
    keep = FrameFilter()
    first = frame((1, 1, "\x1b[1mab\x1b[0m"), (2, 1, "cd"))
    assert keep(first) == first
    assert keep(frame((1, 1, "\x1b[1mab\x1b[0m"), (2, 1, "ce"))) == frame((2, 2, "e"))
    assert keep(frame((2, 1, "\x1b[7mce\x1b[0m"))) == frame((2, 1, "\x1b[7mce\x1b[0m")), (
        "same text, new style"
    )
    assert keep(frame((5, 9, ""))) == frame((5, 9, "")), "a cursor move alone is always sent"


@pytest.mark.parametrize("send_all", [False, True], ids=["filtered", "whole"])
def test_a_terminal_that_hangs_up_ends_the_app(docker_host: str, send_all: bool) -> None:
    """The terminal goes away without a SIGHUP (a pty closed by a program that did not make it the
    controlling terminal): imgtui ends, with a shell's 129 for a hang-up, instead of reading end-of-file in a
    busy loop for ever (one such left behind took a core for an hour)."""
    with imgtui(docker_host, send_all=send_all) as terminal:
        assert terminal.first  # it was up and had drawn its screen
        os.close(terminal.fd)
        terminal.fd = os.open(os.devnull, os.O_RDONLY)  # for the context's own close
        try:
            code = terminal.process.wait(30)
        except subprocess.TimeoutExpired:
            pytest.fail("imgtui still runs 30 s after its terminal hung up")
        assert code == 129
