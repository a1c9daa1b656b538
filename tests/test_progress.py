"""`mambaic.progress`: nested scales land on one parent scale, carry their context into the text,
and poll cancellation once per unfinished step."""

from __future__ import annotations

import pytest

from mambaic.errors import Cancelled
from mambaic.progress import ProgressEvent, ProgressScale


def test_nested_scales_map_onto_the_outermost_one_with_their_context():
    seen: list[ProgressEvent] = []
    labelled = ProgressScale(seen.append, 1000, start=500, width=500, label="decoding q 3.00")
    tile = ProgressScale(labelled, 2 * 7, start=7, width=7, tile=2, tiles=2)  # the second of 2 tiles
    model = ProgressScale(tile, 7)
    model.report(1, "analysis")
    slices = model.span(1, 5, variant="plain")
    for k in range(1, 6):
        slices(ProgressEvent(k, 5, "slice", k, 5))
    model.report(7, "synthesis")
    assert [e.done for e in seen] == [786, 821, 857, 893, 929, 964, 1000]
    assert {e.total for e in seen} == {1000}
    assert seen[0].text == "decoding q 3.00: tile 2/2: analysis"
    assert seen[3].text == "decoding q 3.00: tile 2/2: plain slice 3/5"
    assert (seen[3].stage, seen[3].index, seen[3].tile, seen[3].labels) == ("slice", 3, 2, ("decoding q 3.00",))


def test_a_single_tile_is_not_named():
    assert ProgressEvent(1, 2, "slice", 1, 5, tile=1, tiles=1).text == "slice 1/5"


def test_a_pass_through_scale_adds_only_its_label():
    seen: list[ProgressEvent] = []
    outer = ProgressScale(seen.append, label="try 2/8")
    ProgressScale(outer, label="inner")(ProgressEvent(3, 9, "hyper"))
    assert (seen[0].done, seen[0].total, seen[0].text) == (3, 9, "try 2/8: inner: hyper")
    with pytest.raises(ValueError):
        outer.span(0, 1)


def test_cancel_is_polled_after_each_unfinished_step_only():
    polls: list[int] = []

    def never() -> bool:
        polls.append(1)
        return False

    scale = ProgressScale(None, 3, cancel=never)
    for done in (1, 2, 3):
        scale.report(done, "step")
    assert len(polls) == 2  # not after the last step: the work is done

    scale = ProgressScale(None, 3, cancel=lambda: True)
    with pytest.raises(Cancelled):
        scale.span(0, 2)(ProgressEvent(1, 2, "slice", 1, 2))  # a sub-task's step polls the owner
