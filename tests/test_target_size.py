"""Encoding to a size budget: ``mambaic.codec.target`` and ``mambaic encode --target-size/-bpp``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from mambaic.cli.main import main
from mambaic.codec.mic_format import parse_container
from mambaic.codec.target import (
    TargetTooSmallError,
    encode_to_target,
    parse_bpp,
    parse_size,
)
from mambaic.progress import ProgressEvent
from mic_testing import sample_image

WIDTH, HEIGHT = 96, 64


@pytest.fixture(scope="module")
def image():
    return sample_image(WIDTH, HEIGHT)


@pytest.fixture(scope="module")
def extremes(codec, image) -> tuple[int, int]:
    """File sizes at q = 1 and q = 5, measured here rather than assumed."""
    low, high = len(codec.compress(image, 1.0)), len(codec.compress(image, 5.0))
    assert low < high, "the tiny model's files must grow with quality for these tests"
    return low, high


@pytest.fixture
def workdir(tmp_path, monkeypatch, weights, image):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAMBAIC_WEIGHTS", str(weights))
    image.save("a.png")
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- the size parser ------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("20000", 20000), ("50KB", 50_000), ("50kb", 50_000), ("50 KB", 50_000), ("64KiB", 65_536),
    ("64kib", 65_536), ("2MB", 2_000_000), ("2mib", 2 * 1024 ** 2), ("1.5MB", 1_500_000),
    ("123B", 123), ("123b", 123), (" 7 ", 7), ("0.5KiB", 512), ("1.0001KB", 1000),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text, words", [
    ("", "not a size"), ("KB", "not a size"), ("abc", "not a size"), ("-5KB", "not a size"),
    ("1.2.3", "not a size"), ("10XB", "unknown unit"), ("5 GB", "unknown unit"),
    ("0", "at least 1 byte"), ("0.4B", "at least 1 byte"), ("1e3", "not a size"),
])
def test_parse_size_rejects(text, words):
    with pytest.raises(ValueError, match=words):
        parse_size(text)


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "x", ""])
def test_parse_bpp_rejects(text):
    with pytest.raises(ValueError):
        parse_bpp(text)


def test_parse_bpp():
    assert parse_bpp("0.5") == 0.5


# ---- the search -----------------------------------------------------------------------------

@pytest.mark.parametrize("fraction", [0.15, 0.5, 0.85])
def test_lands_within_window_below_target(codec, image, extremes, fraction):
    low, high = extremes
    target = round(low + fraction * (high - low))
    found = encode_to_target(codec, image, target)
    assert found.bytes <= target
    assert found.reached and found.bytes >= 0.94 * target
    assert not found.capped and found.target_bytes == target
    assert 2 <= found.encodes <= 8
    assert len(found.data) == found.result.info.total_bytes == found.bytes
    assert found.quality == parse_container(found.data).header.quality
    fitting = [t.bytes for t in found.tries if t.bytes <= target]
    assert found.bytes == max(fitting)  # the best of all the tries that fit
    assert codec.decompress(found.data).size == (WIDTH, HEIGHT)


def test_bpp_target(codec, image, extremes):
    low, high = extremes
    bpp = 8 * (low + high) / 2 / (WIDTH * HEIGHT)
    found = encode_to_target(codec, image, max_bpp=bpp)
    assert found.target_bytes == int(bpp * WIDTH * HEIGHT / 8)
    assert found.bpp == 8 * found.bytes / (WIDTH * HEIGHT) <= bpp
    assert found.reached


def test_target_below_quality_one_fails(codec, image, extremes):
    low, _ = extremes
    with pytest.raises(TargetTooSmallError, match=f"{low:,} bytes") as info:
        encode_to_target(codec, image, low - 1)
    assert info.value.smallest_bytes == low


def test_target_above_quality_five_is_capped(codec, image, extremes):
    _, high = extremes
    found = encode_to_target(codec, image, high * 3)
    assert found.capped and found.quality == 5.0 and found.bytes == high
    assert found.encodes == 1 and not found.reached


def test_exact_quality_five_size_fits(codec, image, extremes):
    _, high = extremes
    found = encode_to_target(codec, image, high)
    assert found.bytes == high and found.quality == 5.0 and found.reached


def test_argument_checks(codec, image):
    with pytest.raises(ValueError, match="exactly one"):
        encode_to_target(codec, image)
    with pytest.raises(ValueError, match="exactly one"):
        encode_to_target(codec, image, 1000, max_bpp=1.0)
    with pytest.raises(ValueError, match="max_bytes"):
        encode_to_target(codec, image, 0)
    with pytest.raises(ValueError, match="max_encodes"):
        encode_to_target(codec, image, 1000, max_encodes=1)


class FakeCodec:
    """A codec whose file size is any function of quality, to test the search on its own."""

    quality_range = (1.0, 5.0)

    def __init__(self, size_of) -> None:
        self.size_of = size_of
        self.calls: list[float] = []

    def compress_report(self, image, quality, progress=None, cancel=None, metadata=None,
                        refine_steps=0):
        self.calls.append(quality)
        if progress is not None:
            progress(ProgressEvent(1, 1, "coding"))
        info = SimpleNamespace(quality=quality, pixels=100, bpp=0.0)
        return SimpleNamespace(data=bytes(self.size_of(quality)), info=info, image=None,
                               seconds=0.0)


def test_encodes_are_bounded_when_the_window_is_unreachable():
    fake = FakeCodec(lambda q: 100 if q < 3 else 1000)  # a cliff: nothing between 100 and 1000
    found = encode_to_target(fake, None, 900, max_encodes=8)
    assert found.bytes == 100 and not found.reached and not found.capped
    assert found.encodes == len(fake.calls) <= 8
    assert all(1.0 <= q <= 5.0 for q in fake.calls)


def test_keeps_the_best_fit_when_size_is_not_monotone():
    # Bigger files below q = 2 than just above it: the search must not lose a better fit it saw.
    def size(q: float) -> int:
        return 100 + int(60 * q) if q < 2.5 else (150 if q < 4.5 else 2000)
    fake = FakeCodec(size)
    found = encode_to_target(fake, None, 400, max_encodes=6)
    fitting = [t.bytes for t in found.tries if t.bytes <= 400]
    assert found.bytes == max(fitting) <= 400
    assert found.encodes <= 6


def test_progress_names_the_try():
    stages = []
    encode_to_target(FakeCodec(lambda q: int(100 * q)), None, 330,
                     progress=lambda event: stages.append(event.text))
    assert stages[0].startswith("try 1/8 q 5.000") and stages[1].startswith("try 2/8 q 1.000")
    assert any(s.startswith("try 3/8") for s in stages)


# ---- the command line -----------------------------------------------------------------------

def test_cli_target_size(workdir, capsys, extremes, codec):
    low, high = extremes
    target = (low + high) // 2
    code, out, err = run(capsys, "encode", "a.png", "--target-size", f"{target}B")
    assert code == 0 and err == ""
    data = (workdir / "a.mic").read_bytes()
    assert len(data) <= target and len(data) >= 0.94 * target
    assert "a.png → a.mic" in out and f"{len(data):,} bytes" in out
    assert f"target {target:,} bytes" in out and " encodes" in out and " q " in out
    assert codec.decompress(data).size == (WIDTH, HEIGHT)


def test_cli_target_size_with_unit(workdir, capsys, extremes):
    _, high = extremes
    code, out, err = run(capsys, "encode", "a.png", "--target-size", "1KiB", "-o", "k.mic")
    assert code == 0
    size = (workdir / "k.mic").stat().st_size
    assert size <= 1024 and "target 1,024 bytes" in out
    if high < 1024:  # the tiny model's small image: capped, with a message saying so
        assert "largest file this model makes" in err


def test_cli_target_bpp(workdir, capsys, extremes):
    low, high = extremes
    bpp = 8 * (low + high) / 2 / (WIDTH * HEIGHT)
    code, out, err = run(capsys, "encode", "a.png", "--target-bpp", f"{bpp:.4f}")
    assert code == 0 and err == ""
    size = (workdir / "a.mic").stat().st_size
    assert 8 * size / (WIDTH * HEIGHT) <= float(f"{bpp:.4f}")


def test_cli_target_too_small_writes_nothing(workdir, capsys, extremes):
    low, _ = extremes
    code, out, err = run(capsys, "encode", "a.png", "--target-size", str(low - 1))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "mambaic: error: a.png:" in err and f"{low:,} bytes" in err and "smallest" in err
    assert sorted(p.name for p in workdir.iterdir()) == ["a.png"]  # no output, no temp file


def test_cli_target_above_max_writes_quality_five(workdir, capsys, extremes):
    _, high = extremes
    code, out, err = run(capsys, "encode", "a.png", "--target-size", str(high * 4))
    assert code == 0
    mic = parse_container((workdir / "a.mic").read_bytes())
    assert mic.header.quality == 5.0 and (workdir / "a.mic").stat().st_size == high
    assert "mambaic: warning: a.png:" in err and "largest file this model makes" in err
    assert "1 encodes" in out


@pytest.mark.parametrize("argv", [
    ["-q", "3", "--target-size", "1KB"],
    ["--target-size", "1KB", "-q", "3"],
    ["--target-size", "1KB", "--target-bpp", "0.5"],
    ["--quality", "2", "--target-bpp", "0.5"],
])
def test_cli_flags_are_mutually_exclusive(workdir, capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(["encode", "a.png", *argv])
    assert exit_info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err
    assert not Path("a.mic").exists()


@pytest.mark.parametrize("value, words", [("50XB", "unknown unit"), ("abc", "not a size"),
                                          ("0", "at least 1 byte")])
def test_cli_bad_size_is_a_usage_error(workdir, capsys, value, words):
    with pytest.raises(SystemExit) as exit_info:
        main(["encode", "a.png", "--target-size", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--target-size" in err and words in err


def test_cli_bad_bpp_is_a_usage_error(workdir, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["encode", "a.png", "--target-bpp", "-1"])
    assert exit_info.value.code == 2 and "--target-bpp" in capsys.readouterr().err
