"""`mambaic-gui --install-desktop`: menu entry, `.mic` file type and icons for the current user.

Files go under $XDG_DATA_HOME (~/.local/share) following the freedesktop specs; the caches are
refreshed with the standard tools when they are installed. The entry only *offers* itself for
images (its MimeType list); it never writes default applications (no `xdg-mime default`, no
mimeapps.list), so the user's image viewer stays the default. The menu entry's Exec line is rewritten
to the command that is running now, because a virtualenv's `mambaic-gui` is usually not on the
PATH a desktop session sees.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from mambaic_gui.resources import ICON_NAME, ICON_SIZES, ICONS, PACKAGING

DESKTOP_FILE = "mambaic-gui.desktop"
MIME_FILE = "mambaic-mic.xml"
MIME_ICON = "application-x-mambaic-mic"  # file managers show .mic files with the app's icon


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launch_command() -> str:
    """How a desktop session can start this very installation of the app."""
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "mambaic-gui" and script.is_file():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m mambaic_gui"


def _desktop_entry(command: str) -> str:
    lines = (PACKAGING / DESKTOP_FILE).read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        if line.startswith("Exec="):
            line = f"Exec={command} %f"
        elif line.startswith("TryExec="):
            continue  # TryExec cannot take arguments; the absolute Exec is enough
        out.append(line)
    return "\n".join(out) + "\n"


def _copy(source: Path, target: Path, written: list[Path]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    written.append(target)


def install_files(root: Path, command: str) -> list[Path]:
    """Write every file under `root` (an XDG data directory); returns the paths written."""
    written: list[Path] = []
    entry = root / "applications" / DESKTOP_FILE
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(_desktop_entry(command), encoding="utf-8")
    written.append(entry)
    _copy(PACKAGING / MIME_FILE, root / "mime" / "packages" / MIME_FILE, written)
    hicolor = root / "icons" / "hicolor"
    # The icon theme spec files an app's icon under apps/ and a file type's under mimetypes/.
    contexts = (("apps", ICON_NAME), ("mimetypes", MIME_ICON))
    for size in ICON_SIZES:
        png = ICONS / f"{ICON_NAME}-{size}.png"
        if png.is_file():
            for context, name in contexts:
                _copy(png, hicolor / f"{size}x{size}" / context / f"{name}.png", written)
    svg = ICONS / f"{ICON_NAME}.svg"
    for context, name in contexts:
        _copy(svg, hicolor / "scalable" / context / f"{name}.svg", written)
    return written


def _refresh_caches(root: Path) -> list[str]:
    """Run the cache tools that exist here; returns the ones that were missing."""
    tools = [("update-mime-database", [str(root / "mime")]),
             ("update-desktop-database", [str(root / "applications")]),
             ("gtk-update-icon-cache", ["-f", "-t", str(root / "icons" / "hicolor")])]
    missing = []
    for tool, arguments in tools:
        if shutil.which(tool) is None:
            missing.append(tool)
            continue
        subprocess.run([tool, *arguments], check=False, capture_output=True)
    return missing


def install() -> int:
    """Install for the current user and say what was done; 0 on success."""
    for required in (PACKAGING / DESKTOP_FILE, PACKAGING / MIME_FILE, ICONS / f"{ICON_NAME}.svg"):
        if not required.is_file():
            print(f"mambaic-gui: {required} is missing; install from a source checkout "
                  "(pip install -e .[gui]) to get the desktop files.", file=sys.stderr)
            return 1
    root = data_home()
    written = install_files(root, launch_command())
    missing = _refresh_caches(root)
    print(f"Installed {len(written)} files under {root}:")
    for path in written:
        print(f"  {path}")
    if missing:
        print("Not found, so their caches were not refreshed (the desktop will pick the files up "
              f"at next login): {', '.join(missing)}")
    return 0
