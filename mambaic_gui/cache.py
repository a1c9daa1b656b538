"""Remember the last result for each (document, quality, effort) so revisiting a setting is
instant."""

from __future__ import annotations

from collections import OrderedDict

from mambaic.codec.effort import DEFAULT_EFFORT
from mambaic_gui.document import CodecResult

#: Decoded images dominate; 1 GiB holds ~30 results for a 12-megapixel photo.
DEFAULT_BUDGET_BYTES = 1 << 30


def quality_key(quality: float) -> int:
    """Qualities equal to two decimals (the slider's resolution) share one cache entry."""
    return round(quality * 100)


class ResultCache:
    """Least-recently-used cache of `CodecResult`s bounded by their memory footprint.

    Results are keyed by their own effort: an opened `.mic` file's (effort None, not known) is
    never taken for an encode at any level."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._budget = budget_bytes
        self._entries: OrderedDict[tuple[int, int, int | None], CodecResult] = OrderedDict()
        self._bytes = 0

    def get(self, token: int, quality: float,
            effort: int | None = DEFAULT_EFFORT) -> CodecResult | None:
        key = (token, quality_key(quality), effort)
        result = self._entries.get(key)
        if result is not None:
            self._entries.move_to_end(key)
        return result

    def put(self, token: int, quality: float, result: CodecResult) -> None:
        key = (token, quality_key(quality), result.effort)
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.nbytes
        self._entries[key] = result
        self._bytes += result.nbytes
        while self._bytes > self._budget and len(self._entries) > 1:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.nbytes

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
