"""Golden files: a committed `.mic` made with the shipped weights must decode to the recorded
pixels, and encoding the recorded input again must give the very same bytes. Any change to the
codec's arithmetic, stream layout or refinement shows up here; a deliberate one (new weights)
regenerates the files with scripts/make_golden.py."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from mambaic.codec.codec import load_codec

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"


def _make_golden():
    spec = importlib.util.spec_from_file_location("make_golden", ROOT / "scripts" / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def golden():
    record = json.loads((GOLDEN / "golden.json").read_text())
    codec = load_codec()
    if codec.weights_sha256 != record["weights_sha256"]:
        pytest.fail("the shipped weights changed since the golden files were made: run "
                    "`python scripts/make_golden.py` and commit tests/golden/")
    return codec, record, (GOLDEN / "astronaut-q3.mic").read_bytes()


def test_the_golden_file_decodes_to_the_recorded_pixels(golden):
    codec, record, data = golden
    assert hashlib.sha256(data).hexdigest() == record["mic_sha256"]
    assert _make_golden().pixels_sha256(codec.decompress(data)) == record["pixels_sha256"]


def test_encoding_the_golden_input_gives_the_same_bytes(golden):
    codec, record, data = golden
    make = _make_golden()
    assert tuple(record["crop"]) == make.CROP
    again = codec.compress(make.golden_input(), record["quality"], effort=record["effort"])
    assert again == data
