"""The numbers panel: size, bpp, PSNR, MS-SSIM, latencies, device — and what they cannot be."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from mambaic.codec.effort import describe_steps
from mambaic.eval.metrics import ms_ssim_db
from mambaic_gui.document import CodecResult, EqualSizeComparison

NEEDS_ORIGINAL = "needs the original image"
_FIELDS = ("File size", "Bit rate", "PSNR", "MS-SSIM", "Effort", "Encode", "Decode", "Quality",
           "Image", "Model", "Device")
#: The rows of "View ▸ Compare With … at the Same Size", shown only while a codec is chosen.
COMPARE_FIELDS = ("Compared with", "Its file size", "Its bit rate", "Its quality", "Its PSNR",
                  "Its MS-SSIM")


def format_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024**2:.2f} MiB"


def _seconds(value: float | None) -> str:
    if value is None:
        return NEEDS_ORIGINAL
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def _ms_ssim(value: float | None) -> str:
    if value is None:
        return NEEDS_ORIGINAL
    if math.isnan(value):
        return "n/a (image smaller than 161 px)"
    return f"{value:.4f}  ({ms_ssim_db(value):.2f} dB)"


def _psnr(value: float | None) -> str:
    if value is None:
        return NEEDS_ORIGINAL
    return "lossless (∞)" if math.isinf(value) else f"{value:.2f} dB"


def _signed(value: float, digits: int = 0) -> str:
    """`value` with its sign always written (a typographic minus), thousands separated."""
    text = f"{abs(value):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return "±" + text
    return ("+" if value > 0 else "−") + text


def _delta(mine: float | None, theirs: float | None, unit: str, digits: int) -> str:
    """"(mambaic +1.23 dB)" when both are finite measured numbers, else nothing."""
    if mine is None or theirs is None or not (math.isfinite(mine) and math.isfinite(theirs)):
        return ""
    return f"  (mambaic {_signed(mine - theirs, digits)}{unit})"


def comparison_rows(comparison: EqualSizeComparison, result: CodecResult | None) -> dict[str, str]:
    """The comparison rows' text: the classic file's measured numbers and, where `result` (the
    mambaic result it was coded for) has the same measure, mambaic's difference to it."""
    low, high = comparison.quality_range
    size = f"{format_bytes(comparison.num_bytes)}  ({comparison.num_bytes:,} B)"
    if comparison.fits:
        size += f", ≤ the .mic's {comparison.target_bytes:,} B"
    else:
        size += (f": larger than the .mic's {comparison.target_bytes:,} B even at its lowest "
                 "quality, so not the same size")
    mine_psnr = result.psnr if result is not None else None
    mine_ssim = result.ms_ssim if result is not None else None
    ssim = _ms_ssim(comparison.ms_ssim)
    if not math.isnan(comparison.ms_ssim):
        ssim += _delta(mine_ssim, comparison.ms_ssim, "", 4)
    return {
        "Compared with": comparison.label + (" at the same size" if comparison.fits
                                             else " at its smallest file"),
        "Its file size": size,
        "Its bit rate": f"{comparison.bpp:.4f} bpp",
        "Its quality": f"{comparison.quality} (of {low}–{high})",
        "Its PSNR": _psnr(comparison.psnr) + _delta(mine_psnr, comparison.psnr, " dB", 2),
        "Its MS-SSIM": ssim,
    }


def describe_effort(result: CodecResult, plain: CodecResult | None = None) -> str:
    """What the effort level bought on this image, from real results only.

    With `plain`, the effort-0 result for the same document and quality, the two files' sizes and
    the two decoded images' PSNR are compared; without it only the level, its steps and how many
    tiles kept their refinement are stated: no level promises a smaller file in advance.
    """
    if result.effort is None:
        return "not recorded (opened from a .mic file)"
    if result.effort == 0:
        return "0 (plain encoder)"
    tiles = f"refinement kept in {result.refined_tiles} of {result.info.tile_count} " + \
        ("tile" if result.info.tile_count == 1 else "tiles")
    if plain is None:
        return f"{describe_steps(result.refine_steps).capitalize()}; {tiles}"
    if result.mic == plain.mic:
        return f"Effort {result.effort}: the same file as effort 0 ({tiles})"
    saved = len(result.mic) - len(plain.mic)
    percent = _signed(100 * saved / len(plain.mic), 1)
    text = f"Effort {result.effort}: {_signed(saved)} bytes ({percent} %)"
    if result.psnr is not None and plain.psnr is not None \
            and not math.isinf(result.psnr) and not math.isinf(plain.psnr):
        text += f", {_signed(result.psnr - plain.psnr, 2)} dB"
    return f"{text} vs effort 0 ({tiles})"


class MetricsPanel(QWidget):
    """A form of labelled values; `text()` is what "Copy Metrics" puts on the clipboard."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values: dict[str, QLabel] = {}
        form = QFormLayout(self)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for name in _FIELDS:
            label = QLabel("—")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._values[name] = label
            form.addRow(f"{name}:", label)
        self._form = form
        self._compare_values: dict[str, QLabel] = {}
        for name in COMPARE_FIELDS:
            label = QLabel("—")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._compare_values[name] = label
            form.addRow(f"{name}:", label)
        self._model = "—"
        self.set_comparison(None)

    def set_model(self, description: str) -> None:
        self._model = description
        self._values["Model"].setText(description)

    def clear(self) -> None:
        for name, label in self._values.items():
            label.setText(self._model if name == "Model" else "—")

    def set_result(self, result: CodecResult, plain: CodecResult | None = None) -> None:
        """Show `result`; `plain`, when known, is the effort-0 result it is compared with."""
        info = result.info
        self._values["File size"].setText(f"{format_bytes(info.total_bytes)}  ({info.total_bytes:,} B)")
        self._values["Bit rate"].setText(f"{info.bpp:.4f} bpp  (payload {info.payload_bpp:.4f})")
        self._values["PSNR"].setText(_psnr(result.psnr))
        self._values["MS-SSIM"].setText(_ms_ssim(result.ms_ssim))
        encode = (_seconds(result.encode_seconds) if result.encode_seconds is not None
                  else "— (opened from a .mic file)")
        self._values["Effort"].setText(describe_effort(result, plain))
        self._values["Encode"].setText(encode)
        self._values["Decode"].setText(_seconds(result.decode_seconds))
        self._values["Quality"].setText(f"{result.quality:.2f}")
        self._values["Image"].setText(f"{info.width} × {info.height}, {info.mode}")
        self._values["Device"].setText(result.device)

    def set_comparison(self, rows: dict[str, str] | None) -> None:
        """Show the same-size comparison rows (see `comparison_rows`, or a status such as
        "computing…" under "Compared with"), or hide them (None)."""
        for name, label in self._compare_values.items():
            text = (rows or {}).get(name, "—")
            label.setText(text)
            self._form.setRowVisible(label, rows is not None)
        self._comparing = rows is not None

    def value(self, name: str) -> str:
        if name in self._compare_values:
            return self._compare_values[name].text()
        return self._values[name].text()

    def text(self) -> str:
        values = dict(self._values)
        if self._comparing:
            values.update(self._compare_values)
        return "\n".join(f"{name}: {label.text()}" for name, label in values.items())
