"""The floor of the bytes-per-key measure (bench/terminal_bytes.py): a bare Textual DataTable of the engine's
repositories (name, tag count, size), full screen, focused; down-arrows move its cursor. Runs until killed."""

from __future__ import annotations

import os
from collections import Counter

import docker
import humanize
from textual.app import App, ComposeResult
from textual.widgets import DataTable


class FloorTable(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        api = docker.APIClient(base_url=os.environ["DOCKER_HOST"], version="auto")
        tags: Counter[str] = Counter()
        sizes: dict[str, int] = {}
        for row in api.images():
            for name in row.get("RepoTags") or ["<none>:<none>"]:
                repo = name.rpartition(":")[0]
                tags[repo] += 1
                sizes[repo] = sizes.get(repo, 0) + int(row.get("Size") or 0)
        table = self.query_one(DataTable)
        table.add_columns("Repository", "Tags", "Size")
        for repo in sorted(tags):
            table.add_row(repo, str(tags[repo]), humanize.naturalsize(sizes[repo]))
        table.focus()


if __name__ == "__main__":
    FloorTable().run()
