"""The bar above the footer while a long job (save, load, pull, push) runs: what, how far, how fast."""

from __future__ import annotations

import threading
import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from imgtui.engine.transfer import Progress
from imgtui.ui import format as fmt


class JobBar(Horizontal):
    """The one long job at a time (pull, push, save, load, reading layers): shown with the class `running`,
    per-layer states for pull/push, bytes (of a total when known) and rate for the rest. It holds the job's
    stop event: `begin` gives it to the job (or None while another runs), `cancel` (x) sets it."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.label = Label("", id="job-label")
        self.bar = ProgressBar(total=None, show_eta=False, id="job-bar")
        self.layer_states: dict[str, str] = {}
        self.started = time.monotonic()
        self._stop: threading.Event | None = None

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
        self.started = time.monotonic()
        self.label.update(f"{what} … (x cancels)")
        self.bar.update(total=None, progress=0)
        self.add_class("running")

    def show(self, p: Progress) -> None:
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
        self.remove_class("running")
