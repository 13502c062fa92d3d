"""The bar above the footer while a long job (save, load, pull, push) runs: what, how far, how fast."""

from __future__ import annotations

import threading
import time
from functools import partial

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import ProgressBar

from imgtui.engine.transfer import Progress
from imgtui.ui import format as fmt
from imgtui.ui.widgets.fixed import FixedLines

SHOWN_AFTER = 0.25
"""Seconds a job runs before the bar shows: one that ends sooner (layers read from the cache) costs no
layout pass of the screen for a bar seen for a frame."""


class JobBar(Horizontal):
    """The one long job at a time (pull, push, save, load, reading layers): shown with the class `running`,
    per-layer states for pull/push, bytes (of a total when known) and rate for the rest. It holds the job's
    stop event: `begin` gives it to the job (or None while another runs), `cancel` (x) sets it."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        # A line of fixed size: each progress report repaints it alone (a Label's update asks for a layout
        # pass, which repaints the whole screen: 10 a second during a save, its cost taken from the save).
        self.label = FixedLines("", id="job-label")
        self.bar = ProgressBar(total=None, show_eta=False, id="job-bar")
        self.layer_states: dict[str, str] = {}
        self.started = time.monotonic()
        self._stop: threading.Event | None = None
        self._appear: Timer | None = None
        self.progressed = False
        """Progress came in since the job started (the bar then shows it, not the job's name)."""

    @property
    def busy(self) -> bool:
        return self._stop is not None

    def begin(self, what: str) -> threading.Event | None:
        """Start showing a job; its stop event, or None when one is running already."""
        if self._stop is not None:
            return None
        self._stop = threading.Event()
        self.start(what)
        return self._stop

    def end(self) -> None:
        self._stop = None
        self.stop()

    def cancel(self) -> bool:
        """Ask the running job to stop; False when none runs."""
        if self._stop is None:
            return False
        self._stop.set()
        return True

    def compose(self) -> ComposeResult:
        yield self.label
        yield self.bar

    def start(self, what: str) -> None:
        self.layer_states = {}
        self.progressed = False
        self.started = time.monotonic()
        if self._appear is not None:
            self._appear.stop()
        self._appear = self.set_timer(SHOWN_AFTER, partial(self._show_running, what))

    def _show_running(self, what: str) -> None:
        """The job has run for SHOWN_AFTER: the bar shows (showing it is the one layout pass a job costs)."""
        self._appear = None
        if not self.progressed:
            self.label.update(f"{what} … (x cancels)")
            self.bar.update(total=None, progress=0)
        self.add_class("running")

    def show(self, p: Progress) -> None:
        self.progressed = True
        if p.layer:
            self.layer_states[p.layer] = p.status
            counts: dict[str, int] = {}
            for status in self.layer_states.values():
                counts[status] = counts.get(status, 0) + 1
            states = ", ".join(f"{n} {s}" for s, n in counts.items())
            self.label.update(f"{p.what}: {len(self.layer_states)} layers: {states} (x cancels)")
        else:
            rate = p.done / max(time.monotonic() - self.started, 0.001)
            of = f" of {fmt.size(p.total)}" if p.total else ""
            self.label.update(f"{p.what}: {fmt.size(p.done)}{of}, {fmt.size(int(rate))}/s (x cancels)")
        if p.total:
            self.bar.update(total=p.total, progress=min(p.done, p.total))

    def stop(self) -> None:
        if self._appear is not None:
            self._appear.stop()
            self._appear = None
        self.remove_class("running")
