"""The public codec: a PIL image (or a path, or file bytes) ⇄ ``.mic`` bytes, with a real rANS coder.

``Codec`` glues the pieces together and owns the decisions that span them: which quality value
is actually used (the one the file can record), how big tiles are, and what a decoder must check
before it trusts a file (same model, same weights, streams no longer than the model allows).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mambaic.codec.alpha import decode_alpha, encode_alpha
from mambaic.codec.effort import refine_steps_for
from mambaic.codec.image_io import ImageInfo, ImageSource, load_image, to_pil
from mambaic.codec.info import MicInfo
from mambaic.codec.limits import MAX_PIXELS, MAX_TILE_SIZE, dimension_problem
from mambaic.codec.mic_format import (
    MicHeader,
    SliceStream,
    TileStreams,
    encode_container,
    parse_container,
    quantize_quality,
    validate_metadata,
)
from mambaic.codec.padding import crop, pad_edges
from mambaic.codec.stream_guard import PaddedSlices, check_tile, padded
from mambaic.codec.tiling import Tile, tile_grid
from mambaic.errors import DecodeLimitError, DeviceError, MicFormatError
from mambaic.models.gain import QUALITY_MAX, QUALITY_MIN, check_quality
from mambaic.models.mambaic import MambaIC
from mambaic.models.pixels import pixel_values
from mambaic.models.streams import LatentStreams
from mambaic.progress import Cancel, Progress, ProgressScale, check_cancel
from mambaic.weights import WeightsInfo, load_model


@dataclass(frozen=True)
class CodecConfig:
    """Knobs that change memory and speed, never the meaning of a file (decoders read them)."""

    tile_size: int = 2048
    """Side of the square tiles large images are coded in; a multiple of the model's 64. Images
    up to this size are coded whole. Peak memory grows with ``tile_size``², not image size; at
    most :data:`~mambaic.codec.limits.MAX_TILE_SIZE`, the largest tile a decoder accepts."""
    max_pixels: int = MAX_PIXELS
    """Largest image, in pixels, this codec encodes *or decodes*: a service embedding the library
    caps its work with it (decoding costs time and memory per pixel, whatever the file size)."""
    refine_tile_size: int = 768
    """Tile side used instead when encoding with latent refinement, whose backward pass needs
    about 5 kB per pixel (1.9 GB peak for 768x512 on CPU, against 0.9 GB without)."""


@dataclass(frozen=True)
class EncodeResult:
    data: bytes
    info: MicInfo
    image: ImageInfo
    """What the input was and which conversions were applied to it."""
    seconds: float
    refine_steps: int = 0
    """Refinement steps spent per tile (from the effort level or given directly)."""
    refined_tiles: int = 0
    """Tiles whose refined coding was kept; the others were cheaper coded plainly."""


@dataclass(frozen=True)
class DecodeResult:
    image: Image.Image
    info: MicInfo
    seconds: float


class Codec:
    """One loaded model and its weights, coding images to ``.mic`` bytes and back."""

    def __init__(self, model: MambaIC, weights: WeightsInfo, device: str = "cpu",
                 config: CodecConfig | None = None) -> None:
        self.model = model.eval()
        self.weights = weights
        self.device = torch.device(device)
        self.config = config or CodecConfig()
        for size in (self.config.tile_size, self.config.refine_tile_size):
            if size % model.pad_multiple or not 0 < size <= MAX_TILE_SIZE:
                raise ValueError(f"tile sizes must be multiples of {model.pad_multiple} "
                                 f"from {model.pad_multiple} to {MAX_TILE_SIZE}")
        max_pixels = self.config.max_pixels
        if not isinstance(max_pixels, int) or max_pixels < 1:
            raise ValueError(f"max_pixels must be a positive integer, not {max_pixels!r}")
        self._strides: tuple[int, int] | None = None

    # ---- what this codec is ---------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return self.weights.name

    @property
    def weights_sha256(self) -> str:
        return self.weights.sha256

    @property
    def quality_range(self) -> tuple[float, float]:
        return QUALITY_MIN, QUALITY_MAX

    @property
    def paper_qualities(self) -> list[float]:
        """The qualities trained at the paper's λ values (q = 1 ↔ λ = 0.0035 … q = 5 ↔ 0.05)."""
        levels = len(self.model.cfg.lambdas)
        step = (QUALITY_MAX - QUALITY_MIN) / (levels - 1)
        return [QUALITY_MIN + i * step for i in range(levels)]

    # ---- encoding -------------------------------------------------------------------------
    def compress(self, image: ImageSource, quality: float, progress: Progress = None,
                 cancel: Cancel = None, metadata: Mapping[str, object] | None = None,
                 refine_steps: int | None = None, effort: int | None = None) -> bytes:
        """Code an image at ``quality`` (1–5) into the bytes of a ``.mic`` file.

        ``effort`` (0–3, :mod:`mambaic.codec.effort`; default 0) spends encode time for smaller
        files at the same quality: levels above 0 fit the latents to this image by gradient
        descent (:mod:`mambaic.models.refine`) and keep the result only where it costs less in
        real bytes and pixels. ``refine_steps`` sets the number of steps directly instead (the
        expert knob). Each step costs about a decode's time and a training step's memory; any
        decoder reads the result at the usual speed.

        ``progress`` gets a `mambaic.progress.ProgressEvent` as each model stage of each tile
        ends, on one scale for the whole image; ``cancel()`` is polled between stages and tiles
        (``Cancelled``). :meth:`decompress` takes both the same way.
        """
        return self.compress_report(image, quality, progress, cancel, metadata, refine_steps,
                                    effort).data

    def compress_report(self, image: ImageSource, quality: float, progress: Progress = None,
                        cancel: Cancel = None, metadata: Mapping[str, object] | None = None,
                        refine_steps: int | None = None, effort: int | None = None) -> EncodeResult:
        """Like :meth:`compress`, also returning the file's info, the input's info, the time and
        how many tiles kept their refined coding."""
        start = time.perf_counter()
        refine_steps = refine_steps_for(effort, refine_steps)
        quality = check_quality(quantize_quality(quality))
        meta = validate_metadata(metadata or {})
        loaded = load_image(image, self.config.max_pixels)
        padded_rgb = pad_edges(loaded.rgb, self.model.pad_multiple)
        tile_size = self.config.tile_size
        if refine_steps:
            tile_size = min(tile_size, self.config.refine_tile_size)
        tiles = tile_grid(*padded_rgb.shape[:2], tile_size)
        steps = self.model.compress_stages(refine_steps)
        coded = []
        for index, tile in enumerate(tiles):
            check_cancel(cancel)
            x = _to_tensor(padded_rgb, tile, self.device)
            valid = (min(tile.height, loaded.info.height - tile.top),
                     min(tile.width, loaded.info.width - tile.left))
            coded.append(self.model.compress(x, quality, _tile_progress(progress, index, len(tiles), steps),
                                             cancel, refine_steps, valid))
        y_stride, z_stride = self._latent_strides()
        header = MicHeader(
            model_name=self.weights.name, weights_sha256=bytes.fromhex(self.weights.sha256),
            quality=quality, width=loaded.info.width, height=loaded.info.height,
            mode=loaded.info.mode, source_mode=loaded.info.source_mode,
            pad_multiple=self.model.pad_multiple, y_stride=y_stride, z_stride=z_stride,
            tile_size=tile_size, num_slices=self.model.cfg.num_slices,
        )
        _check_shapes(header, tiles, coded)
        data = encode_container(header, [_tile_streams(s) for s in coded],
                                encode_alpha(loaded.alpha), meta)
        return EncodeResult(data, MicInfo.from_file(parse_container(data)), loaded.info,
                            time.perf_counter() - start, refine_steps,
                            sum(streams.refined for streams in coded))

    # ---- decoding -------------------------------------------------------------------------
    def decompress(self, data: bytes, progress: Progress = None,
                   cancel: Cancel = None) -> Image.Image:
        """Decode ``.mic`` bytes; raises ``MicFormatError`` for bad files or other weights."""
        return self.decompress_report(data, progress, cancel).image

    def decompress_report(self, data: bytes, progress: Progress = None,
                          cancel: Cancel = None) -> DecodeResult:
        start = time.perf_counter()
        mic = parse_container(bytes(data))
        header = mic.header
        problem = dimension_problem(header.width, header.height, self.config.max_pixels)
        if problem:
            raise DecodeLimitError(f"refusing to decode: {problem}")
        self._check_compatible(header)
        tiles = tile_grid(*header.padded_size, header.tile_size)
        for tile, tile_streams in zip(tiles, mic.tiles):
            check_tile(tile_streams, *self._symbol_counts(header, tile))
        rgb = np.empty((header.height, header.width, 3), dtype=np.uint8)
        steps = self.model.decompress_stages()
        for index, (tile, tile_streams) in enumerate(zip(tiles, mic.tiles)):
            check_cancel(cancel)
            z_symbols, slice_symbols = self._symbol_counts(header, tile)
            streams = LatentStreams(
                z=padded(tile_streams.z, z_symbols),
                slices=PaddedSlices(tile_streams, slice_symbols),  # type: ignore[arg-type]
                z_shape=(tile.height // header.z_stride, tile.width // header.z_stride),
                y_shape=(tile.height // header.y_stride, tile.width // header.y_stride),
                symbol_crcs=[part.symbols_crc for part in tile_streams.slices],
            )
            try:
                x_hat = self.model.decompress(streams, header.quality,
                                              _tile_progress(progress, index, len(tiles), steps), cancel)
            except MicFormatError:
                raise
            except ValueError as exc:  # the model refusing shapes or quality is a file problem
                raise MicFormatError(f"the file's streams do not fit the model: {exc}") from exc
            _paste(rgb, tile, to_uint8(x_hat))
        alpha = decode_alpha(mic.alpha, header.width, header.height)
        image = to_pil(rgb, header.mode, alpha)
        return DecodeResult(image, MicInfo.from_file(mic), time.perf_counter() - start)

    # ---- checks ---------------------------------------------------------------------------
    def _check_compatible(self, header: MicHeader) -> None:
        ours = self.weights.sha256
        if header.model_name != self.weights.name or header.weights_sha256.hex() != ours:
            raise MicFormatError(
                f"this file needs model '{header.model_name}' with weights sha256 "
                f"{header.weights_sha256.hex()[:16]}…; the loaded weights are "
                f"'{self.weights.name}' {ours[:16]}… (load the matching weights file)")
        y_stride, z_stride = self._latent_strides()
        expected = (self.model.pad_multiple, y_stride, z_stride, self.model.cfg.num_slices)
        found = (header.pad_multiple, header.y_stride, header.z_stride, header.num_slices)
        if found != expected:
            raise MicFormatError(f"file geometry (padding, strides, slices) {found} does not "
                                 f"match the model's {expected}")
        try:
            check_quality(header.quality)
        except ValueError as exc:
            raise MicFormatError(str(exc)) from exc

    def _symbol_counts(self, header: MicHeader, tile: Tile) -> tuple[int, int]:
        """Symbols in a tile's z stream, and at most in each checkerboard half of a slice."""
        y_positions = (tile.height // header.y_stride) * (tile.width // header.y_stride)
        z_positions = (tile.height // header.z_stride) * (tile.width // header.z_stride)
        cfg = self.model.cfg
        return cfg.N * z_positions, cfg.slice_channels * -(-y_positions // 2)

    def _latent_strides(self) -> tuple[int, int]:
        """Pixels per y and per z element, measured once on the model itself (not assumed)."""
        if self._strides is None:
            side = self.model.pad_multiple
            with torch.no_grad():
                y = self.model.g_a(torch.zeros(1, 3, side, side, device=self.device))
                z = self.model.h_a(y)
            self._strides = side // y.shape[-1], side // z.shape[-1]
        return self._strides


def load_codec(weights: str | Path | None = None, device: str = "cpu",
               config: CodecConfig | None = None) -> Codec:
    """Load weights (None = the shipped ones) onto ``device`` and return a ready :class:`Codec`.

    Raises ``WeightsError`` when the weights are missing or invalid, ``DeviceError`` when the
    device does not exist here.
    """
    _check_device(device)
    model, info = load_model(weights, device)
    return Codec(model, info, device, config)


def to_uint8(x_hat: torch.Tensor) -> np.ndarray:
    """The model's (1, 3, H, W) output in [0, 1] → (H, W, 3) uint8, rounding to nearest."""
    return pixel_values(x_hat[0]).to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def _to_tensor(rgb: np.ndarray, tile: Tile, device: torch.device) -> torch.Tensor:
    part = rgb[tile.top:tile.top + tile.height, tile.left:tile.left + tile.width]
    x = torch.from_numpy(part.copy()).permute(2, 0, 1)[None]  # copy: PIL arrays are read-only
    return x.to(device=device, dtype=torch.float32).div_(255)


def _paste(out: np.ndarray, tile: Tile, rgb: np.ndarray) -> None:
    """Write the part of a decoded tile that lies inside the (unpadded) image."""
    height = min(tile.height, out.shape[0] - tile.top)
    width = min(tile.width, out.shape[1] - tile.left)
    if height > 0 and width > 0:
        out[tile.top:tile.top + height, tile.left:tile.left + width] = crop(rgb, height, width)


def _tile_streams(streams: LatentStreams) -> TileStreams:
    return TileStreams(streams.z, tuple(
        SliceStream(anchor, nonanchor, crc)
        for (anchor, nonanchor), crc in zip(streams.slices, streams.symbol_crcs)))


def _check_shapes(header: MicHeader, tiles: list[Tile], coded: list[LatentStreams]) -> None:
    """The container derives latent shapes from tile sizes; make sure the model agrees."""
    for tile, streams in zip(tiles, coded):
        expected_y = (tile.height // header.y_stride, tile.width // header.y_stride)
        expected_z = (tile.height // header.z_stride, tile.width // header.z_stride)
        if tuple(streams.y_shape) != expected_y or tuple(streams.z_shape) != expected_z:
            raise RuntimeError(f"model produced latents {streams.y_shape}/{streams.z_shape} for a "
                               f"{tile.height}x{tile.width} tile; expected {expected_y}/{expected_z}")


def _check_device(device: str) -> None:
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise DeviceError(f"unknown device {device!r} (use cpu or cuda)") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise DeviceError("CUDA was requested but is not available on this machine")
    if kind not in ("cpu", "cuda"):
        raise DeviceError(f"unsupported device {device!r} (use cpu or cuda)")


def _tile_progress(progress: Progress, index: int, tiles: int, steps: int) -> ProgressScale:
    """Tile ``index``'s share of the image's progress: its model's ``steps`` stages, after those of
    the tiles before it."""
    return ProgressScale(progress, tiles * steps, start=index * steps, width=steps,
                         tile=index + 1, tiles=tiles)
