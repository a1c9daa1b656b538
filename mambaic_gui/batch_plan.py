"""What a batch encode will do and what it did, without Qt: the inputs, output names, table rows.

Kept apart from the dialog so the naming rules (never overwrite; two inputs never share an output)
and the summary's text can be tested without a display, and so the dialog only shows rows.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mambaic.cli.common import image_suffixes

MIC_SUFFIX = ".mic"

#: The summary's columns, in the order of the table and of the copied TSV.
COLUMNS = ("File", "Output", "Bytes", "bpp", "PSNR (dB)", "Time (s)", "Status")


class Status(enum.Enum):
    """Where one file stands; the value is what the table's Status column says."""

    WAITING = "waiting"
    RUNNING = "coding…"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "error"


@dataclass(frozen=True)
class FileOutcome:
    """What coding one file produced: the file written and the numbers measured on it."""

    output: Path
    num_bytes: int
    bpp: float
    psnr: float
    seconds: float


@dataclass(frozen=True)
class BatchRow:
    """One line of the summary: an input, where it goes, and (once coded) its numbers."""

    source: Path
    output: Path
    status: Status = Status.WAITING
    outcome: FileOutcome | None = None
    message: str = ""

    def cells(self) -> tuple[str, ...]:
        """The row as the table shows it and the TSV copies it (one string per `COLUMNS`)."""
        o = self.outcome
        status = self.status.value + (f": {self.message}" if self.message else "")
        if o is None:  # a failed or cancelled file wrote nothing: no output name to show
            planned = self.output.name if self.status in (Status.WAITING, Status.RUNNING) else ""
            return (self.source.name, planned, "", "", "", "", status)
        psnr = "inf" if math.isinf(o.psnr) else f"{o.psnr:.2f}"
        return (self.source.name, o.output.name, str(o.num_bytes), f"{o.bpp:.4f}", psnr,
                f"{o.seconds:.2f}", status)


def collect_inputs(paths: Iterable[Path], subfolders: bool = False) -> list[Path]:
    """The files to code: files named are kept whatever their suffix (the reader then says what is
    wrong with them), folders contribute their image files sorted by name, and with `subfolders`
    those of every folder below them too (after the folder's own files, each level by name).

    `.mic` files in a folder are skipped: they are outputs, and coding them again would fail.
    Duplicates are dropped, first occurrence kept.
    """
    suffixes = image_suffixes() - {MIC_SUFFIX}
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(_folder_images(path, suffixes, subfolders))
        else:
            found.append(path)
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.absolute(), None)
    return list(unique)


def _folder_images(folder: Path, suffixes: frozenset[str], subfolders: bool) -> list[Path]:
    """`folder`'s image files, then (with `subfolders`) its sub-folders' in turn. Links to
    folders are not followed: a link back up the tree would otherwise never end."""
    entries = sorted(folder.iterdir())
    images = [p for p in entries if p.is_file() and p.suffix.lower() in suffixes]
    if subfolders:
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                images.extend(_folder_images(entry, suffixes, subfolders))
    return images


def free_output(source: Path, folder: Path | None, taken: set[Path]) -> Path:
    """`source`'s `.mic` name in `folder` (None: beside the source) that neither exists on disk nor
    is already planned for another input: `photo.mic`, else `photo-1.mic`, `photo-2.mic`, …"""
    directory = folder if folder is not None else source.parent
    candidate = directory / (source.stem + MIC_SUFFIX)
    number = 0
    while candidate in taken or candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = directory / f"{source.stem}-{number}{MIC_SUFFIX}"
    return candidate


def plan_rows(sources: Iterable[Path], folder: Path | None) -> list[BatchRow]:
    """A waiting row per source, each with its own output name that overwrites nothing."""
    taken: set[Path] = set()
    rows = []
    for source in sources:
        output = free_output(source, folder, taken)
        taken.add(output)
        rows.append(BatchRow(source=source, output=output))
    return rows


def with_status(row: BatchRow, status: Status, outcome: FileOutcome | None = None,
                message: str = "") -> BatchRow:
    """`row` moved to `status` (a finished row keeps the file it actually wrote)."""
    return dataclasses.replace(row, status=status, outcome=outcome, message=message)


def summary_tsv(rows: Iterable[BatchRow]) -> str:
    """The table as tab-separated text with a header line (pastes into a spreadsheet)."""
    lines = ["\t".join(COLUMNS)]
    lines.extend("\t".join(cell.replace("\t", " ") for cell in row.cells()) for row in rows)
    return "\n".join(lines) + "\n"


def totals(rows: Iterable[BatchRow]) -> str:
    """One line under the table: how many files finished, failed or were cancelled."""
    rows = list(rows)
    counts = {status: sum(r.status is status for r in rows) for status in Status}
    done = [r.outcome for r in rows if r.outcome is not None]
    text = f"{counts[Status.DONE]} of {len(rows)} coded"
    if done:
        text += f" ({sum(o.num_bytes for o in done):,} B in {sum(o.seconds for o in done):.1f} s)"
    for status in (Status.FAILED, Status.CANCELLED):
        if counts[status]:
            text += f", {counts[status]} {'failed' if status is Status.FAILED else 'cancelled'}"
    return text
