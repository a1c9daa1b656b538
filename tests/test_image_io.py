"""Image input: every mode becomes RGB uint8 (+ alpha) with a recorded note; limits hold."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from mambaic.codec.image_io import load_image, to_pil
from mambaic.errors import ImageInputError
from mic_testing import sample_image


def _png_bytes(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **params)
    return buffer.getvalue()


def test_rgb_passes_through_unchanged():
    image = sample_image(17, 33)
    loaded = load_image(image)
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.shape == (33, 17, 3)
    assert np.array_equal(loaded.rgb, np.asarray(image))
    assert loaded.alpha is None
    assert (loaded.info.mode, loaded.info.notes) == ("RGB", ())


@pytest.mark.parametrize("mode", ["L", "1"])
def test_gray_is_replicated_and_decodes_to_L(mode):
    image = sample_image(9, 5, mode)
    loaded = load_image(image)
    gray = np.asarray(image.convert("L"))
    assert all(np.array_equal(loaded.rgb[..., c], gray) for c in range(3))
    assert loaded.info.mode == "L" and loaded.info.source_mode == mode


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_grey_rgb_pixels_decode_as_greyscale_and_a_single_colour_pixel_does_not(mode):
    grey = np.asarray(sample_image(9, 5, "L"))
    rgb = np.repeat(grey[..., None], 3, axis=2)
    bands = np.dstack([rgb, np.full_like(grey, 200)]) if mode == "RGBA" else rgb
    loaded = load_image(Image.fromarray(bands, mode))
    assert loaded.info.mode == ("LA" if mode == "RGBA" else "L")
    assert "grey RGB pixels: decoded as greyscale" in loaded.info.notes
    assert np.array_equal(loaded.rgb, rgb)  # the coded pixels are unchanged
    bands[2, 3, 0] ^= 1
    assert load_image(Image.fromarray(bands, mode)).info.mode == mode


def test_16_bit_is_rounded_to_8_bits():
    samples = np.array([[0, 257 * 100, 65535, 257 * 7 + 128]], dtype=np.uint16)
    loaded = load_image(Image.fromarray(samples))  # uint16 → I;16
    assert loaded.rgb[0, :, 0].tolist() == [0, 100, 255, 7]
    assert loaded.info.mode == "L" and "16-bit" in loaded.info.notes[0]


def test_16_bit_png_file():
    samples = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)
    data = _png_bytes(Image.fromarray(samples))
    loaded = load_image(data)
    assert loaded.info.mode == "L"
    assert loaded.rgb[..., 0].tolist() == np.round(samples / 257).astype(np.uint8).tolist()


def test_palette_with_and_without_transparency():
    plain = sample_image(8, 8).convert("P")
    assert load_image(plain).info.mode == "RGB"
    assert "palette expanded" in load_image(plain).info.notes[0]
    transparent = plain.copy()
    transparent.info["transparency"] = 0
    loaded = load_image(_png_bytes(transparent, transparency=0))
    assert loaded.info.mode == "RGBA" and loaded.alpha is not None
    assert set(np.unique(loaded.alpha)) <= {0, 255}


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_kept_exactly(mode):
    image = sample_image(13, 7, mode)
    loaded = load_image(image)
    assert loaded.info.mode == mode
    assert np.array_equal(loaded.alpha, np.asarray(image)[..., -1])


def test_cmyk_becomes_rgb_with_a_note():
    loaded = load_image(Image.new("CMYK", (4, 4), (0, 255, 255, 0)))
    assert loaded.info.mode == "RGB"
    assert loaded.rgb[0, 0].tolist() == [255, 0, 0]
    assert "CMYK" in loaded.info.notes[0]


def test_float_images_are_scaled_by_their_range():
    unit = load_image(Image.fromarray(np.full((3, 3), 0.5, dtype=np.float32), "F"))
    assert unit.rgb.max() == 128 and unit.info.mode == "L" and "0..1 scaled" in unit.info.notes[0]
    byte = load_image(Image.fromarray(np.full((3, 3), 200.0, dtype=np.float32), "F"))
    assert byte.rgb.max() == 200


@pytest.mark.parametrize("value", [300.0, -1.0, float("nan")])
def test_float_images_out_of_range_are_refused(value):
    with pytest.raises(ImageInputError, match="float samples"):
        load_image(Image.fromarray(np.full((3, 3), value, dtype=np.float32), "F"))


def test_32_bit_integer_images_out_of_range_are_refused():
    with pytest.raises(ImageInputError, match="integer samples"):
        load_image(Image.fromarray(np.full((3, 3), 70_000, dtype=np.int32), "I"))


def test_exif_orientation_is_applied():
    image = sample_image(20, 10)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    loaded = load_image(_png_bytes(image, exif=exif))
    assert loaded.rgb.shape == (20, 10, 3)
    assert np.array_equal(loaded.rgb, np.asarray(image.transpose(Image.Transpose.ROTATE_270)))
    assert any("orientation 6" in note for note in loaded.info.notes)


def test_first_frame_of_animations(tmp_path):
    frames = [Image.new("RGB", (8, 8), color) for color in ("red", "blue")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    loaded = load_image(path)
    assert loaded.rgb[0, 0].tolist() == [255, 0, 0]
    assert "first of 2 frames" in loaded.info.notes[0]


def test_paths_and_bytes(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(_png_bytes(sample_image(5, 6)))
    assert np.array_equal(load_image(path).rgb, load_image(str(path)).rgb)
    assert np.array_equal(load_image(path.read_bytes()).rgb, load_image(path).rgb)


@pytest.mark.parametrize("source, message", [
    (b"not an image at all", "not an image"),
    (b"", "not an image"),
])
def test_garbage_is_refused(source, message):
    with pytest.raises(ImageInputError, match=message):
        load_image(source)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ImageInputError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageInputError, match="directory"):
        load_image(tmp_path)


def test_truncated_file_is_refused():
    data = _png_bytes(sample_image(64, 64))
    with pytest.raises(ImageInputError):
        load_image(data[: len(data) // 2])


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but has no pixel data: enough to test refusal before decoding."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("size", [(10_000, 10_000), (20_000, 20_000), (70_000, 1)])
def test_oversized_images_are_refused_before_decoding(size):
    with pytest.raises(ImageInputError, match="large|limit|largest side"):
        load_image(_png_header_only(*size))


def test_custom_pixel_limit():
    with pytest.raises(ImageInputError, match="limit"):
        load_image(sample_image(20, 20), max_pixels=100)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "LA"])
def test_to_pil_rebuilds_modes(mode):
    image = sample_image(6, 4, mode)
    loaded = load_image(image)
    rebuilt = to_pil(loaded.rgb, loaded.info.mode, loaded.alpha)
    assert rebuilt.mode == mode
    assert np.array_equal(np.asarray(rebuilt), np.asarray(image))


def test_to_pil_rejects_unknown_modes():
    with pytest.raises(ValueError):
        to_pil(np.zeros((2, 2, 3), np.uint8), "CMYK")
    with pytest.raises(ValueError):
        to_pil(np.zeros((2, 2, 3), np.uint8), "RGBA", None)


@pytest.mark.parametrize("shape, mode", [((5, 7, 3), "RGB"), ((5, 7), "L"), ((5, 7, 1), "L"),
                                         ((5, 7, 4), "RGBA")])
def test_uint8_arrays_are_taken_as_images(shape, mode):
    a = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    loaded = load_image(a)
    assert loaded.info.mode == mode and loaded.rgb.shape == (5, 7, 3)
    if mode == "RGB":
        assert np.array_equal(loaded.rgb, a)
    if mode == "RGBA":
        assert np.array_equal(loaded.alpha, a[:, :, 3])


@pytest.mark.parametrize("array, message", [
    (np.zeros((5, 7, 3), np.float32), "must be uint8"),
    (np.zeros((5, 7, 2), np.uint8), "got shape"),
    (np.zeros((5,), np.uint8), "got shape"),
    (np.zeros((0, 7, 3), np.uint8), "no pixels"),
])
def test_unusable_arrays_are_clear_errors(array, message):
    with pytest.raises(ImageInputError, match=message):
        load_image(array)


def test_an_already_loaded_image_passes_through_with_its_size_still_checked():
    """Callers that score a decode against the source read it once and hand the result on."""
    loaded = load_image(Image.new("LA", (40, 30), (90, 128)))
    assert load_image(loaded) is loaded
    with pytest.raises(ImageInputError, match="pixels|large|limit"):
        load_image(loaded, max_pixels=40 * 30 - 1)
