"""Several engines at once (domain layer, no Textual): which engines (specs.py), their totals, an image found
across them, and their dangling images pruned engine by engine (fleet.py)."""

from imgtui.fleet.fleet import WORKERS, Applied, Fleet, Hit, Report, error_sentence, find, match, same_engines
from imgtui.fleet.specs import EngineSpec, FleetError, all_contexts, gather, parse, read_file

__all__ = ["WORKERS", "Applied", "EngineSpec", "Fleet", "FleetError", "Hit", "Report", "all_contexts",
           "error_sentence", "find", "gather", "match", "parse", "read_file", "same_engines"]  # fmt: skip
