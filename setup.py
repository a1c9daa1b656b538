"""Build hook: wheels carry the shipped weights, icons, sample and desktop files.

Everything else is declared in pyproject.toml. The repository keeps these files outside the
import packages (`resources/`, `packaging/`); a wheel can only ship files inside a package, so
`build_py` copies them into `mambaic/_resources/<kind>`, where `mambaic.resources` looks first.
Editable installs skip the copy and read the source tree directly.
"""

from __future__ import annotations

import importlib.util
import os

from setuptools import setup
from setuptools.command.build_py import build_py


def _source_layout() -> dict:
    """`mambaic.resources.SOURCE_LAYOUT`, read from its file (the package itself needs torch)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "core", "mambaic", "resources.py")
    spec = importlib.util.spec_from_file_location("_mambaic_resources", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SOURCE_LAYOUT


class BuildPyWithResources(build_py):
    """`build_py` plus a copy of the shipped resource folders into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for kind, src in _source_layout().items():
            self.copy_tree(str(src), os.path.join(self.build_lib, "mambaic", "_resources", kind))


setup(cmdclass={"build_py": BuildPyWithResources})
