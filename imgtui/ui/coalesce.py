"""Coalesced: many requests in a burst, one call once the burst is over (events arriving together, rows
filling in a few at a time, disk usage after a run of changes)."""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer


class Coalesced:
    """Call `callback` once, `delay` seconds after the first of a burst of `request()`s."""

    def __init__(
        self, owner: MessagePump, delay: Callable[[], float], callback: Callable[[], object]
    ) -> None:
        self._owner = owner
        self._delay = delay
        self._callback = callback
        self._timer: Timer | None = None

    @property
    def pending(self) -> bool:
        return self._timer is not None

    def request(self) -> None:
        if self._timer is None:
            self._timer = self._owner.set_timer(self._delay(), self._fire)

    def cancel(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()

    def _fire(self) -> None:
        self._timer = None
        self._callback()
