"""scripts/device_check.sh is run on a lent GPU with no second try, so its rehearsal runs here:
every step, at tiny sizes on the CPU, must succeed and land in the one report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # about 45 s on 2 CPU cores
def test_dry_run_rehearses_every_step(tmp_path):
    env = {**os.environ, "DRY_RUN": "1", "OUT": str(tmp_path), "PYTHON": sys.executable,
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["sh", "scripts/device_check.sh"], cwd=ROOT, env=env, timeout=240,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert list(report) == ["install", "cuda_tests", "scan", "latency", "crossdevice", "train"]
    assert {name: step["status"] for name, step in report.items()} == dict.fromkeys(report, "ok")
    assert report["latency"]["result"]["models"]["tiny"]["decode_ms"] > 0
    assert report["scan"]["result"]["auto"] in report["scan"]["result"]["backends"]
    assert all(c["result"] == "decoded" and c["max_abs_diff"] == 0
               for c in report["crossdevice"]["result"]["cases"])
    assert report["train"]["result"]["last_step"] == "3"
    assert (tmp_path / "report.md").read_text().startswith("# Device check")
    parts = sorted(tmp_path.glob("mambaic-tiny-fp32.part-*"))
    assert len(parts) == 3 and all(p.stat().st_size < 16_000_000 for p in tmp_path.rglob("*") if p.is_file())
