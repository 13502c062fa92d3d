"""A worker's error as one sentence for the user: the engine's or the registry's own words where they gave
them, never a traceback."""

from __future__ import annotations

from imgtui.engine import describe


def sentence(error: BaseException | None) -> str:
    """What the App's worker-error handler shows and logs."""
    if error is None:
        return "unknown error"
    if type(error).__module__.startswith(("imgtui.registry", "imgtui.layers")):
        return str(error)  # RegistryError, LayerError and their kinds are worded for the user already
    return describe(error)


def seconds_shown(error: BaseException | None) -> float:
    """How long the notification stays: longer for the ones that say what to change (a registry setting)."""
    return 15 if type(error).__name__ == "DeleteDisabled" else 8
