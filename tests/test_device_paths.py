"""Every device path of the codec: the rANS coder runs on the CPU and the model wherever it was
loaded, and `gaussian_coding.to_coder`/`from_coder` are the only crossing between them.

Without a GPU the crossing is checked on torch's lazy device, a real non-CPU device on CPU-only
builds (it refuses `.numpy()` and mixing with CPU tensors, as CUDA does). The tests marked
``cuda`` run the whole codec there; scripts/device_check.sh runs them on a lent GPU.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from mambaic._compressai import GaussianConditional, RansDecoder, RansEncoder, get_scale_table
from mambaic.cli.main import main
from mambaic.codec.codec import CodecConfig, load_codec
from mambaic.errors import DecodeMismatchError
from mambaic.models import gaussian_coding
from mambaic.ops.scan_cuda import cuda_available
from mambaic.ops.selective_scan import auto_backend
from mic_testing import sample_image

on_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


def _lazy_device() -> torch.device | None:
    try:
        import torch._lazy.ts_backend

        torch._lazy.ts_backend.init()
        torch.ones(1, device="lazy").cpu()
    except Exception:
        return None
    return torch.device("lazy")


def _coding_inputs() -> tuple[GaussianConditional, torch.Tensor, torch.Tensor, torch.Tensor]:
    gc = GaussianConditional(None)
    gc.update_scale_table(get_scale_table(), force=True)
    g = torch.Generator().manual_seed(0)
    values = torch.randn(1, 8, 50, generator=g) * 4
    scales = torch.rand(1, 8, 50, generator=g) * 5 + 0.05
    means = torch.randn(1, 8, 50, generator=g)
    return gc, values, scales, means


def test_coding_on_another_device_hands_the_coder_host_data_and_returns_device_tensors():
    device = _lazy_device()
    if device is None:
        pytest.skip("torch's lazy device is not available in this build")
    gc, values, scales, means = _coding_inputs()
    data, symbols, y_hat = gaussian_coding.encode(gc, values, scales, means)
    gc_dev = copy.deepcopy(gc).to(device)
    on = [t.to(device) for t in (values, scales, means)]

    data_dev, symbols_dev, y_hat_dev = gaussian_coding.encode(gc_dev, *on)
    assert data_dev == data and isinstance(symbols_dev, np.ndarray)
    assert np.array_equal(symbols_dev, symbols) and y_hat_dev.device.type == device.type
    assert torch.equal(y_hat_dev.cpu(), y_hat)

    decoded, y_hat_back = gaussian_coding.decode(gc_dev, data_dev, on[1], on[2])
    assert np.array_equal(decoded, symbols) and y_hat_back.device.type == device.type
    assert torch.equal(y_hat_back.cpu(), y_hat)


def test_everything_handed_to_the_rans_coder_is_plain_host_data(codec, monkeypatch):
    """The coder is C++: it must see Python ints and bytes, never tensors or arrays."""
    seen = []

    def plain(value) -> bool:
        if isinstance(value, list):
            return all(plain(v) for v in value[:64])
        return type(value) in (int, bytes)

    class Encoder(RansEncoder):
        def encode_with_indexes(self, *args):
            seen.append(args)
            return super().encode_with_indexes(*args)

    class Decoder(RansDecoder):
        def decode_with_indexes(self, *args):
            seen.append(args)
            return super().decode_with_indexes(*args)

    monkeypatch.setattr(gaussian_coding, "RansEncoder", Encoder)
    monkeypatch.setattr(gaussian_coding, "RansDecoder", Decoder)
    image = sample_image(70, 40)
    codec.decompress(codec.compress(image, 3.0))
    assert len(seen) == 4 * codec.model.cfg.num_slices  # 2 passes x (encode + decode) per slice
    assert all(plain(arg) for args in seen for arg in args)


def test_the_scan_on_cuda_is_mamba_ssm_when_it_imports_else_the_chunked_scan():
    assert auto_backend("cuda") == ("cuda" if cuda_available() else "chunked")


# ---- on a GPU ---------------------------------------------------------------------------------
@pytest.mark.cuda
@on_cuda
@pytest.mark.parametrize("tile_size", [2048, 64])
def test_round_trip_and_tiles_on_cuda(weights, tile_size):
    codec = load_codec(weights, device="cuda", config=CodecConfig(tile_size=tile_size))
    image = sample_image(130, 70)
    data = codec.compress(image, 3.0)
    assert codec.compress(image, 3.0) == data
    decoded = codec.decompress(data)
    assert decoded.size == image.size and codec.decompress(data).tobytes() == decoded.tobytes()


@pytest.mark.cuda
@on_cuda
def test_refinement_on_cuda(weights):
    codec = load_codec(weights, device="cuda")
    image = sample_image(64, 64)
    data = codec.compress(image, 2.0, refine_steps=3)
    assert codec.compress(image, 2.0, refine_steps=3) == data
    assert codec.decompress(data).size == image.size


@pytest.mark.cuda
@on_cuda
def test_training_steps_with_validation_on_cuda(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        sample_image(128, 96, seed=i).save(photos / f"p{i}.png")
    out = tmp_path / "run"
    assert main(["train", str(photos), "--out", str(out), "--model", "tiny", "--steps", "2",
                 "--batch-size", "2", "--patch", "64", "--device", "cuda", "--val-dir", str(photos),
                 "--val-every", "2", "--save-every", "2"]) == 0
    assert (out / "val.csv").read_text().count("\n") >= 2


@pytest.mark.cuda
@on_cuda
def test_cross_device_decoding_is_exact_or_reported(weights):
    """A file made on one device decodes on the other, or the symbol CRCs say why not."""
    cpu, gpu = load_codec(weights), load_codec(weights, device="cuda")
    image = sample_image(130, 70)
    for encoder, decoder in ((cpu, gpu), (gpu, cpu)):
        data = encoder.compress(image, 3.0)
        try:
            decoded = np.asarray(decoder.decompress(data), dtype=int)
        except DecodeMismatchError:
            continue
        assert np.abs(decoded - np.asarray(encoder.decompress(data), dtype=int)).max() <= 2
