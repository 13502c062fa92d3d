"""The floor for the start-up measure: a minimal Textual app importing the same packages (textual, docker,
humanize) that shows the raw `GET /images/json` rows in one DataTable, then exits. Prints its peak RSS."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

import docker
import humanize
from textual.app import App, ComposeResult
from textual.widgets import DataTable


def peak_kb() -> int:
    """This process's peak resident memory: VmHWM (getrusage's maxrss carries the parent's over fork and
    exec: the benchmark's own memory would be counted)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class Floor(App[None]):
    def __init__(self, host: str) -> None:
        super().__init__()
        self.host = host

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        api = docker.APIClient(base_url=self.host, version="auto")
        table = self.query_one(DataTable)
        table.add_columns("Repository:tag", "Image ID", "Size")
        for row in api.images():
            tags = row.get("RepoTags") or ["<none>:<none>"]
            table.add_row(tags[0], row["Id"][7:19], humanize.naturalsize(row["Size"]))
        self.call_after_refresh(self.exit)


if __name__ == "__main__":
    Floor(sys.argv[1]).run(headless=True, size=(120, 36))
    print(json.dumps({"rss_kb": peak_kb()}))
