"""File ▸ Open Recent: the menu kept in step with the remembered list in the settings.

The window only says when a file was opened, saved or found missing; this keeps the list and its
menu agreeing (labels from `recent_labels`, which tell same-named files apart).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMenu

from mambaic_gui.recent_labels import recent_labels
from mambaic_gui.settings import AppSettings


class RecentFiles:
    """The recent-files list of `settings` shown in `menu`; picking an entry calls `open_path`."""

    def __init__(self, menu: QMenu, settings: AppSettings,
                 open_path: Callable[[str], None]) -> None:
        self._menu = menu
        self._settings = settings
        self._open_path = open_path
        self.refresh()

    def add(self, path: str) -> None:
        """`path` was opened or saved: first in the list."""
        self._settings.add_recent(path)
        self.refresh()

    def forget(self, path: str) -> None:
        """`path` is gone from the disk: an entry for it would only fail again."""
        self._settings.remove_recent(path)
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the menu from the settings (the full path in the tooltip and status bar)."""
        self._menu.clear()
        recent = self._settings.recent_files()
        for path, label in zip(recent, recent_labels(recent)):
            action = self._menu.addAction(label)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self._open_path(p))
        self._menu.setEnabled(bool(recent))
