"""``mambaic eval`` and ``mambaic bench`` via the dispatcher, on tiny images and a tiny model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import mambaic
from mambaic.cli.eval import set_names
from mambaic.cli.main import main
from mambaic.eval import bdrate, published
from mic_testing import sample_image


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    sample_image(200, 176, seed=1).save(folder / "a.png")  # > 160 px: MS-SSIM is defined
    sample_image(72, 56, seed=2).save(folder / "b.png")  # too small for MS-SSIM: NaN, skipped
    sample_image(72, 56, seed=3).save(folder / "c.png")  # cut by --limit 2
    return folder


@pytest.fixture(scope="module")
def eval_out(weights, images, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval")
    argv = [str(images), "--codecs", "mambaic,jpeg420", "--qualities", "1", "5",
            "--limit", "2", "--weights", str(weights), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(["eval", *argv]) == 0
    return out


def test_eval_writes_compressai_layout_json(eval_out):
    result = json.loads((eval_out / "json" / "mambaic.json").read_text())
    assert {"name", "description", "results"} <= set(result)
    series = result["results"]
    for key in ("bpp", "psnr-rgb", "ms-ssim-rgb", "encoding_time", "decoding_time"):
        assert len(series[key]) == 2
    assert series["bpp"][0] < series["bpp"][1]  # quality 5 spends more bits than quality 1
    assert all(0 < v <= 1 for v in series["ms-ssim-rgb"])  # b.png's NaN is left out of the mean
    assert {p.name for p in (eval_out / "json").iterdir()} == {
        "mambaic.json",
        "jpeg420.json",
        "bd-rate.json",
    }


def test_eval_bpp_is_from_the_real_mic_bytes(eval_out, weights, images):
    with open(eval_out / "per_image.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["image"] for r in rows} == {"a.png", "b.png"}  # --limit 2, sorted by name
    ours = next(r for r in rows if r["codec"] == "mambaic" and r["image"] == "a.png"
                and float(r["quality"]) == 1.0)  # fmt: skip
    codec = mambaic.load_codec(weights=weights)
    data = codec.compress(str(images / "a.png"), 1.0)
    assert int(ours["bytes"]) == len(data)
    assert float(ours["bpp"]) == pytest.approx(len(data) * 8 / (200 * 176), abs=1e-4)
    json_bpp = json.loads((eval_out / "json" / "mambaic.json").read_text())["results"]["bpp"][0]
    mean_csv = sum(float(r["bpp"]) for r in rows if r["codec"] == "mambaic"
                   and float(r["quality"]) == 1.0) / 2  # fmt: skip
    assert json_bpp == pytest.approx(mean_csv, abs=1e-4)


def _curve(eval_out: Path, codec: str) -> dict:
    return json.loads((eval_out / "json" / f"{codec}.json").read_text())["results"]


def test_eval_psnr_is_the_real_decoded_quality(eval_out, weights, images):
    import numpy as np
    from PIL import Image

    with open(eval_out / "per_image.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["codec"] == "mambaic"]
    codec = mambaic.load_codec(weights=weights)
    for row in rows:
        original = np.asarray(Image.open(images / row["image"]).convert("RGB"), dtype=np.float64)
        decoded = np.asarray(codec.decompress(codec.compress(str(images / row["image"]),
                                                             float(row["quality"]))), dtype=np.float64)
        psnr = 10 * np.log10(255**2 / np.mean((original - decoded) ** 2))
        assert float(row["psnr_rgb"]) == pytest.approx(psnr, abs=1e-3)
    # The JSON curve is the per-setting mean of those measurements.
    curve = _curve(eval_out, "mambaic")
    for i, quality in enumerate(curve["quality"]):
        at_q = [float(r["psnr_rgb"]) for r in rows if float(r["quality"]) == quality]
        assert len(at_q) == 2 and curve["psnr-rgb"][i] == pytest.approx(sum(at_q) / 2, abs=1e-3)


def test_eval_report_numbers_are_the_measured_ones(eval_out):
    ours, jpeg = _curve(eval_out, "mambaic"), _curve(eval_out, "jpeg420")
    text = (eval_out / "eval.md").read_text()
    # The curve tables show the JSON's numbers, row by row.
    for curve in (ours, jpeg):
        for q, bpp, psnr in zip(curve["quality"], curve["bpp"], curve["psnr-rgb"]):
            assert f"| {q:g} | {bpp:.4f} | {psnr:.2f} |" in text
    # Random weights: the tiny model's PSNR range lies wholly below JPEG's, so no BD-rate exists;
    # the JSON must say so (not a made-up number) and the text must name the real end points.
    assert max(ours["psnr-rgb"]) < min(jpeg["psnr-rgb"])
    with pytest.raises(bdrate.NoOverlapError):
        bdrate.bd_rate(jpeg["bpp"], jpeg["psnr-rgb"], ours["bpp"], ours["psnr-rgb"])
    bd = json.loads((eval_out / "json" / "bd-rate.json").read_text())
    assert bd["test"] == "mambaic"
    (row,) = bd["anchors"]
    assert row == {"anchor": "jpeg420", "bd_rate_psnr_pct": None, "bd_rate_ms_ssim_pct": None,
                   "psnr_overlap_db": None}
    best = max(range(len(ours["psnr-rgb"])), key=lambda i: ours["psnr-rgb"][i])
    worst = min(range(len(jpeg["psnr-rgb"])), key=lambda i: jpeg["psnr-rgb"][i])
    assert (f"our best point ({ours['psnr-rgb'][best]:.1f} dB at {ours['bpp'][best]:.3f} bpp) has lower "
            f"PSNR than its lowest ({jpeg['psnr-rgb'][worst]:.1f} dB at {jpeg['bpp'][worst]:.3f} bpp)") in text
    assert bd["self_test_10pct_fewer_bits"] == pytest.approx(-10.0, abs=1e-6)
    assert f"scores {bd['self_test_10pct_fewer_bits']:.3f} %" in text
    for curve in published.CURVES:  # the published curves are listed with their point counts
        assert f"| {curve.name} | {len(curve.bpp)}" in text
    assert (eval_out / "rd_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_rejects_bad_arguments(images):
    for argv in (["--codecs", "jpeg420,nope"], ["--qualities", "7"], ["--limit", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["eval", str(images), *argv])
        assert exit_info.value.code == 2


def test_bench_times_every_group_and_splits_mambaic_by_stage(weights, tmp_path):
    argv = ["--size", "64x64", "--repeats", "1", "--warmup", "0", "--weights", str(weights),
            "--out", str(tmp_path), "--quiet"]  # fmt: skip
    assert main(["bench", *argv]) == 0
    report = json.loads((tmp_path / "bench-cpu.json").read_text())
    kinds = {row["name"]: row["kind"] for row in report["rows"]}
    assert kinds["mambaic"] == "mambaic"
    assert {"jpeg420", "webp", "avif"} <= set(kinds)
    assert {"mbt2018_mean", "cheng2020_anchor"} <= set(kinds)
    assert all(row["encode_ms_median"] > 0 and row["decode_ms_median"] > 0
               for row in report["rows"])  # fmt: skip
    stages = report["mambaic_encode_stages_ms"]
    assert "analysis (g_a; incl. image to tensor)" in stages
    assert sum(1 for s in stages if s.startswith("context model, slice")) == 5
    assert "synthesis (g_s)" in report["mambaic_decode_stages_ms"]
    assert "vs mambaic" in (tmp_path / "bench-cpu.md").read_text()


def test_bench_refine_adds_a_timed_refined_row(weights, tmp_path):
    argv = ["--size", "64x64", "--repeats", "1", "--warmup", "0", "--weights", str(weights),
            "--no-classic", "--no-peers", "--refine", "2", "--out", str(tmp_path), "--quiet"]
    assert main(["bench", *argv]) == 0
    rows = {row["name"]: row for row in json.loads((tmp_path / "bench-cpu.json").read_text())["rows"]}
    assert set(rows) == {"mambaic", "mambaic-refined"}
    assert "2 refinement steps" in rows["mambaic-refined"]["setting"]
    assert rows["mambaic-refined"]["encode_ms_median"] > 0 and rows["mambaic-refined"]["bytes"] > 0


def test_eval_refine_is_recorded_in_the_report(weights, images, tmp_path):
    argv = [str(images), "--codecs", "mambaic", "--qualities", "3", "--limit", "1", "--refine", "2",
            "--weights", str(weights), "--out", str(tmp_path), "--quiet"]  # fmt: skip
    assert main(["eval", *argv]) == 0
    assert "encoder 2 refinement steps" in (tmp_path / "eval.md").read_text()
    with pytest.raises(SystemExit):
        main(["eval", str(images), "--refine", "-3"])


def test_eval_effort_is_recorded_and_excludes_refine(weights, images, tmp_path):
    argv = [str(images), "--codecs", "mambaic", "--qualities", "3", "--limit", "1", "--effort", "1",
            "--weights", str(weights), "--out", str(tmp_path), "--quiet"]  # fmt: skip
    assert main(["eval", *argv]) == 0
    assert "encoder effort 1 (3 refinement steps)" in (tmp_path / "eval.md").read_text()
    for bad in (["--effort", "1", "--refine", "2"], ["--effort", "4"], ["--effort", "x"]):
        with pytest.raises(SystemExit):
            main(["eval", str(images), *bad])


def test_eval_of_two_sets_reports_each_and_puts_their_bd_rates_side_by_side(weights, images, tmp_path):
    other = tmp_path / "images"
    other.mkdir()
    sample_image(200, 176, seed=7).save(other / "d.png")
    out = tmp_path / "out"
    argv = [str(images), str(other), "--codecs", "mambaic,jpeg420", "--qualities", "1", "5",
            "--limit", "1", "--weights", str(weights), "--out", str(out), "--quiet"]  # fmt: skip
    assert main(["eval", *argv]) == 0
    names = set_names([images, other])
    assert len(set(names)) == 2
    summary = (out / "sets.md").read_text()
    for name in names:
        bd = json.loads((out / name / "json" / "bd-rate.json").read_text())["anchors"][0]
        rate = bd["bd_rate_psnr_pct"]
        cell = "n/a (no overlap)" if rate is None else f"{rate:+.2f} %"
        assert cell in summary and name in summary
    with open(out / names[1] / "per_image.csv", newline="") as f:
        assert {r["image"] for r in csv.DictReader(f)} == {"d.png"}


def test_set_names_number_folders_that_share_a_name(tmp_path):
    assert set_names([tmp_path / "a" / "eval", tmp_path / "b" / "eval", tmp_path / "texture"]) == [
        "eval", "eval-2", "texture"]
