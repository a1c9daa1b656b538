"""`mambaic-gui`: parse the command line, check for a display, start Qt, show the window."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt is imported only once a display is known to exist
    from PySide6.QtCore import QSettings

    from mambaic_gui.main_window import MainWindow


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mambaic-gui", description="Compress images with MambaIC and compare the results.")
    parser.add_argument("file", nargs="?", help="an image or .mic file to open")
    parser.add_argument("--weights", help="model weights (.safetensors); default: the shipped model")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="where the model runs")
    parser.add_argument("--install-desktop", action="store_true",
                        help="install the menu entry, .mic file type and icons for this user, "
                             "then exit")
    return parser.parse_args(argv)


def _install_excepthook(window: MainWindow) -> None:
    """Show a bug in a dialog instead of losing it on stderr; the app keeps running."""
    from mambaic_gui.errors import describe

    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        traceback.print_exception(kind, value, tb)
        if isinstance(value, Exception):
            window.show_error(describe(value))
        else:
            previous(kind, value, tb)

    sys.excepthook = hook


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.install_desktop:
        from mambaic_gui.desktop import install

        return install()

    from mambaic_gui.display import display_problem

    problem = display_problem()
    if problem is not None:
        print(f"mambaic-gui: {problem}", file=sys.stderr)
        return 2

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0] if sys.argv else "mambaic-gui"])
    app.setOrganizationName("mambaic")
    app.setApplicationName("mambaic-gui")
    app.setApplicationDisplayName("MambaIC")
    app.setDesktopFileName("mambaic-gui")  # ties the window to the .desktop entry (Wayland icon)
    window = open_window(args, QSettings())
    app.aboutToQuit.connect(window.shutdown)
    _install_excepthook(window)
    return app.exec()


def open_window(args: argparse.Namespace, settings: QSettings) -> MainWindow:
    """Show the main window for parsed command-line `args` (needs a running QApplication)."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from mambaic_gui.main_window import MainWindow
    from mambaic_gui.resources import app_icon

    pg.setConfigOptions(antialias=True)
    window = MainWindow(settings=settings, weights=args.weights, device=args.device,
                        icon=app_icon())
    QApplication.setWindowIcon(window.windowIcon())
    window.show()
    if args.file:
        window.open_path(args.file)
    return window
