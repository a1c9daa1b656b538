"""Structure-aware fuzzing of real files: field mutations with both CRCs recomputed.

Each mutant is decoded in full with the tiny model (``max_pixels`` keeps a mutated size cheap):
only ``MicFormatError`` (or a subclass) or a successful decode may come out, never another
exception or a hang. ``scripts/fuzz_reader.py`` runs the same loop for longer.
"""

from __future__ import annotations

import signal
import time

import numpy as np
import pytest

from mic_mutants import MUTATIONS, Tally, layout, mutant, seed_files

MUTANTS = 300
SECONDS_PER_DECODE = 20.0


@pytest.fixture(scope="module")
def seeds(weights):
    return seed_files(weights)


def test_layout_walks_the_whole_file(seeds):
    _, files = seeds
    for data in files:
        where = layout(data)
        named = {f.name: int.from_bytes(data[f.offset:f.offset + f.size], "little")
                 for f in where.fields}
        streams = sum(int.from_bytes(data[f.offset:f.offset + 4], "little")
                      for f in where.stream_lengths)
        assert where.table[-1].offset + 4 + 4 == where.header_size
        assert (where.header_size + streams + named["alpha bytes"] + named["metadata bytes"] + 4
                == len(data))


def test_every_mutation_kind_changes_the_file(seeds):
    _, files = seeds
    rng = np.random.default_rng(0)
    for kind, mutate in MUTATIONS.items():
        changed = sum(bytes(mutate(files[0], layout(files[0]), rng)) != files[0] for _ in range(20))
        assert changed >= 10, kind


def _alarm(signum, frame):
    raise TimeoutError("decode hung")


def test_structured_mutants_raise_only_format_errors(seeds):
    decoder, files = seeds
    rng = np.random.default_rng(17)
    tally = Tally()
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for index in range(MUTANTS):
            kinds, data = mutant(files[index % len(files)], rng)
            signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_DECODE)
            start = time.perf_counter()
            tally.record(decoder.decompress, kinds, data)
            signal.setitimer(signal.ITIMER_REAL, 0)
            assert time.perf_counter() - start < SECONDS_PER_DECODE
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert tally.other == []
    assert tally.mutants == MUTANTS and tally.format_errors > MUTANTS // 2 and tally.decoded > 0
