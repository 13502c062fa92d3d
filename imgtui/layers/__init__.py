"""What is inside an image's layers: indexes read from tar headers (reading.py), their records (model.py),
and what they add up to, waste included (analysis.py). No Textual here (a test checks)."""

from imgtui.layers.analysis import analyze, commands_of
from imgtui.layers.model import Analysis, Change, Changed, Entry, Kind, Layer, LayerIndex, Wasted
from imgtui.layers.reading import Archive, Cancelled, LayerError, read_archive, read_layer

__all__ = [
    "Analysis",
    "Archive",
    "Cancelled",
    "Change",
    "Changed",
    "Entry",
    "Kind",
    "Layer",
    "LayerError",
    "LayerIndex",
    "Wasted",
    "analyze",
    "commands_of",
    "read_archive",
    "read_layer",
]
