"""Where the shipped files live: weights, icons, the sample photo and the desktop packaging.

The repository keeps them in `resources/` and `packaging/` at its root, outside the import
package, so an editable install (and the source tree itself) reads them there. A wheel cannot
reach outside its packages, so the build copies them into `mambaic/_resources/` (see setup.py);
that copy wins when present. One lookup serves the CLI, the codec and the app.
"""

from __future__ import annotations

from pathlib import Path

#: Resource kind → its folder in the source tree, relative to the repository root.
SOURCE_LAYOUT = {
    "weights": Path("resources/weights"),
    "icons": Path("resources/icons"),
    "samples": Path("resources/samples"),
    "packaging": Path("packaging"),
}

_PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_ROOT = _PACKAGE_DIR / "_resources"
SOURCE_ROOT = _PACKAGE_DIR.parents[1]


def resource_dir(kind: str) -> Path:
    """The folder holding one kind of shipped file: the wheel's copy, else the source tree's."""
    if kind not in SOURCE_LAYOUT:
        raise ValueError(f"unknown resource kind {kind!r}; choose from {sorted(SOURCE_LAYOUT)}")
    packaged = PACKAGED_ROOT / kind
    return packaged if packaged.is_dir() else SOURCE_ROOT / SOURCE_LAYOUT[kind]
