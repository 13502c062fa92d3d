"""Every key imgtui answers, in one list: the help screen shows it, and tests check the bindings match."""

from __future__ import annotations

KEYS: tuple[tuple[str, str], ...] = (
    ("tab / shift+tab", "move to the next / previous pane"),
    ("↑ ↓  j k", "move the cursor"),
    ("pgup pgdn home end", "move by a page / to the ends"),
    ("enter", "open: repository → its tags → its layers"),
    ("/", "filter the focused list as you type (enter keeps it, escape clears it)"),
    ("escape", "clear the filter of the focused list; close a view or dialog"),
    ("d", "remove: untag the selected tag, or delete the image (a preview says which, first)"),
    ("space", "mark a tag or repository; d then removes every marked one"),
    ("D", "prune dangling images (or, from its dialog, every unused image)"),
    ("t", "tag: give the selected image another name"),
    ("i", "inspect the selected image as a tree (/ search, n next, c copy)"),
    ("c", "containers (of the selected image from the tags pane): s stop, d remove, e rename, g go to image"),
    ("s", "sort tags by created, size or name (the <none> repository lists dangling images)"),
    ("p / P", "pull an image by name / push the selected tag (a registry/namespace/ name is tagged first)"),
    ("S / L", "save the selected or marked tags to a tar file / load a tar file (with progress)"),
    ("f", "search (docker search through the engine); enter on a result pulls it"),
    (
        "I / X",
        "import a filesystem tar as an image / in the containers view, export a container's filesystem",
    ),
    ("R", "browse a registry (Registry API v2): repositories → tags → layers; d deletes a tag, p pulls it"),
    ("A", "log in to a registry (logout: command palette); the password is never shown or logged"),
    ("x", "cancel the running save, load, pull or push"),
    ("m", "in the containers view: commit the container to an image (name, author, message, changes)"),
    ("l", "show or hide the outcome log (what each action did, in the engine's words)"),
    ("y / n", "in a confirmation: yes / no (enter and escape too)"),
    ("r", "reload everything from the engine"),
    ("ctrl+p", "command palette: every action by name"),
    ("?", "this help"),
    ("q", "quit"),
)
