"""Every user command as a QAction with its shortcut, and the menus and toolbar built from them.

Keeping the actions in one object lets tests trigger exactly what a menu click or key press does.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QToolBar, QToolButton

from mambaic.codec.effort import EFFORT_MAX, EFFORT_STEPS
from mambaic_gui.tasks import EQUAL_SIZE_CODECS, equal_size_choices
from mambaic_gui.views.compare import Orientation, ViewMode

StandardKey = QKeySequence.StandardKey


def _action(parent: QObject, text: str, shortcut: QKeySequence | str | StandardKey | None = None,
            tip: str = "", icon: QIcon | None = None, checkable: bool = False) -> QAction:
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                          if shortcut is not None else tip)
    if icon is not None:
        action.setIcon(icon)
    action.setCheckable(checkable)
    return action


def effort_label(level: int) -> str:
    """The menu's name for an effort level: its number and the refinement steps it spends."""
    steps = EFFORT_STEPS[level]
    return f"&{level} – " + ("Plain (fastest)" if steps == 0 else f"{steps} refinement steps")


def effort_tip(level: int) -> str:
    """What a level does, without promising a smaller file for any particular image."""
    steps = EFFORT_STEPS[level]
    if steps == 0:
        return "Effort 0: the plain encoder, no refinement"
    return (f"Effort {level}: fit the coded latents to this image in {steps} gradient steps; a "
            "tile keeps that coding only where its rate–distortion cost (λ·MSE + bits) is lower "
            "than the plain coding's. Encoding takes longer; the Metrics panel shows what it "
            "changed on this image")


class Actions:
    """The window's commands; `build_menus` and `build_toolbar` lay them out."""

    def __init__(self, window: QMainWindow) -> None:
        style = window.style()
        icon = style.standardIcon
        px = QStyle.StandardPixmap
        self.open = _action(window, "&Open…", StandardKey.Open, "Open an image or a .mic file",
                            icon(px.SP_DialogOpenButton))
        self.save_mic = _action(window, "&Save .mic…", StandardKey.Save,
                                "Save the compressed file", icon(px.SP_DialogSaveButton))
        self.export_png = _action(window, "&Export Decoded PNG…", "Ctrl+E",
                                  "Save the decoded image as PNG")
        self.attach_original = _action(window, "Compare with &Original…", None,
                                       "Choose the original of this .mic file for PSNR and "
                                       "MS-SSIM")
        self.batch_encode = _action(window, "&Batch Encode…", "Ctrl+B",
                                    "Encode many images, or a folder of them, to .mic files")
        self.quit = _action(window, "&Quit", StandardKey.Quit)
        self.paste = _action(window, "&Paste Image", StandardKey.Paste,
                             "Open the image on the clipboard")
        self.copy_metrics = _action(window, "&Copy Metrics", "Ctrl+Shift+C",
                                    "Copy the numbers to the clipboard")
        self.cancel = _action(window, "&Cancel", "Esc", "Stop the running encode",
                              icon(px.SP_BrowserStop))
        self.modes = {
            ViewMode.SIDE_BY_SIDE: _action(window, "Side by Side", "1", "Original and decoded "
                                           "side by side", checkable=True),
            ViewMode.SPLIT: _action(window, "Split", "2", "One view split by a draggable line",
                                    checkable=True),
            ViewMode.HEATMAP: _action(window, "Error Heatmap", "3", "Where the error is: "
                                      "|original − decoded|", checkable=True),
        }
        self.mode_group = QActionGroup(window)
        for action in self.modes.values():
            self.mode_group.addAction(action)
        self.cycle_mode = _action(window, "Next View Mode", "V", "Cycle the view modes")
        self.orientations = {
            Orientation.AUTO: _action(window, "&Automatic", None, "Side by side: whichever "
                                      "placement shows the image larger", checkable=True),
            Orientation.LEFT_RIGHT: _action(window, "&Left and Right", None,
                                            "Side by side: original left, decoded right",
                                            checkable=True),
            Orientation.TOP_BOTTOM: _action(window, "&Top and Bottom", None,
                                            "Side by side: original above, decoded below",
                                            checkable=True),
        }
        self.orientation_group = QActionGroup(window)
        for action in self.orientations.values():
            self.orientation_group.addAction(action)
        self.fit = _action(window, "&Fit to Window", "Ctrl+0", "Show the whole image")
        self.actual_size = _action(window, "&100 %", "Ctrl+1",
                                   "One image pixel per screen pixel")
        self.zoom_in = _action(window, "Zoom &In", StandardKey.ZoomIn, "Zoom in")
        self.zoom_out = _action(window, "Zoom &Out", StandardKey.ZoomOut, "Zoom out")
        self.rd_chart = _action(window, "Compute &Rate–Distortion Chart", None,
                                "Encode the image with mambaic and classic codecs in the "
                                "background", checkable=True)
        self.quality_down = _action(window, "Lower Quality", "[", "Quality −0.1")
        self.quality_up = _action(window, "Higher Quality", "]", "Quality +0.1")
        self.level_down = _action(window, "Previous Paper Level", "Ctrl+[",
                                  "Jump to the next lower marked level")
        self.level_up = _action(window, "Next Paper Level", "Ctrl+]",
                                "Jump to the next higher marked level")
        self.fit_to_size = _action(window, "&Fit to Size…", "Ctrl+T",
                                   "Encode at the highest quality whose file fits a size "
                                   "(50KB, 20000, 0.5 bpp)")
        self.efforts = {level: _action(window, effort_label(level), None, effort_tip(level),
                                       checkable=True)
                        for level in range(EFFORT_MAX + 1)}
        self.effort_group = QActionGroup(window)
        for action in self.efforts.values():
            self.effort_group.addAction(action)
        self.next_effort = _action(window, "&Next Effort Level", "Ctrl+R",
                                   "Encode at the next effort level (after the highest, back to "
                                   "0)")
        self.compare_original = _action(window, "&Original (mambaic's input)", None,
                                        "The other pane shows the original image",
                                        checkable=True)
        self.compare_original.setChecked(True)
        #: Codec key → "… at the Same Size"; a codec this machine lacks is disabled, its tooltip
        #: says why.
        self.compare_with: dict[str, QAction] = {}
        for key, reason in equal_size_choices().items():
            name = EQUAL_SIZE_CODECS[key]
            if reason is None:
                action = _action(window, f"{name} at the &Same Size", None,
                                 f"The other pane shows the original coded with {name} at the "
                                 "largest quality whose file is not larger than the .mic",
                                 checkable=True)
            else:
                action = _action(window, f"{name} at the Same Size (unavailable)", None,
                                 f"{name} is not available: {reason}", checkable=True)
                action.setEnabled(False)
            self.compare_with[key] = action
        self.compare_group = QActionGroup(window)
        for action in [self.compare_original, *self.compare_with.values()]:
            self.compare_group.addAction(action)
        self.compare_menu = QMenu("Compare &With", window)
        self.compare_menu.setToolTipsVisible(True)
        self.load_weights = _action(window, "Load &Weights…", None, "Use another model file")
        self.devices = {"cpu": _action(window, "CPU", checkable=True),
                        "cuda": _action(window, "CUDA GPU", checkable=True)}
        self.device_group = QActionGroup(window)
        for action in self.devices.values():
            self.device_group.addAction(action)
        self.about = _action(window, "&About MambaIC", StandardKey.HelpContents)
        self.recent_menu = QMenu("Open &Recent", window)
        #: Filled by the window with each dock's show/hide action (a closed dock comes back here).
        self.panels_menu = QMenu("&Panels", window)
        for action in self.all():
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)  # shortcuts work even when a menu bar is hidden

    def all(self) -> list[QAction]:
        return [a for a in vars(self).values() if isinstance(a, QAction)] + \
            list(self.modes.values()) + list(self.orientations.values()) + \
            list(self.devices.values()) + list(self.efforts.values()) + \
            list(self.compare_with.values())

    def build_menus(self, window: QMainWindow) -> None:
        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.open])
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.attach_original)
        file_menu.addSeparator()
        file_menu.addActions([self.save_mic, self.export_png])
        file_menu.addSeparator()
        file_menu.addAction(self.batch_encode)
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.paste, self.copy_metrics, self.cancel])
        view = bar.addMenu("&View")
        view.addActions(list(self.modes.values()))
        view.addAction(self.cycle_mode)
        self.compare_menu.addAction(self.compare_original)
        self.compare_menu.addSeparator()
        self.compare_menu.addActions(list(self.compare_with.values()))
        view.addMenu(self.compare_menu)
        view.addMenu("Side-by-Side &Layout").addActions(list(self.orientations.values()))
        view.addSeparator()
        view.addActions([self.fit, self.actual_size, self.zoom_in, self.zoom_out])
        view.addSeparator()
        view.addAction(self.rd_chart)
        view.addSeparator()
        view.addMenu(self.panels_menu)
        quality = bar.addMenu("&Quality")
        quality.addActions([self.quality_down, self.quality_up, self.level_down, self.level_up])
        quality.addSeparator()
        quality.addAction(self.fit_to_size)
        quality.addSeparator()
        effort = quality.addMenu("&Effort")
        effort.setToolTipsVisible(True)
        effort.addActions(list(self.efforts.values()))
        effort.addSeparator()
        effort.addAction(self.next_effort)
        model = bar.addMenu("&Model")
        model.addAction(self.load_weights)
        devices = model.addMenu("&Device")
        devices.addActions(list(self.devices.values()))
        bar.addMenu("&Help").addAction(self.about)

    def build_toolbar(self, window: QMainWindow) -> QToolBar:
        toolbar = window.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addActions([self.open, self.save_mic])
        toolbar.addSeparator()
        toolbar.addActions(list(self.modes.values()))
        compare = QToolButton()
        compare.setObjectName("compareWithButton")
        compare.setText("Compare With")
        compare.setToolTip("What the other pane shows: the original, or a classic codec at the "
                           "same file size as the .mic")
        compare.setMenu(self.compare_menu)
        compare.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        toolbar.addWidget(compare)
        self.compare_button = compare
        toolbar.addSeparator()
        toolbar.addActions([self.fit, self.actual_size])
        return toolbar
