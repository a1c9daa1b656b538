"""Every import-time side effect of mambaic, in one place.

Three process-wide settings must be made before a third-party library first loads, so they
cannot wait for a function call of ours; each runs from the import named below, once, and only
chooses a default (a value the user or the environment set always wins):

* `set_openmp_wait_policy` -- run by ``import mambaic`` (the package ``__init__``), before any
  torch import. torch's OpenMP threads spin while they wait; when another process (or our GUI
  thread, or numba's pool) holds a core, a spinning team stalls: measured on 2 cores with one
  busy, a lite training step took 23.5 s with the default policy and 1.4 s with PASSIVE
  (mbt2018_mean 3.9 s vs 0.76 s). OpenMP reads the variable once, when torch loads.
* `prefer_numba_workqueue` -- run by ``import mambaic.ops.scan_cpu``, before its kernels first
  run. numba's own 'workqueue' pool, whose idle threads sleep, beats a second OpenMP runtime
  (numba's 'omp' layer loads the system libgomp, torch ships its own) whose threads spin after
  each kernel on the cores torch's next op wants; GNU OpenMP is not fork-safe either. numba
  fixes its layer when the first parallel kernel runs.
* `install_torchvision_standin` -- run by ``import mambaic._compressai``, the one way our
  modules import CompressAI, before ``import compressai``. CompressAI's ``__init__`` imports
  ``torchvision.transforms`` only to fill a registry we never use, and on CPU machines the only
  torchvision wheel matching our torch is a CUDA build whose import raises; when the real module
  cannot be imported, an empty stand-in is registered.
"""

from __future__ import annotations

import os
import sys
import types

__all__ = ["install_torchvision_standin", "prefer_numba_workqueue", "set_openmp_wait_policy"]


def set_openmp_wait_policy() -> None:
    """Default OMP_WAIT_POLICY to PASSIVE (must precede the first torch import to matter)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def prefer_numba_workqueue() -> None:
    """Select numba's 'workqueue' threading layer, unless NUMBA_THREADING_LAYER chose one or a
    numba parallel kernel has already run (the layer can no longer change then)."""
    if "NUMBA_THREADING_LAYER" in os.environ:
        return
    try:
        import numba
        from numba.np.ufunc import parallel as nb_parallel
    except Exception:  # pragma: no cover - numba missing, or its internals moved: its default
        return
    if not getattr(nb_parallel, "_is_initialized", False):
        numba.config.THREADING_LAYER = "workqueue"


def install_torchvision_standin() -> None:
    """Make ``import torchvision.transforms`` succeed: the real one if it imports, else an empty
    stand-in package (after dropping whatever a failed import left in ``sys.modules``)."""
    try:
        import torchvision.transforms  # noqa: F401
        return
    except Exception:  # missing, or a CUDA build that fails to register its ops on CPU torch
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
    tv = types.ModuleType("torchvision")
    tv.__path__ = []  # mark as a package so submodule imports resolve to our stand-ins
    transforms = types.ModuleType("torchvision.transforms")
    tv.transforms = transforms
    sys.modules["torchvision"] = tv
    sys.modules["torchvision.transforms"] = transforms
