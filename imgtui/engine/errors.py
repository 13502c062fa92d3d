"""The engine's own words for a failed request."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker.errors


def engine_words(exc: docker.errors.APIError) -> str:
    """The explanation the engine sent (`conflict: unable to remove ...`), or docker-py's text."""
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc).strip()
