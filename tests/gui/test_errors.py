"""Exceptions from the core become messages a user can act on."""

from __future__ import annotations

import torch

from mambaic.errors import (
    DecodeMismatchError,
    DeviceError,
    ImageInputError,
    MicFormatError,
    WeightsError,
)
from mambaic_gui.errors import describe


def test_each_failure_kind_has_its_own_title():
    cases = {
        DecodeMismatchError("slice 2 crc"): "The file did not decode correctly",
        MicFormatError("truncated"): "Not a readable .mic file",
        WeightsError("missing"): "Model weights problem",
        ImageInputError("too large"): "Cannot use this image",
        DeviceError("no cuda"): "Device not available",
        MemoryError(): "Out of memory",
        RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"): "Out of memory",
        PermissionError(13, "Permission denied", "/x.png"): "Cannot read or write the file",
    }
    for exc, title in cases.items():
        assert describe(exc).title == title, exc


def test_unexpected_errors_keep_the_traceback():
    try:
        raise KeyError("boom")
    except KeyError as exc:
        error = describe(exc)
    assert error.title == "Unexpected error" and "KeyError" in error.message
    assert "Traceback" in error.detail


def test_device_switch_failure_keeps_the_model(window, tiny_weights, qtbot):
    if torch.cuda.is_available():
        return  # the switch would succeed here; covered by the CPU-only machines
    assert not window.commands.devices["cuda"].isEnabled()
    window.load_model(str(tiny_weights), "cuda")
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10000)
    assert window.last_error.title == "Device not available"
    assert window.model.device == "cpu" and window.commands.devices["cpu"].isChecked()
