"""The main window: wires actions, views and panels to the job scheduler. No codec logic here.

State kept here: the open `Document`, the result on screen, the quality the user asked for, and the
cache of results. Every codec call is a job for the worker thread (see `tasks`); results come back
through callbacks on the GUI thread and are shown only if they still match what the user wants.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolBar,
    QToolButton,
    QWidget,
)

from mambaic.atomic import atomic_write
from mambaic.codec.effort import EFFORT_STEPS
from mambaic_gui import tasks
from mambaic_gui.about import about_box
from mambaic_gui.actions import Actions
from mambaic_gui.cache import ResultCache, quality_key
from mambaic_gui.decode_guard import confirm_decode, file_prefix
from mambaic_gui.dialogs import error_box
from mambaic_gui.document import (
    CodecResult,
    Document,
    EqualSizeComparison,
    FitResult,
    ModelSummary,
    RatePoint,
)
from mambaic_gui.batch_dialog import BatchDialog
from mambaic_gui.drop import DropHandler
from mambaic_gui.errors import UserError, describe
from mambaic_gui.jobs import Job
from mambaic_gui.mime import Openable, openable_from_mime
from mambaic_gui.panels.metrics import MetricsPanel, comparison_rows
from mambaic_gui.panels.quality import QualityControl
from mambaic_gui.panels.rate_plot import RatePlot
from mambaic_gui.panels.rd_plot import RDPlot
from mambaic_gui.recent_files import RecentFiles
from mambaic_gui.scheduler import JobScheduler
from mambaic_gui.settings import AppSettings
from mambaic_gui.views.compare import CompareView, Orientation, ViewMode

#: Opening a file makes earlier opens, encodes and same-size comparisons pointless (see
#: `Job.supersedes`); Esc stops these.
CANCELLABLE = ("open", "encode", "equal", "fit")
#: Same-size comparisons kept (each holds one decoded image and its pyramid).
EQUAL_SIZE_CACHE = 6

IMAGE_FILTER = ("Images and .mic files (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif *.avif "
                "*.mic);;.mic files (*.mic);;All files (*)")


def _point(result: CodecResult) -> RatePoint | None:
    if result.psnr is None or result.ms_ssim is None:
        return None
    return RatePoint("mambaic", result.quality, result.info.bpp, result.psnr, result.ms_ssim,
                     refined=result.refined_tiles > 0)


def _caption(result: CodecResult, comparing: bool = False) -> str:
    """The decoded pane's title; next to another codec it names mambaic and gives the bytes."""
    if comparing:
        caption = f"mambaic · q {result.quality:.2f} · {len(result.mic):,} B · " \
            f"{result.info.bpp:.3f} bpp"
    else:
        caption = f"Decoded · q {result.quality:.2f} · {result.info.bpp:.3f} bpp"
    if result.psnr is not None:
        caption += " · lossless" if result.psnr == float("inf") else f" · {result.psnr:.2f} dB"
    return caption


def _reference_title(comparison: EqualSizeComparison) -> str:
    """The other pane's title: what was measured on the classic file, and whether it fits."""
    size = f"{comparison.num_bytes:,} B · {comparison.bpp:.3f} bpp"
    psnr = "lossless" if comparison.psnr == float("inf") else f"{comparison.psnr:.2f} dB"
    if comparison.fits:
        return f"{comparison.label} · q {comparison.quality} · {size} · {psnr}"
    return (f"{comparison.label} · smallest file (q {comparison.quality}) is larger than the "
            f".mic's {comparison.target_bytes:,} B · {size} · {psnr}")


class MainWindow(QMainWindow):
    """One window, one document at a time."""

    def __init__(self, settings: QSettings | None = None, weights: str | None = None,
                 device: str | None = None, icon: QIcon | None = None) -> None:
        super().__init__()
        self.setWindowTitle("MambaIC")
        if icon is not None:
            self.setWindowIcon(icon)
        self.settings = AppSettings(settings or QSettings())
        self.scheduler = JobScheduler(self)
        self.cache = ResultCache()
        self.document: Document | None = None
        self.result: CodecResult | None = None
        self.model: ModelSummary | None = None
        self.last_error: UserError | None = None
        self.error_dialog: QMessageBox | None = None
        self._rd_started_for: int | None = None
        #: The classic codec the other pane shows at the .mic's size (None: the original), the
        #: comparison on screen, and those computed so far by (document, codec, target bytes).
        self.compare_with: str | None = None
        self.comparison: EqualSizeComparison | None = None
        self._equal_cache: dict[tuple[int, str, int], EqualSizeComparison] = {}
        self.batch_dialog: BatchDialog | None = None

        self.compare = CompareView()
        self.setCentralWidget(self.compare)
        self.drop = DropHandler(self, self.compare, self.open_openable, self.open_batch)
        self.quality = QualityControl()
        self.metrics = MetricsPanel()
        self.rate_plot = RatePlot()
        self.rd_plot = RDPlot()
        self.commands = Actions(self)
        self.commands.build_menus(self)
        self.commands.build_toolbar(self)
        self.recent = RecentFiles(self.commands.recent_menu, self.settings, self.open_path)
        self._build_quality_toolbar()
        self._build_docks()
        self._build_status_bar()
        self._connect()

        self.commands.rd_chart.setChecked(self.settings.rd_chart)
        self._select_effort(self.settings.effort)
        self.compare.set_mode(self.settings.view_mode)
        self._sync_mode_actions()
        self._restore_orientation()
        self.rd_plot.set_metric(self.settings.rd_metric)
        self.quality.set_value(self.settings.quality)
        self._wanted_quality = self.quality.value()
        self._restore_layout()
        self._update_enabled()
        self.load_model(weights if weights is not None else self.settings.weights,
                        device or self.settings.device, fall_back=True)

    # ---- layout -----------------------------------------------------------------------------
    def _build_quality_toolbar(self) -> None:
        bar = QToolBar("Quality")
        bar.setObjectName("qualityToolbar")
        bar.addWidget(self.quality)
        self.quality.setMinimumWidth(420)
        box = QComboBox()
        box.setObjectName("effortBox")
        box.setToolTip("Effort: refinement steps the encoder spends (Quality ▸ Effort; Ctrl+R "
                       "for the next level)")
        for level, action in self.commands.efforts.items():
            box.addItem(f"Effort {level}: " + ("plain" if EFFORT_STEPS[level] == 0 else
                                               f"{EFFORT_STEPS[level]} steps"))
            box.setItemData(level, action.toolTip(), Qt.ItemDataRole.ToolTipRole)
        box.activated.connect(lambda level: self.commands.efforts[level].trigger())
        self.effort_box = box
        bar.addWidget(box)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_docks(self) -> None:
        self._docks = [self._dock("Metrics", "metricsDock", self.metrics),
                       self._dock("Bits per slice", "rateDock", self.rate_plot),
                       self._dock("Rate–distortion", "rdDock", self.rd_plot)]
        self.commands.panels_menu.addActions([dock.toggleViewAction() for dock in self._docks])

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.stage_label = QLabel()
        cancel = QToolButton()
        cancel.setDefaultAction(self.commands.cancel)
        self.cancel_button = cancel
        self.device_label = QLabel("no model")
        self.readout_label = QLabel()
        self.readout_label.setObjectName("readout")
        self.readout_label.setMinimumWidth(1)  # shrinks rather than widening the window
        bar.addPermanentWidget(self.readout_label)
        for widget in (self.stage_label, self.progress, cancel):
            bar.addPermanentWidget(widget)
            widget.hide()
        bar.addPermanentWidget(self.device_label)

    def _connect(self) -> None:
        a = self.commands
        a.open.triggered.connect(self.choose_file)
        a.save_mic.triggered.connect(self.save_mic)
        a.export_png.triggered.connect(self.export_png)
        a.attach_original.triggered.connect(self.choose_original)
        a.batch_encode.triggered.connect(lambda: self.open_batch([]))
        a.quit.triggered.connect(self.close)
        a.paste.triggered.connect(self.paste)
        a.copy_metrics.triggered.connect(self.copy_metrics)
        a.cancel.triggered.connect(self.cancel)
        for mode, action in a.modes.items():
            action.triggered.connect(lambda _=False, m=mode: self.compare.set_mode(m))
        a.cycle_mode.triggered.connect(self.compare.cycle_mode)
        a.fit.triggered.connect(self.compare.fit)
        a.actual_size.triggered.connect(lambda: self.compare.zoom_to(1.0))
        a.zoom_in.triggered.connect(lambda: self.compare.zoom_by(2.0))
        a.zoom_out.triggered.connect(lambda: self.compare.zoom_by(0.5))
        a.quality_down.triggered.connect(lambda: self.quality.step(-0.1))
        a.quality_up.triggered.connect(lambda: self.quality.step(0.1))
        a.level_down.triggered.connect(lambda: self.quality.jump_to_mark(-1))
        a.level_up.triggered.connect(lambda: self.quality.jump_to_mark(1))
        a.load_weights.triggered.connect(self.choose_weights)
        for device, action in a.devices.items():
            action.triggered.connect(lambda _=False, d=device: self.load_model(
                self.model.weights_path if self.model else self.settings.weights, d))
        a.rd_chart.toggled.connect(self._on_rd_chart_toggled)
        for level, action in a.efforts.items():
            action.triggered.connect(lambda _=False, e=level: self._on_effort_chosen(e))
        a.next_effort.triggered.connect(
            lambda: a.efforts[(self._effort() + 1) % len(a.efforts)].trigger())
        a.about.triggered.connect(self.show_about)
        a.fit_to_size.triggered.connect(self.choose_target)
        a.compare_original.triggered.connect(lambda: self.set_compare_with(None))
        for key, action in a.compare_with.items():
            action.triggered.connect(lambda _=False, k=key: self.set_compare_with(k))
        for orientation, action in a.orientations.items():
            action.triggered.connect(lambda _=False, o=orientation: self._set_orientation(o))
        self.compare.mode_changed.connect(self._on_mode_changed)
        self.compare.readout_changed.connect(self.readout_label.setText)
        self.rd_plot.metric_changed.connect(lambda key: setattr(self.settings, "rd_metric", key))
        self.quality.committed.connect(self.request_encode)
        self.scheduler.progress.connect(self._on_progress)
        self.scheduler.busy_changed.connect(self._on_busy)

    # ---- model ------------------------------------------------------------------------------
    def load_model(self, weights: str | None, device: str, fall_back: bool = False) -> None:
        """Load weights on the worker; nothing else runs until this finishes.

        With `fall_back` (at start-up), a failure is reported and the shipped weights on the CPU
        are tried next, so weights moved away or a GPU gone since last time do not leave the app
        without a model.
        """
        self.device_label.setText(f"loading model ({device})…")

        def failed(error: UserError) -> None:
            self._on_model_failed(error)
            if fall_back and (weights is not None or device != "cpu"):
                self.load_model(None, "cpu")

        self.scheduler.submit("load", tasks.load_model(weights, device), replaces_codec=True,
                              on_finished=lambda summary: self._on_model(summary, weights),
                              on_failed=failed)

    def _on_model(self, summary: ModelSummary, weights: str | None) -> None:
        self.model = summary
        self.settings.weights = weights
        self.settings.device = summary.device.split(":")[0]
        self.device_label.setText(f"{summary.name} · {summary.device}")
        self.metrics.set_model(f"{summary.name} ({summary.weights_sha256[:8]})")
        self.commands.devices["cuda"].setEnabled(summary.cuda_available)
        self._check_device_action()
        self.quality.set_range(summary.quality_range, summary.paper_qualities)
        self.quality.set_value(self._wanted_quality)
        self.cache.clear()
        self._rd_started_for = None
        self.scheduler.cancel_background()
        if self.document is not None and not self.document.is_mic:
            self.request_encode(self.quality.value())
        self._update_enabled()

    def _on_model_failed(self, error: UserError) -> None:
        self.device_label.setText("no model" if self.model is None else
                                  f"{self.model.name} · {self.model.device}")
        self._check_device_action()
        self.show_error(error)

    def _check_device_action(self) -> None:
        """Tick the device the model actually runs on (a failed switch leaves it where it was)."""
        device = self.model.device.split(":")[0] if self.model else self.settings.device
        self.commands.devices.get(device, self.commands.devices["cpu"]).setChecked(True)

    def choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load weights", self.settings.last_directory,
                                              "Weights (*.safetensors);;All files (*)")
        if path:
            self.load_model(path, self.model.device.split(":")[0] if self.model else "cpu")

    # ---- opening ----------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image or .mic file",
                                              self.settings.last_directory, IMAGE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> None:
        """Open an image or .mic file in the background (errors end in a dialog)."""
        path = Path(path).expanduser()
        self.settings.last_directory = str(path.parent)
        if not confirm_decode(self, path.name, file_prefix(path), self.show_error):
            return
        self._set_stage(f"opening {path.name}…")
        self.scheduler.submit("open", tasks.open_file(path), supersedes=CANCELLABLE,
                              on_finished=lambda opened: self._on_opened(*opened, path=path),
                              on_failed=lambda error: self._on_open_failed(error, path))

    def open_data(self, name: str, data: bytes) -> None:
        if not confirm_decode(self, name, data, self.show_error):
            return
        self.scheduler.submit("open", tasks.open_data(name, data), supersedes=CANCELLABLE,
                              on_finished=lambda opened: self._on_opened(*opened, path=None),
                              on_failed=self.show_error)

    def open_openable(self, item: Openable) -> None:
        if item.path is not None:
            self.open_path(item.path)
        elif item.data is not None:
            self.open_data(item.name, item.data)

    def paste(self) -> None:
        item = openable_from_mime(QGuiApplication.clipboard().mimeData())
        if item is None:
            self.statusBar().showMessage("The clipboard holds no image or file.", 5000)
        else:
            self.open_openable(item)

    def _on_open_failed(self, error: UserError, path: Path) -> None:
        if not path.exists():
            self.recent.forget(str(path))
        self.show_error(error)

    def _on_opened(self, document: Document, result: CodecResult | None, path: Path | None) -> None:
        self.scheduler.cancel_foreground(("encode",))  # queued for the previous image
        self.scheduler.cancel_background()
        self.cache.clear()
        self.document, self.result = document, None
        self.comparison = None
        self._equal_cache.clear()
        self._rd_started_for = None
        self.rate_plot.clear()
        self.rd_plot.clear()
        self.metrics.clear()
        self.compare.set_original(document.original_view)
        self._update_comparison()
        self.setWindowTitle(f"{document.name} — MambaIC")
        if path is not None:
            self.recent.add(str(path))
        if document.notes:
            self.statusBar().showMessage("Note: " + "; ".join(document.notes), 8000)
        if result is None:
            self.request_encode(self.quality.value())
        else:
            self.quality.set_value(result.quality)
            self._wanted_quality = result.quality
            if document.original is None:
                self.rd_plot.set_status("needs the original image (File ▸ Compare with Original)")
            else:
                self.cache.put(document.token, result.quality, result)
            self._show(result)
            self._start_rd()
        self._update_enabled()

    def open_batch(self, paths: list[Path]) -> BatchDialog:
        """File ▸ Batch Encode…, or a drop of several files or a folder: the batch dialog with
        `paths` added. A new dialog starts from the window's quality and effort; one still open
        is raised and keeps its settings."""
        dialog = self.batch_dialog
        if dialog is None or not (dialog.isVisible() or dialog.running()):
            bounds = self.model.quality_range if self.model is not None else (1.0, 5.0)
            dialog = BatchDialog(self.scheduler, self.quality.value(), self._effort(), bounds, self)
            self.batch_dialog = dialog
        dialog.add_inputs(paths)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def choose_original(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Original image of this .mic file",
                                              self.settings.last_directory, IMAGE_FILTER)
        if path:
            self.attach_original(path)

    def attach_original(self, path: str | Path) -> None:
        """Compare the open .mic file with its original; the app then works as if it was opened."""
        if self.result is None or self.document is None or not self.document.is_mic:
            return
        self.scheduler.submit("open", tasks.attach_original(Path(path), self.result),
                              supersedes=CANCELLABLE,
                              on_finished=lambda opened: self._on_opened(*opened, path=None),
                              on_failed=self.show_error)

    # ---- encoding ---------------------------------------------------------------------------
    def _effort(self) -> int:
        """The effort level selected in Quality ▸ Effort (and the toolbar's box)."""
        return next(level for level, action in self.commands.efforts.items()
                    if action.isChecked())

    def _select_effort(self, level: int) -> None:
        """Tick `level` in the menu and the toolbar box without starting an encode."""
        self.commands.efforts[level].setChecked(True)  # `triggered`, which encodes, stays quiet
        self.effort_box.setCurrentIndex(level)

    def _on_effort_chosen(self, level: int) -> None:
        self._select_effort(level)
        self.settings.effort = level
        if self.document is not None and not self.document.is_mic:
            self.request_encode(self.quality.value())

    def request_encode(self, quality: float) -> None:
        """Show `quality` for the open image: from the cache, or by a new (superseding) job."""
        self._wanted_quality = quality
        self.settings.quality = quality
        document = self.document
        if document is None or document.is_mic:
            return
        effort = self._effort()
        cached = self.cache.get(document.token, quality, effort)
        if cached is not None:
            self.scheduler.cancel_foreground(("encode",))
            self._show(cached)
            return
        if self.result is not None:
            update = f"q {quality:.2f}" + (f" at effort {effort}" if effort else "")
            self.compare.set_decoded_caption(f"Decoded · updating to {update}…")
        self.scheduler.submit("encode", tasks.encode(document, quality, effort),
                              supersedes=("encode", "equal", "fit"),
                              on_finished=lambda r: self._on_encoded(document, quality, r),
                              on_failed=lambda error: self._on_encode_failed(document, quality,
                                                                             error))

    def _on_encoded(self, document: Document, quality: float, result: CodecResult) -> None:
        self.cache.put(document.token, quality, result)
        if self.document is document and quality_key(quality) == quality_key(self._wanted_quality) \
                and result.effort == self._effort():
            self._show(result)
            self._start_rd()

    def cancel(self) -> None:
        """Esc: stop opening and encoding, and make the controls agree with the picture again.

        Otherwise the slider (and the remembered quality) would keep the setting of the encode
        that never finished while the views and metrics show an older one, and a save would
        write a quality the user did not see.
        """
        if self.batch_dialog is not None and self.batch_dialog.running():
            self.batch_dialog.cancel()  # the window's Cancel button shows for a batch too
            self.statusBar().showMessage("Batch cancelled; finished files are kept", 15000)
            return
        encoding = self.scheduler.has_foreground(("encode",))
        opening = self.scheduler.has_foreground(("open",))
        comparing = self.scheduler.has_foreground(("equal",))
        fitting = self.scheduler.has_foreground(("fit",))
        self.scheduler.cancel_foreground(CANCELLABLE)
        if fitting and not opening:
            shown = self.result
            message = "Fit to size cancelled"
            if shown is not None:
                message += f"; showing q {shown.quality:.2f}"
                self._sync_controls_to(shown)
            self.statusBar().showMessage(message, 15000)
            self._update_comparison()
            return
        if comparing and not encoding and not opening:
            self._comparison_cancelled()
            return
        if encoding:
            shown = self.result
            effort = self._effort()
            changed = shown is not None and shown.effort is not None and shown.effort != effort
            message = f"Encode to q {self._wanted_quality:.2f}" + \
                (f" at effort {effort}" if changed else "") + " cancelled"
            if shown is not None:
                message += f"; showing q {shown.quality:.2f}" + \
                    (f" at effort {shown.effort}" if changed else "")
                self._sync_controls_to(shown)
            self.statusBar().showMessage(message, 15000)
            if comparing:
                self._update_comparison()  # the shown result's comparison, if it is not on screen
        elif opening:
            self.statusBar().showMessage("Opening cancelled", 15000)

    def _sync_controls_to(self, result: CodecResult) -> None:
        """Set quality and effort to those of `result` without starting an encode (an opened
        `.mic` file's effort is not known: the selection stays)."""
        self.quality.set_value(result.quality)
        self._wanted_quality = self.settings.quality = result.quality
        if result.effort is not None and result.effort != self._effort():
            self._select_effort(result.effort)
            self.settings.effort = result.effort
        self.compare.set_decoded_caption(_caption(result, self.comparison is not None))

    def _on_encode_failed(self, document: Document, quality: float, error: UserError) -> None:
        """The picture stays as it was, so the controls go back to it (as after a cancel)."""
        if self.document is document and self.result is not None \
                and quality_key(quality) == quality_key(self._wanted_quality):
            self._sync_controls_to(self.result)
        self.show_error(error)
        self._update_comparison()  # the encode superseded it; the shown result still wants one

    def _show(self, result: CodecResult) -> None:
        self.result = result
        self.compare.set_decoded(result.decoded_view, result.errors)
        self.compare.set_decoded_caption(_caption(result, self.comparison is not None))
        self._show_metrics()
        self.rate_plot.set_info(result.info)
        self.rd_plot.set_current(_point(result))
        self._update_comparison()
        self._update_enabled()

    # ---- fit to size ------------------------------------------------------------------------
    def choose_target(self) -> None:
        if self.document is None or self.document.is_mic or self.model is None:
            self.statusBar().showMessage("Open an image first (a .mic file is already coded)",
                                         5000)
            return
        text, ok = QInputDialog.getText(
            self, "Fit to size", "Largest file (e.g. 50KB, 20000, 64KiB) or bit rate (0.5 bpp):",
            text="50KB")
        if ok and text.strip():
            self.fit_to_size(text)

    def fit_to_size(self, text: str) -> bool:
        """Encode at the highest quality whose file fits `text` (a size or "N bpp") in the
        background; False (and a message) when `text` is not a size or nothing can be encoded."""
        document = self.document
        if document is None or document.is_mic or self.model is None:
            self.statusBar().showMessage("Open an image first (a .mic file is already coded)",
                                         5000)
            return False
        try:
            max_bytes, max_bpp = tasks.parse_target(text)
        except ValueError as exc:
            self.show_error(UserError("Not a size", str(exc)))
            return False
        effort = self._effort()
        wanted = f"{max_bytes:,} B" if max_bytes is not None else f"{max_bpp:g} bpp"
        if self.result is not None:
            self.compare.set_decoded_caption(f"Decoded · fitting to {wanted}…")
        self.scheduler.submit("fit", tasks.fit_to_size(document, max_bytes, max_bpp, effort),
                              supersedes=("encode", "equal", "fit"),
                              on_finished=lambda found: self._on_fitted(document, wanted, found),
                              on_failed=lambda error: self._on_fit_failed(document, error))
        return True

    def _on_fitted(self, document: Document, wanted: str, found: FitResult) -> None:
        if document is not self.document:
            return
        result = found.result
        if result is None:
            if self.result is not None:
                self._sync_controls_to(self.result)
            self._update_comparison()
            self.show_error(UserError("Target too small", found.message + "; nothing changed."))
            return
        self.quality.set_value(result.quality)
        self._wanted_quality = self.settings.quality = result.quality
        self._show(result)
        size = f"{len(result.mic):,} B ({result.info.bpp:.4f} bpp)"
        if found.capped:
            message = (f"The target {wanted} is above the largest file this model makes for this "
                       f"image: showing the highest quality, q {result.quality:.3f}, {size}")
        else:
            message = f"Fitted to {wanted}: q {result.quality:.3f}, {size}" + \
                ("" if found.reached else ", the closest found below the target") + \
                f" ({found.encodes} encodes)"
        self.statusBar().showMessage(message, 20000)
        self._start_rd()

    def _on_fit_failed(self, document: Document, error: UserError) -> None:
        if document is self.document and self.result is not None:
            self._sync_controls_to(self.result)
        self.show_error(error)
        self._update_comparison()

    # ---- compare with a classic codec at the same size -------------------------------------
    def set_compare_with(self, key: str | None) -> None:
        """Show the original (None) or codec `key` at the current .mic's size in the other pane."""
        self.compare_with = key
        action = self.commands.compare_original if key is None else self.commands.compare_with[key]
        action.setChecked(True)
        self.commands.compare_button.setText(
            "Compare With" if key is None else f"Compare With: {tasks.EQUAL_SIZE_CODECS[key]}")
        if key is None:
            self.scheduler.cancel_foreground(("equal",))
            self._show_comparison(None)
        else:
            self._update_comparison()

    def _comparison_target(self) -> int | None:
        """The byte budget a comparison must be coded at now: the shown .mic's size."""
        return len(self.result.mic) if self.result is not None else None

    def _update_comparison(self) -> None:
        """Bring the other pane in line with the shown result: from the cache or by a job."""
        key, document, target = self.compare_with, self.document, self._comparison_target()
        if key is None:
            return
        name = tasks.EQUAL_SIZE_CODECS[key]
        if document is None or document.original is None:
            self._show_comparison(None)
            self.metrics.set_comparison({"Compared with": f"{name}: needs the original image" + (
                " (File ▸ Compare with Original)" if document is not None else "")})
            return
        if target is None:
            self.metrics.set_comparison({"Compared with": f"{name}: waiting for mambaic's result"})
            return
        shown = self.comparison
        if shown is not None and shown.key == key and shown.document_token == document.token \
                and shown.target_bytes == target:
            return
        cached = self._equal_cache.get((document.token, key, target))
        if cached is not None:
            self._show_comparison(cached)
            return
        status = f"{name} at ≤ {target:,} B: computing…"
        self.compare.set_reference_title(f"{name} · updating to ≤ {target:,} B…")
        self.metrics.set_comparison({"Compared with": status})
        self.scheduler.submit("equal", tasks.equal_size(key, document, target),
                              supersedes=("equal",),
                              on_finished=lambda c: self._on_equal_size(c, document),
                              on_failed=lambda error: self._on_equal_size_failed(error, key))

    def _on_equal_size(self, comparison: EqualSizeComparison, document: Document) -> None:
        self._equal_cache[(document.token, comparison.key, comparison.target_bytes)] = comparison
        while len(self._equal_cache) > EQUAL_SIZE_CACHE:
            self._equal_cache.pop(next(iter(self._equal_cache)))
        if document is self.document and comparison.key == self.compare_with \
                and comparison.target_bytes == self._comparison_target():
            self._show_comparison(comparison)

    def _on_equal_size_failed(self, error: UserError, key: str) -> None:
        if self.compare_with == key:
            self.set_compare_with(None)
        self.show_error(error)

    def _comparison_cancelled(self) -> None:
        """Esc while the other codec was being searched: keep a comparison that still matches the
        shown result, otherwise show the original again (and say so in the menu)."""
        name = tasks.EQUAL_SIZE_CODECS.get(self.compare_with or "", "comparison")
        shown = self.comparison
        if shown is not None and shown.target_bytes == self._comparison_target():
            self.compare.set_reference_title(_reference_title(shown))
            self.statusBar().showMessage(f"{name} at the same size cancelled", 15000)
            return
        self.set_compare_with(None)
        self.statusBar().showMessage(f"{name} at the same size cancelled; showing the original",
                                     15000)

    def _show_comparison(self, comparison: EqualSizeComparison | None) -> None:
        self.comparison = comparison
        if comparison is None:
            self.compare.set_reference(None)
            self.metrics.set_comparison(None)
        else:
            self.compare.set_reference(comparison.decoded_view, _reference_title(comparison),
                                       tasks.EQUAL_SIZE_CODECS.get(comparison.key,
                                                                   comparison.label))
            self.metrics.set_comparison(comparison_rows(comparison, self.result))
        if self.result is not None:
            self.compare.set_decoded_caption(_caption(self.result, comparison is not None))

    def _show_metrics(self) -> None:
        """The metrics of the shown result, compared with effort 0 when that result is known."""
        result, document = self.result, self.document
        plain = None
        if result is not None and result.effort and document is not None:
            plain = self.cache.get(document.token, result.quality, 0)
        self.metrics.set_result(result, plain)

    # ---- rate-distortion chart (background) -------------------------------------------------
    def _start_rd(self) -> None:
        """Once per image: mambaic at the paper levels and the classic codecs, when idle."""
        document = self.document
        if document is None or document.original is None or self.model is None \
                or self._rd_started_for == document.token:
            return
        if not self.commands.rd_chart.isChecked():
            self.rd_plot.set_status("off (View ▸ Compute Rate–Distortion Chart)")
            return
        if tasks.rd_too_heavy(document.original):
            self.rd_plot.set_status(f"not computed for images above "
                                    f"{tasks.RD_MAX_PIXELS / 1e6:.1f} Mpx (minutes of CPU)")
            return
        self._rd_started_for = document.token
        self.rd_plot.set_status("computing in the background…")
        for q in self.model.paper_qualities:
            if self.cache.get(document.token, q) is None:
                self.scheduler.submit("rd", tasks.encode(document, q), background=True,
                                      on_finished=lambda r, q=q: self._on_rd_level(document, q, r))
        self._update_rd_curve()
        for key, label in tasks.CLASSIC_CODECS.items():
            self.scheduler.submit("rd", tasks.classic_points(key, document.original),
                                  background=True,
                                  on_finished=lambda points, label=label: self._on_rd_classic(
                                      document, label, points))

    def _on_rd_chart_toggled(self, on: bool) -> None:
        self.settings.rd_chart = on
        if on:
            if self.result is not None:
                self._start_rd()
        else:
            self.scheduler.cancel_background()
            self._rd_started_for = None
            self.rd_plot.set_status("off (View ▸ Compute Rate–Distortion Chart)")

    def _on_rd_level(self, document: Document, quality: float, result: CodecResult) -> None:
        self.cache.put(document.token, quality, result)
        if document is self.document:
            self._update_rd_curve()
            shown = self.result
            if shown is not None and shown.effort \
                    and quality_key(shown.quality) == quality_key(quality):
                self._show_metrics()  # now it can say what the effort bought

    def _on_rd_classic(self, document: Document, label: str, points: list[RatePoint]) -> None:
        if document is not self.document:
            return
        self.rd_plot.set_curve(label, points)
        if self.scheduler.is_idle():
            self.rd_plot.set_status("")

    def _update_rd_curve(self) -> None:
        if self.document is None or self.model is None:
            return
        points = [_point(r) for q in self.model.paper_qualities
                  if (r := self.cache.get(self.document.token, q)) is not None]
        self.rd_plot.set_curve("mambaic", [p for p in points if p is not None])

    # ---- saving -----------------------------------------------------------------------------
    def _default_output(self, suffix: str) -> str:
        document = self.document
        stem = Path(document.name).stem if document else "image"
        directory = document.path.parent if document and document.path else \
            Path(self.settings.last_directory or Path.home())
        return str(directory / f"{stem}{suffix}")

    def save_mic(self) -> None:
        if self.result is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save .mic file", self._default_output(".mic"),
                                              ".mic files (*.mic)")
        if path:
            self.save_mic_to(path)

    def save_mic_to(self, path: str | Path) -> bool:
        """Write atomically; the opened image itself is never overwritten."""
        path = Path(path)
        if path.suffix.lower() != ".mic":
            path = path.with_name(path.name + ".mic")
        protect = [self.document.path] if self.document and self.document.path \
            and not self.document.is_mic else []
        try:
            atomic_write(path, self.result.mic, overwrite=True, protect=protect)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, the app goes on
            self.show_error(describe(exc))
            return False
        self.recent.add(str(path))
        self.statusBar().showMessage(f"Saved {path} ({self.result.info.total_bytes:,} bytes)", 8000)
        return True

    def export_png(self) -> None:
        if self.result is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export decoded image",
                                              self._default_output(".decoded.png"),
                                              "PNG images (*.png)")
        if path:
            self.export_png_to(path)

    def export_png_to(self, path: str | Path) -> None:
        """Encode the PNG on the worker (it can take a second for a large photo)."""
        path = Path(path)
        protect = [self.document.path] if self.document and self.document.path else []
        self.scheduler.submit("export", tasks.export_png(self.result, path, protect),
                              on_failed=self.show_error,
                              on_finished=lambda _: self.statusBar().showMessage(
                                  f"Exported {path}", 8000))

    def copy_metrics(self) -> None:
        if self.result is None:
            return
        name = self.document.name if self.document else ""
        QGuiApplication.clipboard().setText(f"{name}\n{self.metrics.text()}\n")
        self.statusBar().showMessage("Metrics copied to the clipboard", 4000)

    # ---- feedback ---------------------------------------------------------------------------
    def show_error(self, error: UserError) -> None:
        """Tell the user, without blocking the event loop; the app carries on."""
        self.last_error = error
        self._set_stage("")
        self.statusBar().showMessage(f"{error.title}: {error.message}", 15000)
        if self.error_dialog is not None:
            self.error_dialog.close()
        self.error_dialog = error_box(self, error)

    def show_about(self) -> None:
        versions = {}
        for package in ("mambaic", "torch", "PySide6-Essentials", "pyqtgraph"):
            try:
                versions[package] = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                continue
        about_box(self, self.model, versions)

    def _set_stage(self, text: str) -> None:
        self.stage_label.setText(text)
        self.stage_label.setVisible(bool(text))

    def _on_progress(self, job: Job, done: int, total: int, stage: str) -> None:
        if job.background:
            self.rd_plot.set_status(f"computing {stage}")
            return
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self._set_stage(stage)

    def _on_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.commands.cancel.setEnabled(busy)
        if not busy:
            self._set_stage("")
            self.progress.reset()

    def _update_enabled(self) -> None:
        has_result = self.result is not None
        self.commands.save_mic.setEnabled(has_result)
        self.commands.export_png.setEnabled(has_result)
        self.commands.copy_metrics.setEnabled(has_result)
        comparable = self.compare.comparison_available()
        for mode in (ViewMode.SPLIT, ViewMode.HEATMAP):
            self.commands.modes[mode].setEnabled(comparable)
        is_mic = self.document is not None and self.document.is_mic
        self.quality.setEnabled(not is_mic)
        self.commands.attach_original.setEnabled(is_mic and self.result is not None)

    def _on_mode_changed(self, mode: str) -> None:
        self.settings.view_mode = mode
        self._sync_mode_actions()

    def _sync_mode_actions(self) -> None:
        self.commands.modes[self.compare.mode].setChecked(True)

    def _restore_orientation(self) -> None:
        try:
            orientation = Orientation(self.settings.orientation)
        except ValueError:  # written by another version: fall back to the default
            orientation = Orientation.AUTO
        self._set_orientation(orientation)

    def _set_orientation(self, orientation: Orientation) -> None:
        self.compare.set_orientation(orientation)
        self.settings.orientation = orientation.value
        self.commands.orientations[orientation].setChecked(True)

    # ---- persistence ------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry()
            self.resize(min(1440, int(screen.width() * 0.9)), min(900, int(screen.height() * 0.9)))
        if state is None or not self.restoreState(state):
            # First run: the images get the room, the panels a column of readable width.
            self.resizeDocks(self._docks, [400] * 3, Qt.Orientation.Horizontal)
            self.resizeDocks(self._docks, [240, 300, 360], Qt.Orientation.Vertical)

    def shutdown(self) -> None:
        """Save the layout and stop the worker; also run when the app quits without a close."""
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.quality = self.quality.value()
        self.settings.sync()
        self.scheduler.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
