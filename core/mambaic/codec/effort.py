"""Effort levels: how much of the user's encode time to spend for smaller files at the same quality.

Like ``cjxl -e`` or ``avifenc -s``, effort never changes what a decoder needs: every level writes
an ordinary ``.mic`` that any decoder with the same weights reads at the same speed. Level 0 is
the plain encoder; levels 1–3 refine the latents to the image (:mod:`mambaic.models.refine`) with
more and more gradient steps, and keep a tile's refined coding only where it has the lower
rate-distortion cost in real bytes and decoded pixels, so no level is ever worse than level 0.

The step counts and the default were chosen from measurements (docs/results/effort.md): the
default must encode a 768x512 photo in about 3 s on 2 CPU cores, which only level 0 does.
"""

from __future__ import annotations

#: Refinement steps per effort level.
EFFORT_STEPS: tuple[int, ...] = (0, 3, 10, 25)
EFFORT_MAX = len(EFFORT_STEPS) - 1
DEFAULT_EFFORT = 0


def check_effort(effort: object) -> int:
    """The effort as an int in 0 … EFFORT_MAX, or ValueError naming the allowed range."""
    if isinstance(effort, bool) or not isinstance(effort, int) or not 0 <= effort <= EFFORT_MAX:
        raise ValueError(f"effort must be a whole number from 0 to {EFFORT_MAX}, got {effort!r}")
    return effort


def refine_steps_for(effort: int | None, refine_steps: int | None) -> int:
    """Steps to spend: an explicit ``refine_steps`` (the expert knob) or the effort level's."""
    if refine_steps is not None:
        if effort is not None:
            raise ValueError("give either an effort level or refine_steps, not both")
        if isinstance(refine_steps, bool) or not isinstance(refine_steps, int) or refine_steps < 0:
            raise ValueError(f"refine_steps must be a whole number 0 or more, got {refine_steps!r}")
        return refine_steps
    return EFFORT_STEPS[check_effort(DEFAULT_EFFORT if effort is None else effort)]


def describe_steps(refine_steps: int) -> str:
    """How results coded with ``refine_steps`` are labelled: by effort level where one matches."""
    if refine_steps in EFFORT_STEPS:
        level = EFFORT_STEPS.index(refine_steps)
        return f"effort {level}" + (f" ({refine_steps} refinement steps)" if refine_steps else " (plain)")
    return f"{refine_steps} refinement steps"
