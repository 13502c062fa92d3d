"""The private names imgtui relies on where the libraries offer no public way, each used in one wrapper
(see the wrapper's docstring): these tests fail when a release renames one, before a user meets it."""

from __future__ import annotations

import docker
from textual.widgets import DataTable

from imgtui.engine.client import set_api_version


def test_docker_py_reads_the_api_version_from_version() -> None:
    """engine/client.py: set_api_version."""
    api = docker.APIClient(base_url="unix:///nonexistent/imgtui.sock", version="1.30")
    assert api._version == "1.30" and api.api_version == "1.30"
    set_api_version(api, "1.41")
    assert api.api_version == "1.41"
    api.close()


def test_textual_datatable_sizes_itself_in_update_dimensions() -> None:
    """ui/widgets/tables.py: ItemTable._update_dimensions."""
    assert callable(getattr(DataTable, "_update_dimensions", None))
    table: DataTable[str] = DataTable()
    assert isinstance(table._total_row_height, int) and isinstance(table._row_label_column_width, int)
