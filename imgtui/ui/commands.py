"""Every key imgtui answers, in one table. The bindings of each screen, the help screen (`?`), the command
palette (`ctrl+p`) and the README's key table are all made from it; tests/test_commands.py fails when the
README's table differs (`python -m imgtui.ui.commands` prints the table to paste).

A command names who handles it: a feature of the images view (imgtui/ui/features: `removal`, `jobs`, …), the
screen, or the App; the handler is that object's `command_NAME` method (tests/test_commands.py checks that
every one exists). Rows with no handler document keys that Textual's own widgets answer (moving, opening,
tab between panes); `bind=False` rows are answered by a widget's own binding and listed for the help and the
palette.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from textual.binding import Binding
from textual.screen import Screen


class Where(Enum):
    """The view a command works in (its bindings are that screen's); EVERYWHERE: the App's."""

    EVERYWHERE = "everywhere"
    IMAGES = "images view"
    CONTAINERS = "containers view"
    LOGS = "container logs"
    USAGE = "disk usage"
    FLEET = "fleet view"
    REGISTRY = "registry view"
    INSPECT = "inspect view"
    SEARCH = "search results"
    CONTENTS = "layer contents"
    FILE = "a file of a layer"
    COMPARE = "image comparison"
    DIALOG = "dialogs"


@dataclass(frozen=True)
class Command:
    """One row of the table: a key, where it works, who handles it, and how it is shown."""

    name: str
    """The command's id: the binding's id and what `run` is given."""
    keys: str
    """Textual key names, comma-separated (`y,enter`); empty for palette-only commands."""
    where: Where
    help: str
    """One line for the help screen, the README and the binding's tooltip."""
    handler: str = ""
    """A feature's id, `screen` or `app`: whose `command_NAME` runs it; empty: documented only."""
    label: str = ""
    """The footer's word for it; empty: not in the footer."""
    palette: str = ""
    """Its title in the command palette; empty: not there."""
    shown: str = ""
    """How its keys read on screen when not the key names themselves."""
    bind: bool = True
    """False where a widget's own binding answers the key (the tables' space and s)."""

    @property
    def key_text(self) -> str:
        return self.shown or " ".join(SHOWN.get(k, k) for k in self.keys.split(","))


SHOWN = {"slash": "/", "question_mark": "?", "space": "space", "escape": "escape", "enter": "enter"}

# Short names for the table below only.
E, IM, C, R = Where.EVERYWHERE, Where.IMAGES, Where.CONTAINERS, Where.REGISTRY
INS, DLG, SRCH, CON, FIL = Where.INSPECT, Where.DIALOG, Where.SEARCH, Where.CONTENTS, Where.FILE
CMP, LOG, USE, FLT = Where.COMPARE, Where.LOGS, Where.USAGE, Where.FLEET
COMMANDS: tuple[Command, ...] = (
    # Moving about: Textual's tables and focus answer these.
    Command("next_pane", "tab", IM, "next / previous pane", shown="tab / shift+tab"),
    Command("move", "down", IM, "move the cursor", shown="↑ ↓ j k"),
    Command("move_far", "pagedown", IM, "move by a page / to the ends", shown="pgup pgdn home end"),
    Command("open", "enter", IM, "open: repository → its tags → its layers"),
    Command("mark", "space", IM, "mark a tag or repository; d then removes every marked one",
            "removal", palette="Mark", bind=False),
    # Cleaning up.
    Command("remove", "d", IM, "remove: untag the selected tag, or delete the image (a preview says which)",
            "removal", "Remove", "Remove"),
    Command("prune", "D", IM, "prune dangling images (or, from its dialog, every unused image)",
            "removal", "Prune", "Prune"),
    Command("cleanup", "C", IM, "clean up by a policy: keep the newest N, remove unused, protect names "
            "(a preview first)", "cleanup", palette="Clean up by a policy"),
    Command("tag", "t", IM, "tag: give the selected image another name", "naming", "Tag", "Tag"),
    Command("inspect", "i", IM, "inspect the selected image as a tree", "inspection", "Inspect",
            "Inspect"),
    Command("containers", "c", IM, "containers (of the selected image, from the tags pane)",
            "containers", "Containers", "Containers"),
    Command("new_container", "n", IM, "run or create a container from the selected tag (name, command, env, "
            "-it, --rm, network)", "containers", palette="Run a container"),
    Command("disk_usage", "u", IM, "disk usage of images, containers, volumes, build cache (system df -v); "
            "prune each", "usage", palette="Disk usage"),
    Command("contents", "enter", IM, "on a layer: what is inside the image's layers (read once, then cached)",
            "contents", palette="Layer contents", bind=False),
    Command("compare", "equals_sign", IM, "compare the files of the two marked tags (space marks)",
            "contents", palette="Compare two images", shown="="),
    Command("sort", "s", IM, "sort tags by created, size or name",
            "screen", palette="Sort tags", bind=False),
    # Making and moving images: one job at a time, in the job bar.
    Command("pull", "p", IM, "pull an image by name, with per-layer progress", "jobs", palette="Pull"),
    Command("push", "P", IM, "push the selected tag (a registry/namespace/ name is tagged first)", "jobs",
            palette="Push"),
    Command("save", "S", IM, "save the selected or marked tags to a tar file", "jobs", palette="Save"),
    Command("load", "L", IM, "load a tar file made by docker save", "jobs", palette="Load"),
    Command("import", "I", IM, "import a filesystem tar as a one-layer image", "jobs",
            palette="Import"),
    Command("search", "f", IM, "search (docker search through the engine); enter on a result pulls it",
            "jobs", palette="Search"),
    Command("cancel_job", "x", IM, "cancel the running save, load, pull, push or layer reading", "screen",
            palette="Cancel job"),
    # Registries.
    Command("browse_registry", "R", IM, "browse a registry: repositories → tags → layers",
            "registry", "Registry", "Browse a registry"),
    Command("filter", "slash", IM, "filter the focused list as you type (enter keeps it, escape clears it)",
            "screen", "Filter", "Filter"),
    Command("login", "A", IM, "log in to a registry (the password is never shown or logged)",
            "registry", palette="Login"),
    Command("logout", "", IM, "log out of a registry: forget its stored credentials", "registry",
            palette="Logout"),
    # The view.
    Command("toggle_log", "l", IM, "show or hide the outcome log: what each action did, in engine words",
            "screen", palette="Outcome log"),
    Command("refresh", "r", IM, "reload everything from the engine", "screen", palette="Refresh"),
    Command("engines", "E", IM, "switch engine: pick a docker context; every pane reads from it again",
            "app", palette="Switch engine (docker context)"),
    Command("fleet", "F", IM, "the fleet view: every engine given (--host, --fleet), else every docker "
            "context: totals, find an image, prune their dangling images", "app", palette="Fleet of engines"),
    Command("focus_repos", "", IM, "move to the repositories pane", "screen",
            palette="Focus repositories"),
    Command("focus_tags", "", IM, "move to the tags pane", "screen", palette="Focus tags"),
    Command("focus_layers", "", IM, "move to the layers pane", "screen", palette="Focus layers"),
    # The containers view.
    Command("start", "t", C, "start the container", "screen", "Start"),
    Command("stop", "s", C, "stop the container", "screen", "Stop"),
    Command("restart", "T", C, "restart the container", "screen", palette="Restart container"),
    Command("attach", "a", C, "attach the terminal to the container (ctrl-p ctrl-q comes back)", "screen",
            "Attach"),
    Command("exec_shell", "x", C, "a shell in the container (docker exec -it; exit comes back)",
            "screen", "Shell"),
    Command("logs", "l", C, "the container's logs (follow, search, timestamps)", "screen", "Logs"),
    Command("remove_container", "d", C, "remove the container", "screen", "Remove"),
    Command("rename", "e", C, "give the container a new name", "screen", "Rename"),
    Command("commit", "m", C, "commit the container to an image (name, author, message, changes)",
            "screen", "Commit"),
    Command("export", "X", C, "export the container's filesystem to a tar", "screen", "Export"),
    Command("go_to_image", "g,enter", C, "go to the image the container uses", "screen",
            "Go to image"),
    Command("filter_containers", "slash", C, "filter the containers as you type", "screen", "Filter"),
    Command("reload_containers", "r", C, "read the containers again", "screen", "Refresh"),
    Command("close_containers", "escape", C, "back to the images", "screen", "Back"),
    # A container's logs.
    Command("follow_logs", "f", LOG, "follow new lines, or stop following", "screen", "Follow"),
    Command("search_logs", "slash", LOG, "show only the lines containing a text (escape clears)", "screen",
            "Search"),
    Command("timestamps", "t", LOG, "show the engine's timestamps, or hide them", "screen", "Timestamps"),
    Command("close_logs", "escape", LOG, "back to the containers", "screen", "Back"),
    # Disk usage.
    Command("usage_kind", "tab", USE, "next pane: the kinds, the selected kind's objects",
            shown="tab / shift+tab"),
    Command("prune_kind", "p", USE, "prune the selected kind (a preview names what goes and what it frees)",
            "screen", "Prune"),
    Command("reload_usage", "r", USE, "read the disk usage again", "screen", "Refresh"),
    Command("close_usage", "escape", USE, "back to the images", "screen", "Back"),
    # The fleet view.
    Command("find_image", "slash", FLT, "find an image on every engine by name, ID or digest", "screen",
            "Find"),
    Command("clean_fleet", "D", FLT, "prune the dangling images of every engine (a preview lists each "
            "engine's images and bytes), engine by engine", "screen", "Prune all"),
    Command("reload_fleet", "r", FLT, "ask every engine again", "screen", "Refresh"),
    Command("close_fleet", "escape", FLT, "back to the images", "screen", "Back"),
    # The registry view.
    Command("delete_tag", "d", R, "delete a tag by digest (the preview names every tag on that digest)",
            "screen", "Delete tag"),
    Command("only_tag", "T", R, "delete only this tag: the other tags on its digest stay (a throwaway "
            "manifest takes its place, then is deleted by digest)", "screen",
            palette="Delete only this tag"),
    Command("retention", "K", R, "retention: keep the newest N tags by created time and tags matching "
            "patterns, delete the rest (a preview first)", "screen", palette="Registry retention"),
    Command("pull_remote", "p", R, "pull the tag or platform into the engine", "screen", "Pull"),
    Command("filter_remote", "slash", R, "filter the focused list as you type", "screen", "Filter"),
    Command("login_remote", "A", R, "log in to this registry for the session (kept in memory only)",
            "screen", "Log in"),
    Command("reload_remote", "r", R, "read the catalog again", "screen", "Reload"),
    Command("close_remote", "escape", R, "back to the images", "screen", "Back"),
    # The inspect view.
    Command("search_tree", "slash", INS, "search keys and values", "screen", "Search"),
    Command("next_match", "n", INS, "next match", "screen", "Next match"),
    Command("copy", "c", INS, "copy the selected value", "screen", "Copy value"),
    Command("expand_all", "e", INS, "expand every node", "screen", "Expand all"),
    Command("collapse_all", "E", INS, "collapse every node", "screen", "Collapse all"),
    Command("close_inspect", "escape", INS, "back", "screen", "Back"),
    # The layer contents view.
    Command("contents_scope", "tab", CON, "switch: what this layer changed / the filesystem as of this layer",
            "screen", "Layer / all"),
    Command("previous_layer", "left_square_bracket", CON, "the layer below", "screen", "Layer below",
            shown="["),
    Command("next_layer", "right_square_bracket", CON, "the layer above", "screen", "Layer above", shown="]"),
    Command("wasted_only", "w", CON, "only the wasted versions (every layer), or back", "screen", "Wasted"),
    Command("change_kind", "k", CON, "only added, modified, removed entries, or all", "screen", "Kind"),
    Command("sort_contents", "s", CON, "sort by size or by name", "screen", "Sort"),
    Command("filter_contents", "slash", CON, "filter paths as you type", "screen", "Filter"),
    Command("extract", "e", CON, "on a file: show its text, or save it out of the image (only it is read)",
            "screen", "Show / save"),
    Command("close_contents", "escape", CON, "back (or clear the filter)", "screen", "Back"),
    # A file of a layer.
    Command("save_file", "s", FIL, "save the whole file (to the working folder unless told otherwise)",
            "screen", "Save"),
    Command("close_file", "escape", FIL, "cancel the save, or back to the contents", "screen", "Back"),
    # Two images compared.
    Command("close_compare", "escape", CMP, "back to the images", "screen", "Back"),
    # Search results.
    Command("pull_result", "enter", SRCH, "pull the selected result", "screen", "Pull"),
    Command("close_search", "escape", SRCH, "back", "screen", "Back"),
    # Dialogs: the keys each dialog shows.
    Command("confirm", "y,enter", DLG, "yes, as the dialog's first choice says", shown="y / enter"),
    Command("cancel", "n,escape", DLG, "no, cancel: nothing is done", shown="n / escape"),
    # Everywhere.
    Command("palette", "ctrl+p", E, "command palette: every action by name"),
    Command("help", "question_mark", E, "every key (this table)", "app", "Keys"),
    Command("quit", "q", E, "quit", "app", "Quit"),
)  # fmt: skip
BY_NAME = {c.name: c for c in COMMANDS}


def bindings(where: Where) -> list[Binding]:
    """The bindings of a screen (or of the App, for EVERYWHERE): each runs its command by name."""
    return [
        Binding(
            c.keys,
            f"run('{c.name}')",
            c.label or c.palette or c.name,
            show=bool(c.label),
            id=c.name,
            tooltip=c.help,
        )  # fmt: skip
        for c in COMMANDS
        if c.where is where and c.keys and c.handler and c.bind
    ]


def run(screen: Screen[Any], name: str) -> None:
    """Run command `name` for `screen`: its handler's `command_NAME` method."""
    owner = BY_NAME[name].handler
    target: object
    if owner == "app":
        target = screen.app
    elif owner == "screen":
        target = screen
    else:
        target = screen.query_one(f"#{owner}-feature")  # a feature of the images view
    getattr(target, f"command_{name}")()


def palette(where: Where) -> Iterator[Command]:
    """The commands of a view that the command palette offers."""
    return (c for c in COMMANDS if c.where is where and c.palette)


def help_rows() -> list[tuple[str, str, str]]:
    """(where, keys, what) for every row, in the table's order."""
    return [(c.where.value, c.key_text, c.help) for c in COMMANDS if c.keys]


def readme_table() -> str:
    """The README's `## Keys` table."""
    lines = ["| where | key | what it does |", "| --- | --- | --- |"]
    for where, keys, what in help_rows():
        lines.append(f"| {where} | `{keys}` | {what} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(readme_table())
