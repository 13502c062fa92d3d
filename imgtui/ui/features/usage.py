"""`u`: disk usage (screens/usage.py), `docker system df -v` as a view with a prune for each kind."""

from __future__ import annotations

from imgtui.ui.features import Feature


class Usage(Feature):
    """`u`: the disk usage view."""

    def command_disk_usage(self) -> None:
        from imgtui.ui.screens.usage import UsageScreen  # imported when first opened, not at start-up

        self.app.push_screen(UsageScreen(self.view.engine))
