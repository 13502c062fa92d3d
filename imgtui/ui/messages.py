"""Messages that more than one part of the UI posts or reads: what the images view's workers found, and
what other views send it. Workers post these; they never touch widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from imgtui.engine import Catalog, Engine, EngineEvent, Image, Layer, OutcomeLine


@dataclass
class ImagesLoaded(Message):
    """A whole image list (start-up, `r`, reconnect, or too many changes at once), already grouped."""

    catalog: Catalog


@dataclass
class ImagesChanged(Message):
    """The engine's current view of some images after events; `None` means the image is gone."""

    updates: list[tuple[str, Image | None]]


@dataclass
class HistoryLoaded(Message):
    """Layers of one image."""

    image_id: str
    layers: tuple[Layer, ...]


@dataclass
class EngineEventSeen(Message):
    """One event from the engine's stream."""

    event: EngineEvent


@dataclass
class ConnectionChanged(Message):
    """The engine went away (`connected=False`, with why) or came back."""

    connected: bool
    detail: str = ""


@dataclass
class DiskUsageRead(Message):
    """Bytes the layers take on disk, shared layers counted once."""

    layers_size: int


@dataclass
class Outcome(Message):
    """Lines for the outcome log. Posted by a feature to itself, it bubbles up to the images screen, which
    logs and stops it; posted to the App by another view, the App hands it to the images screen."""

    lines: list[OutcomeLine]


@dataclass
class PullRequested(Message):
    """Another view (the registry view) asks for a pull in the job bar."""

    reference: str


@dataclass
class RegistryHeard(Message):
    """A job reached a registry (`answered`), or tried and got no answer: the App tells the registry feature,
    which offers in `R` only registries that answered."""

    host: str
    answered: bool


@dataclass
class EngineSwitched(Message):
    """The engine of another docker context answered: the views move to it."""

    engine: Engine
