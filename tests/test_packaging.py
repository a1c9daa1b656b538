"""A plain (non-editable) wheel carries everything the product needs at run time.

Users who `pip install mambaic` get no source tree, so the shipped weights, icons, sample photo
and desktop files must travel inside the wheel, and the lookup must find them there first.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mambaic.resources import SOURCE_LAYOUT, SOURCE_ROOT, resource_dir

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    (whl,) = out.glob("mambaic-*.whl")
    return whl


def test_source_tree_resources_are_found():
    for kind in SOURCE_LAYOUT:
        assert resource_dir(kind).is_dir(), kind
    assert resource_dir("weights") == SOURCE_ROOT / "resources" / "weights"


def test_unknown_resource_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown resource kind"):
        resource_dir("fonts")


def test_wheel_carries_every_shipped_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind, src in SOURCE_LAYOUT.items():
        for f in (REPO / src).iterdir():
            assert f"mambaic/_resources/{kind}/{f.name}" in names, (kind, f.name)
    assert "mambaic_gui/app.py" in names


def test_installed_wheel_loads_its_own_weights(wheel, tmp_path):
    target = tmp_path / "site"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--target", str(target), str(wheel)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    code = ("import mambaic.weights as w, mambaic.resources as r\n"
            "print(w.default_weights_path())\n"
            "print(r.resource_dir('icons'))\n")
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    weights, icons = (Path(line) for line in run.stdout.split())
    assert weights.is_relative_to(target) and weights.is_file()
    assert icons.is_relative_to(target) and (icons / "mambaic.svg").is_file()
