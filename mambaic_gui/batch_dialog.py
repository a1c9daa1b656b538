"""File ▸ Batch Encode…: many images to `.mic` files on the window's worker, with a summary table.

The dialog submits one scheduler job per file and the next when one ends, so the window's own
encodes can still run in between and the GUI thread only ever updates rows.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mambaic.codec.effort import EFFORT_MAX, EFFORT_STEPS
from mambaic_gui.batch_plan import (
    COLUMNS,
    BatchRow,
    FileOutcome,
    Status,
    collect_inputs,
    plan_rows,
    summary_tsv,
    totals,
    with_status,
)
from mambaic_gui.batch_tasks import encode_file
from mambaic_gui.errors import UserError
from mambaic_gui.jobs import Job
from mambaic_gui.scheduler import JobScheduler

#: The scheduler's kind for batch jobs (the window's Esc does not stop them; Cancel here does).
KIND = "batch"
_NUMERIC = {2, 3, 4, 5}  # columns aligned right


class BatchDialog(QDialog):
    """Inputs, settings, Start / Cancel, and a row per file that fills in as files finish."""

    finished_batch = Signal()  # every row is done, failed or cancelled

    def __init__(self, scheduler: JobScheduler, quality: float, effort: int,
                 quality_range: tuple[float, float] = (1.0, 5.0),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch Encode")
        self.setObjectName("batchDialog")
        self._scheduler = scheduler
        #: What the user added (files and folders) and the files that makes: kept apart so the
        #: sub-folder choice can scan the same folders again when it changes.
        self._inputs: list[Path] = []
        self._sources: list[Path] = []
        self.rows: list[BatchRow] = []
        self._next = 0
        self._job: Job | None = None
        self._cancelling = False
        scheduler.progress.connect(self._on_progress)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

        self.add_files_button = QPushButton("Add &Files…")
        self.add_folder_button = QPushButton("Add F&older…")
        self.clear_button = QPushButton("C&lear")
        self.subfolders_check = QCheckBox("Include s&ub-folders")
        self.subfolders_check.setToolTip("Also code the images in the folders inside an added "
                                         "folder, at any depth (off: only the folder's own files)")
        self.subfolders_check.toggled.connect(lambda _: self.set_inputs(self._inputs))
        self.add_files_button.clicked.connect(self._choose_files)
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.clear_button.clicked.connect(lambda: self.set_inputs([]))

        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("beside each input")
        self.output_edit.setClearButtonEnabled(True)
        self.output_edit.textChanged.connect(lambda _: self._replan())
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._choose_output)
        self.quality_spin = QDoubleSpinBox()
        self.quality_spin.setDecimals(2)
        self.quality_spin.setSingleStep(0.1)
        self.quality_spin.setRange(*quality_range)
        self.quality_spin.setValue(quality)
        self.effort_box = QComboBox()
        for level in range(EFFORT_MAX + 1):
            steps = EFFORT_STEPS[level]
            self.effort_box.addItem(f"{level} – " + ("plain" if steps == 0 else f"{steps} steps"))
        self.effort_box.setCurrentIndex(effort)

        output_row = QHBoxLayout()
        output_row.addWidget(self.output_edit, 1)
        output_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Output folder:", output_row)
        form.addRow("Quality:", self.quality_spin)
        form.addRow("Effort:", self.effort_box)
        note = QLabel("Existing files are never overwritten: a free name such as photo-1.mic is "
                      "used instead (the Output column shows it).")
        note.setWordWrap(True)
        note.setObjectName("batchNote")
        form.addRow(note)

        self.file_progress = QProgressBar()
        self.file_progress.setFormat("this file: %p%")
        self.overall_progress = QProgressBar()
        self.overall_progress.setFormat("%v of %m files")
        self.stage_label = QLabel()
        self.summary_label = QLabel()

        self.start_button = QPushButton("&Start")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("&Cancel")
        self.copy_button = QPushButton("Copy (&TSV)")
        self.close_button = QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.copy_button.clicked.connect(self.copy_tsv)
        self.close_button.clicked.connect(self.close)

        inputs = QHBoxLayout()
        inputs.addWidget(self.add_files_button)
        inputs.addWidget(self.add_folder_button)
        inputs.addWidget(self.subfolders_check)
        inputs.addWidget(self.clear_button)
        inputs.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(inputs)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary_label)
        layout.addLayout(form)
        layout.addWidget(self.file_progress)
        layout.addWidget(self.overall_progress)
        layout.addWidget(self.stage_label)
        layout.addLayout(buttons)
        self.resize(900, 560)
        self._update_state()

    # ---- inputs -----------------------------------------------------------------------------
    def add_inputs(self, paths: list[Path]) -> None:
        """Add files, and the image files of folders, to the list (while not running)."""
        self.set_inputs(self._inputs + [Path(p) for p in paths])

    def set_inputs(self, paths: list[Path]) -> None:
        """The list is `paths`' files, folders scanned as "Include sub-folders" says."""
        if self.running():
            return
        self._inputs = list(paths)
        self._sources = collect_inputs(paths, subfolders=self.subfolders_check.isChecked())
        self._replan()

    def output_folder(self) -> Path | None:
        text = self.output_edit.text().strip()
        return Path(text) if text else None

    def _replan(self) -> None:
        """New output names for the list: called when the inputs or the folder change."""
        if self.running():
            return
        self.rows = plan_rows(self._sources, self.output_folder())
        self.table.setRowCount(len(self.rows))
        for index in range(len(self.rows)):
            self._show_row(index)
        self.summary_label.clear()
        self.overall_progress.setRange(0, max(len(self.rows), 1))
        self.overall_progress.setValue(0)
        self.file_progress.setValue(0)
        self._update_state()

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add Images")
        self.add_inputs([Path(p) for p in paths])

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add the Images of a Folder")
        if folder:
            self.add_inputs([Path(folder)])

    def _choose_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output Folder")
        if folder:
            self.output_edit.setText(folder)

    # ---- running ----------------------------------------------------------------------------
    def running(self) -> bool:
        return self._job is not None

    def start(self) -> None:
        """Code every row from the top; rows of an earlier run are planned again first."""
        if self.running() or not self._sources:
            return
        self._replan()
        self._next = 0
        self._cancelling = False
        self._submit_next()

    def cancel(self) -> None:
        """Stop the file being coded at its next slice (nothing is written for it) and skip the
        rest; files already written stay and keep their rows."""
        if not self.running():
            return
        self._cancelling = True
        self._scheduler.cancel_foreground((KIND,))

    def _submit_next(self) -> None:
        if self._next >= len(self.rows):
            self._job = None
            self._finish()
            return
        index = self._next
        row = self.rows[index]
        self.file_progress.setValue(0)
        self.stage_label.setText(f"{row.source.name}: waiting for the worker")
        body = encode_file(row.source, row.output, self.quality_spin.value(),
                           self.effort_box.currentIndex())
        self._job = self._scheduler.submit(
            KIND, body,
            on_finished=lambda outcome: self._on_file_done(index, outcome),
            on_failed=lambda error: self._on_file_failed(index, error),
            on_cancelled=lambda: self._on_file_cancelled(index))
        self._update_state()

    def _advance(self) -> None:
        self._next += 1
        self.overall_progress.setValue(self._next)
        if self._cancelling:
            for index in range(self._next, len(self.rows)):
                self._set_row(index, with_status(self.rows[index], Status.CANCELLED,
                                                 message="not started"))
            self._next = len(self.rows)
        self._submit_next()

    def _on_file_done(self, index: int, outcome: FileOutcome) -> None:
        self._set_row(index, with_status(self.rows[index], Status.DONE, outcome))
        self._advance()

    def _on_file_failed(self, index: int, error: UserError) -> None:
        self._set_row(index, with_status(self.rows[index], Status.FAILED, message=error.message))
        self._advance()

    def _on_file_cancelled(self, index: int) -> None:
        self._cancelling = True
        self._set_row(index, with_status(self.rows[index], Status.CANCELLED,
                                         message="nothing written"))
        self._advance()

    def _on_progress(self, job: Job, done: int, total: int, stage: str) -> None:
        if job is self._job:
            row = self.rows[self._next]
            if row.status is Status.WAITING:  # queued behind the window's work until now
                self._set_row(self._next, with_status(row, Status.RUNNING))
            self.file_progress.setRange(0, max(total, 1))
            self.file_progress.setValue(done)
            self.stage_label.setText(f"{row.source.name}: {stage}")

    def _finish(self) -> None:
        self.overall_progress.setValue(len(self.rows))
        self.stage_label.setText("Cancelled" if self._cancelling else "Finished")
        self.summary_label.setText(totals(self.rows))
        self._update_state()
        self.finished_batch.emit()

    # ---- table ------------------------------------------------------------------------------
    def _set_row(self, index: int, row: BatchRow) -> None:
        self.rows[index] = row
        self._show_row(index)

    def _show_row(self, index: int) -> None:
        row = self.rows[index]
        for column, text in enumerate(row.cells()):
            item = QTableWidgetItem(text)
            if column in _NUMERIC:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(str(row.source) if column == 0 else
                            str(row.output) if column == 1 else text)
            self.table.setItem(index, column, item)

    def copy_tsv(self) -> None:
        QGuiApplication.clipboard().setText(summary_tsv(self.rows))

    def _update_state(self) -> None:
        running = self.running()
        self.start_button.setEnabled(not running and bool(self._sources))
        self.cancel_button.setEnabled(running)
        for widget in (self.add_files_button, self.add_folder_button, self.clear_button,
                       self.subfolders_check, self.output_edit, self.quality_spin, self.effort_box):
            widget.setEnabled(not running)
        self.copy_button.setEnabled(any(r.outcome is not None or r.message for r in self.rows))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing during a run cancels it: a hidden batch would keep the worker busy."""
        self.cancel()
        super().closeEvent(event)
