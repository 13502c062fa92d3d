"""The images view's features: each module holds one thing the user does (its commands, workers, dialogs and
messages) as a Feature, a widget with nothing to show that the images screen mounts. A feature reaches the
view through `ImagesView` (what the screen offers), never another feature; its commands are named in
imgtui/ui/commands.py with the feature's id as their handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from textual.widget import Widget

if TYPE_CHECKING:
    from imgtui.engine import Catalog, Engine, OutcomeLine, Tag
    from imgtui.registry import Registry
    from imgtui.ui.widgets.image_tables import LayerTable, RepositoryTable, TagTable
    from imgtui.ui.widgets.job import JobBar


class ImagesView(Protocol):
    """What the images screen offers its features."""

    engine: Engine
    catalog: Catalog
    repos: RepositoryTable
    tags: TagTable
    layer_table: LayerTable
    job_bar: JobBar
    insecure_registries: set[str]

    def sync_panes(self) -> None:
        """Bring the tags pane up to the repositories cursor (keys typed ahead can outrun its messages)."""

    def selected_tag(self) -> Tag | None:
        """The tag under the cursor (the panes brought up to date first), or None with a word to the user."""

    def marked_tags(self) -> list[Tag]:
        """Every marked name, whichever repository or pane it was marked in."""

    def log_lines(self, *lines: OutcomeLine) -> None:
        """Add to the outcome log and show it."""

    def reread_images(self, refs: list[str]) -> None:
        """(From a worker.) Read these images again and update the panes."""

    def read_disk_usage(self) -> None:
        """Read the disk figure of the status line again, in a worker."""

    def select_image(self, image_id: str | None) -> None:
        """Put the cursor on a tag of this image."""

    def registry(self, address: str, insecure: bool = False) -> Registry:
        """The session's client for a registry."""

    def remote_changed(self) -> None:
        """A push or pull may have changed how local tags compare with their registry."""

    def update_titles(self) -> None:
        """Write the panes' titles again (a registry status came in)."""


class Feature(Widget):
    """A feature of the images view: no pixels, only commands, workers and messages."""

    DEFAULT_CSS = "Feature { display: none; }"

    @property
    def view(self) -> ImagesView:
        """The images screen, as far as features may use it."""
        return self.screen  # type: ignore[return-value]
