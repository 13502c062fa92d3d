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


def test_textual_datatable_keeps_its_rows_where_itemtable_puts_its_views() -> None:
    """ui/widgets/tables.py: ItemTable replaces DataTable's row storage (`rows`, `_data`, `_row_locations`,
    `_y_offsets`, `ordered_rows`) with views of its items, and draws through `_get_row_region`,
    `_get_cell_region`, `_clear_caches` and `_update_count`. A release that moved them would draw nothing."""
    table: DataTable[str] = DataTable()
    assert isinstance(table.rows, dict) and isinstance(table._data, dict)
    assert callable(table._row_locations.get) and callable(table._row_locations.get_key)
    assert isinstance(table._y_offsets, list) and isinstance(table.ordered_rows, list)
    assert isinstance(table._update_count, int) and callable(table._clear_caches)
    for name in ("_get_row_region", "_get_cell_region", "_render_line", "_compute_row_renderables"):
        assert callable(getattr(DataTable, name, None)), name
