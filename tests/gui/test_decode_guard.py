"""Issue #17 in the app: a huge declared image is asked about, one above the limit refused."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMessageBox

from mambaic.errors import MicFormatError
from mambaic_gui.decode_guard import confirm_decode, file_prefix
from mambaic_gui.errors import describe
from mic_testing import synthetic_container, synthetic_header

LARGE = synthetic_container(synthetic_header(width=5000, height=4000))  # 20 Mpx


def _too_large() -> bytes:
    """A 72 Mpx header: written at a size the writer allows, then its dimensions raised."""
    import zlib

    small = bytearray(synthetic_container(synthetic_header(width=4096, height=4096)))
    at = bytes(small).index((4096).to_bytes(4, "little") * 2)
    small[at:at + 8] = (9000).to_bytes(4, "little") + (8000).to_bytes(4, "little")
    header_size = int.from_bytes(small[10:14], "little")
    small[header_size - 4:header_size] = zlib.crc32(small[:header_size - 4]).to_bytes(4, "little")
    return bytes(small)


def test_large_images_are_asked_about(qtbot, monkeypatch):
    asked: list[str] = []

    def question(parent, title, text, *args):
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    refused = []
    for answer, allowed in ((QMessageBox.StandardButton.No, False),
                            (QMessageBox.StandardButton.Yes, True)):
        assert confirm_decode(None, "big\x1b[2J<b>.mic", LARGE, refused.append) is allowed
    assert len(asked) == 2 and "5000 × 4000" in asked[0] and refused == []
    assert "big\\x1b[2J&lt;b&gt;.mic" in asked[0] and "\x1b" not in asked[0]
    small = synthetic_container()
    assert confirm_decode(None, "small.mic", small, refused.append) and len(asked) == 2
    assert confirm_decode(None, "photo.png", b"\x89PNG\r\n", refused.append)


def test_images_above_the_limit_are_refused_without_asking(qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", _must_not_ask)
    refused = []
    assert not confirm_decode(None, "huge.mic", _too_large(), refused.append)
    assert len(refused) == 1 and "9000x8000" in refused[0].message
    assert "limit" in refused[0].message


def _must_not_ask(*args):
    raise AssertionError("asked although the file must be refused")


def test_window_does_not_start_a_job_for_a_refused_large_file(window, tmp_path, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No)
    big = tmp_path / "big.mic"
    big.write_bytes(LARGE)
    assert file_prefix(big) == LARGE and file_prefix(tmp_path / "none.mic") == b""
    os.mkfifo(tmp_path / "pipe.mic")
    assert file_prefix(tmp_path / "pipe.mic") == b""  # not opened: it would block the GUI
    window.open_path(big)
    assert window.scheduler.is_idle() and window.document is None and window.last_error is None


def test_error_text_is_escaped():
    error = describe(MicFormatError("model 'evil\x9b31m' \u202e"))
    assert error.message == "model 'evil\\x9b31m' \\u202e"
