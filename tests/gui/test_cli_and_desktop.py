"""`mambaic-gui` outside the window: headless start, command line, desktop integration files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mambaic.codec.mic_format import MAGIC
from mambaic_gui import desktop
from mambaic_gui.app import parse_args
from mambaic_gui.display import display_problem
from mambaic_gui.resources import ICON_SIZES, ICONS, PACKAGING

REPO = Path(__file__).resolve().parents[2]


def test_display_problem_detection(tmp_path):
    assert "no display" in display_problem({}, "linux")
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert "cannot connect" in display_problem({"DISPLAY": ":4711"}, "linux")
    assert display_problem({}, "win32") is None
    (tmp_path / "wayland-0").touch()
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": str(tmp_path)},
                           "linux") is None


def test_headless_start_exits_with_a_message():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "core"), str(REPO)])
    done = subprocess.run([sys.executable, "-m", "mambaic_gui", "photo.jpg"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "mambaic-gui: no display" in done.stderr and "Traceback" not in done.stderr


def test_command_line():
    args = parse_args(["photo.jpg", "--device", "cpu", "--weights", "w.safetensors"])
    assert (args.file, args.device, args.weights) == ("photo.jpg", "cpu", "w.safetensors")
    assert parse_args(["--install-desktop"]).install_desktop


def test_desktop_entry_is_valid():
    lines = (PACKAGING / "mambaic-gui.desktop").read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    entry = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
    assert entry["Exec"] == "mambaic-gui %f" and entry["Icon"] == "mambaic"
    assert "application/x-mambaic-mic" in entry["MimeType"].split(";")
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(PACKAGING / "mambaic-gui.desktop")],
                       check=True)


def test_mime_definition_matches_the_container():
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(PACKAGING / "mambaic-mic.xml").getroot()
    mime = root.find("m:mime-type", ns)
    assert mime.get("type") == "application/x-mambaic-mic"
    assert mime.find("m:glob", ns).get("pattern") == "*.mic"
    value = mime.find("m:magic/m:match", ns).get("value")
    assert value.encode().decode("unicode_escape").encode("latin-1") == MAGIC


def test_install_for_user(tmp_path):
    written = desktop.install_files(tmp_path, "/opt/venv/bin/mambaic-gui")
    entry = (tmp_path / "applications" / "mambaic-gui.desktop").read_text()
    assert "Exec=/opt/venv/bin/mambaic-gui %f" in entry and "TryExec" not in entry
    assert (tmp_path / "mime" / "packages" / "mambaic-mic.xml").is_file()
    assert (tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "mambaic.svg").is_file()
    assert (tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "mambaic.png").is_file()
    hicolor = tmp_path / "icons" / "hicolor"
    assert (hicolor / "256x256" / "mimetypes" / "application-x-mambaic-mic.png").is_file()
    assert (hicolor / "scalable" / "mimetypes" / "application-x-mambaic-mic.svg").is_file()
    assert not list(hicolor.glob("*/apps/application-x-mambaic-mic.*"))
    assert all(path.is_file() for path in written)
    if shutil.which("update-mime-database") is None:
        pytest.skip("shared-mime-info is not installed")
    subprocess.run(["update-mime-database", str(tmp_path / "mime")], check=True,
                   capture_output=True)
    assert "application/x-mambaic-mic:*.mic" in (tmp_path / "mime" / "globs").read_text()
    assert MAGIC in (tmp_path / "mime" / "magic").read_bytes()


def test_install_never_takes_over_image_defaults(tmp_path, monkeypatch):
    """A fresh HOME: the entry offers itself for images but writes no default application."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert desktop.install() == 0
    entry = (tmp_path / "data" / "applications" / "mambaic-gui.desktop").read_text()
    assert "image/png" in entry  # offered …
    for mimeapps in tmp_path.rglob("mimeapps.list"):  # … but never made the default
        text = mimeapps.read_text()
        assert "image/" not in text.split("[Default Applications]", 1)[-1].split("\n[", 1)[0]


def test_icons_exist_in_every_size():
    assert (ICONS / "mambaic.svg").is_file()
    for size in ICON_SIZES:
        assert (ICONS / f"mambaic-{size}.png").is_file()


def test_a_path_on_the_command_line_is_opened(qtbot, settings, tiny_weights, mic_file):
    from mambaic_gui.app import open_window

    window = open_window(parse_args([str(mic_file), "--weights", str(tiny_weights)]), settings)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.result is not None and window.scheduler.is_idle(),
                    timeout=30000)
    assert window.document.path == mic_file and not window.windowIcon().isNull()
