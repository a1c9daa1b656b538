"""Long run of the structure-aware ``.mic`` fuzzer (tests/test_fuzz_structured.py runs 300).

    OMP_NUM_THREADS=1 .venv/bin/python scripts/fuzz_reader.py --mutants 20000 [--seed 0] [--timeout 10]

Makes real files with a fresh ``tiny`` random-weight model, mutates header fields, the stream
table, the text fields, the metadata and the payload, recomputes both CRCs, and decodes every
mutant in full. Prints the counts as a Markdown table; exits 1 if any decode raised something
other than ``MicFormatError`` or took longer than --timeout seconds (a hang is a finding too; each
such mutant is saved under --keep for replay). The timeout uses SIGALRM, so it needs a Unix.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from mic_mutants import Tally, mutant, seed_files  # noqa: E402
from mic_testing import make_tiny_weights  # noqa: E402


class DecodeHang(Exception):
    """Raised by the alarm inside a decode that ran past the per-mutant time limit."""


def _hang(signum: int, frame: object) -> None:
    raise DecodeHang("the decode ran past the time limit")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=Path("fuzz-findings"),
                        help="folder for mutants that raised something else (default %(default)s)")
    parser.add_argument("--timeout", type=int, default=10,
                        help="seconds one decode may take before it counts as a hang (default %(default)s)")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _hang)

    with tempfile.TemporaryDirectory() as folder:
        decoder, files = seed_files(make_tiny_weights(Path(folder) / "tiny.safetensors"))
    rng = np.random.default_rng(args.seed)
    tally, kinds_seen = Tally(), Counter()
    start = time.perf_counter()
    for index in range(args.mutants):
        kinds, data = mutant(files[index % len(files)], rng)
        kinds_seen.update(kinds.split("+"))
        before = len(tally.other)
        signal.alarm(args.timeout)
        try:
            tally.record(decoder.decompress, kinds, data)
        finally:
            signal.alarm(0)
        if len(tally.other) > before:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / f"mutant-{args.seed}-{index}.mic").write_bytes(data)
            print(tally.other[-1], file=sys.stderr)
    seconds = time.perf_counter() - start

    print("| mutants | format errors | successful decodes | other | seconds |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {tally.mutants} | {tally.format_errors} | {tally.decoded} | {len(tally.other)} "
          f"| {seconds:.0f} |")
    print("\nmutations applied: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds_seen.items())))
    return 1 if tally.other else 0


if __name__ == "__main__":
    raise SystemExit(main())
