"""The result cache: one entry per (document, quality to two decimals), bounded by memory."""

from __future__ import annotations

import numpy as np

from mambaic_gui.cache import ResultCache
from mambaic_gui.document import CodecResult
from mambaic_gui.pixels import build_pyramid


def _result(quality: float, side: int = 10, effort: int | None = 0) -> CodecResult:
    decoded = np.zeros((side, side, 3), np.uint8)
    return CodecResult(quality=quality, mic=b"x" * 100, info=None,  # type: ignore[arg-type]
                       decoded=decoded, decoded_view=build_pyramid(decoded), decode_seconds=0.0,
                       device="cpu", effort=effort)


def test_same_setting_hits_and_documents_are_separate():
    cache = ResultCache()
    first = _result(2.5)
    cache.put(1, 2.5, first)
    assert cache.get(1, 2.501) is first  # the slider's resolution is 0.01
    assert cache.get(1, 2.51) is None
    assert cache.get(2, 2.5) is None


def test_least_recently_used_results_are_evicted_by_size():
    entry = _result(1.0).nbytes
    cache = ResultCache(budget_bytes=3 * entry)
    for q in (1.0, 2.0, 3.0):
        cache.put(1, q, _result(q))
    cache.get(1, 1.0)  # now the most recently used
    cache.put(1, 4.0, _result(4.0))
    assert cache.get(1, 2.0) is None
    assert all(cache.get(1, q) is not None for q in (1.0, 3.0, 4.0))


def test_effort_levels_are_separate_and_an_opened_file_is_no_level():
    cache = ResultCache()
    plain, refined, opened = _result(2.5), _result(2.5, effort=2), _result(3.0, effort=None)
    for result in (plain, refined, opened):
        cache.put(1, result.quality, result)
    assert cache.get(1, 2.5) is plain and cache.get(1, 2.5, 0) is plain
    assert cache.get(1, 2.5, 2) is refined and cache.get(1, 2.5, 1) is None
    assert cache.get(1, 3.0) is None  # its effort is not known: never taken for effort 0
    assert cache.get(1, 3.0, None) is opened
