"""The output modes a decoded image can have; their order is their code in the ``.mic`` header."""

from __future__ import annotations

OUTPUT_MODES: tuple[str, ...] = ("RGB", "L", "RGBA", "LA")
"""RGB and L are coded as RGB; RGBA and LA add a lossless alpha plane."""

ALPHA_MODES = frozenset({"RGBA", "LA"})
