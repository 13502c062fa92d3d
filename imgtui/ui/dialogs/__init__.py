"""Modal dialogs that return typed answers."""

from __future__ import annotations

from textual.binding import Binding

FORM_KEYS = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
]
"""Tab between a form's fields as priority bindings: the App runs them as the key arrives, so keys that came
in the same burst (a paste, or one read over ssh) land in the field tab went to. A plain binding runs only
once the key has bubbled up from the field, and the keys behind it would reach the old field first."""
