"""What cleanup keeps on disk: when each image was last used (from the engine's events while imgtui runs),
and the lock that keeps two cleanups of one engine from overlapping.

Both live in `$IMGTUI_STATE`, else `$XDG_STATE_HOME/imgtui`, else `~/.local/state/imgtui`, one file per
engine (named by a hash of its address: image IDs are the same content on every engine, their use is not).
The last-used file is JSON, rewritten beside its final name and renamed into place, under an flock, merging
what is on disk with what this run saw (the later time wins): two imgtui running at once lose nothing, and a
killed write leaves the old file whole.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

MAX_ENTRIES = 20000
"""Images remembered per engine, at most; the least recently used are forgotten first."""
USE_ACTIONS = frozenset({"create", "start", "restart", "unpause", "exec_create", "exec_start", "attach",
                         "stop", "die", "kill", "destroy"})  # fmt: skip
"""Container events that mean its image is in use (`exec_start: sh` counts as `exec_start`)."""
IMAGE_USE_ACTIONS = frozenset({"pull", "load", "import", "tag", "push"})
"""Image events that mean someone wants the image now: a pull of an old image makes it recent."""


class Locked(Exception):
    """Another cleanup of this engine holds the lock."""


def state_folder() -> Path:
    if os.environ.get("IMGTUI_STATE"):
        return Path(os.environ["IMGTUI_STATE"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "imgtui"


def engine_key(host: str) -> str:
    return hashlib.sha256(host.encode()).hexdigest()[:16]


def used_ref(event_type: str, action: str, actor_id: str, attributes: dict[str, str]) -> str | None:
    """The image (name or ID) an engine event says was used, if it says so."""
    verb = action.split(":", 1)[0].strip()
    if event_type == "container" and verb in USE_ACTIONS:
        return attributes.get("image") or None
    if event_type == "image" and verb in IMAGE_USE_ACTIONS:
        return actor_id or None
    return None


class UsageLog:
    """Image ID -> when it was last used (seconds since the epoch), for one engine."""

    def __init__(self, host: str, folder: Path | None = None) -> None:
        self.folder = folder or state_folder()
        self.path = self.folder / f"last-used-{engine_key(host)}.json"
        self.host = host
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def note(self, image_id: str, when: float) -> None:
        """Remember a use (in memory until `save`)."""
        with self._lock:
            if when > self._seen.get(image_id, 0.0):
                self._seen[image_id] = when

    @property
    def pending(self) -> bool:
        return bool(self._seen)

    def _read(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text())
            images = data.get("images") if isinstance(data, dict) else None
            if not isinstance(images, dict):
                return {}
            return {str(k): float(v) for k, v in images.items() if isinstance(v, (int, float))}
        except (OSError, ValueError, TypeError):
            return {}  # none yet, or damaged: the uses are then unknown (created time stands in)

    def load(self) -> dict[str, float]:
        """Every use known: the file's, with this run's unsaved ones."""
        known = self._read()
        with self._lock:
            for image_id, when in self._seen.items():
                known[image_id] = max(when, known.get(image_id, 0.0))
        return known

    def save(self) -> None:
        """Merge this run's uses into the file (under an flock), atomically. Raises OSError."""
        with self._lock:
            seen, self._seen = self._seen, {}
        if not seen:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with _flocked(self.path.with_name(self.path.name + ".lock"), blocking=True):
                known = self._read()
                for image_id, when in seen.items():
                    known[image_id] = max(when, known.get(image_id, 0.0))
                if len(known) > MAX_ENTRIES:
                    known = dict(sorted(known.items(), key=lambda kv: -kv[1])[:MAX_ENTRIES])
                body = json.dumps({"engine": self.host, "images": known}, indent=0, sort_keys=True)
                handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
                try:
                    with os.fdopen(handle, "w") as out:
                        out.write(body)
                    os.replace(temp, self.path)
                except BaseException:
                    Path(temp).unlink(missing_ok=True)
                    raise
        except BaseException:
            with self._lock:  # not written: try again with the next save
                for image_id, when in seen.items():
                    self._seen[image_id] = max(when, self._seen.get(image_id, 0.0))
            raise


@contextmanager
def _flocked(path: Path, blocking: bool) -> Iterator[IO[str]]:
    handle = open(path, "a")  # noqa: SIM115 - held for the lock's life
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise Locked(f"another imgtui clean of this engine is running (lock {path})") from exc
            raise
        yield handle
    finally:
        handle.close()  # closing releases the lock


def lock_path(host: str, folder: Path | None = None) -> Path:
    return (folder or state_folder()) / f"clean-{engine_key(host)}.lock"


@contextmanager
def cleanup_lock(host: str, folder: Path | None = None) -> Iterator[Path]:
    """Hold the cleanup lock of this engine (flock: released when the process ends, however it ends), or
    raise Locked at once."""
    path = lock_path(host, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _flocked(path, blocking=False) as handle:
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path
