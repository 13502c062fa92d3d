"""Every key imgtui answers, in one list: the help screen shows it, and tests check the bindings match."""

from __future__ import annotations

KEYS: tuple[tuple[str, str], ...] = (
    ("tab / shift+tab", "move to the next / previous pane"),
    ("↑ ↓  j k", "move the cursor"),
    ("pgup pgdn home end", "move by a page / to the ends"),
    ("enter", "open: repository → its tags → its layers"),
    ("/", "filter the focused list as you type (enter keeps it, escape clears it)"),
    ("escape", "clear the filter of the focused list"),
    ("r", "reload everything from the engine"),
    ("ctrl+p", "command palette: every action by name"),
    ("?", "this help"),
    ("q", "quit"),
)
