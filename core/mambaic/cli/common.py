"""What every subcommand shares: input expansion, output naming, error lines, progress bars.

Errors: a user error (our own exception types, file-system errors) becomes one line
``mambaic: error: <path>: <message>`` on stderr and the batch goes on; anything else is a bug and
says so, with the traceback behind ``--debug``. Every line quoting a path, an argument or file
content goes through :func:`mambaic.text.printable`: a crafted name or header cannot drive the
terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mambaic.atomic import OutputExistsError, atomic_write, check_target
from mambaic.codec.effort import DEFAULT_EFFORT, EFFORT_MAX, EFFORT_STEPS, refine_steps_for
from mambaic.codec.limits import MAX_FILE_BYTES
from mambaic.errors import MambaICError, MicFormatError
from mambaic.progress import ProgressEvent
from mambaic.text import printable

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """The command line itself is wrong (beyond what argparse checks): exit status 2."""


# ---- errors ---------------------------------------------------------------------------------

def report_error(path: Path | str | None, exc: BaseException, debug: bool) -> None:
    """Print one line for ``exc`` (and its traceback when ``debug``), clear of progress bars."""
    from tqdm import tqdm

    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    where = f"{path}: " if path is not None else ""
    with contextlib.suppress(OSError):  # a closed stderr must not stop the batch either
        tqdm.write(printable(f"mambaic: error: {where}{describe(exc, debug, path)}"),
                   file=sys.stderr)


def report_warning(path: Path | str, message: str) -> None:
    """One ``mambaic: warning: <path>: <message>`` line on stderr; the work goes on."""
    from tqdm import tqdm

    with contextlib.suppress(OSError):
        tqdm.write(printable(f"mambaic: warning: {path}: {message}"), file=sys.stderr)


def describe(exc: BaseException, debug: bool = False, path: Path | str | None = None) -> str:
    """A one-line, user-facing description of ``exc`` (naming its file unless that is ``path``)."""
    if isinstance(exc, MambaICError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        other_file = exc.filename is not None and str(exc.filename) != str(path)
        return exc.strerror + (f" ({exc.filename})" if other_file else "")
    if isinstance(exc, OSError):
        return str(exc)
    hint = "" if debug else " (run with --debug for the traceback)"
    return f"internal error: {type(exc).__name__}: {exc}{hint}"


# ---- inputs and outputs ---------------------------------------------------------------------

def has_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def expand_inputs(patterns: Iterable[str], suffixes: frozenset[str], recursive: bool
                  ) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files named, in folders, or matched by globs (for shells that do not expand them).

    Files named explicitly are kept whatever their suffix (the reader decides); files found in
    folders or by globs must have one of ``suffixes``. Returns (files, [(pattern, problem)]).
    """
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found = _matching(path.rglob("*") if recursive else path.iterdir(), suffixes)
            if not found:
                problems.append((pattern, "folder contains no matching files"))
        elif not path.exists() and has_glob(pattern):
            found = _matching(map(Path, glob.glob(pattern, recursive=True)), suffixes)
            if not found:
                problems.append((pattern, "no matching files"))
        else:
            found = [path]
        files.extend(found)
    return list(dict.fromkeys(files)), problems


def _matching(paths: Iterable[Path], suffixes: frozenset[str]) -> list[Path]:
    return sorted(p for p in paths if p.is_file() and p.suffix.lower() in suffixes)


def image_suffixes() -> frozenset[str]:
    """Extensions of every image format Pillow can open here."""
    from PIL import Image

    Image.init()
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)


STDOUT = "-"
"""``-o -``: the one output goes to standard output (name a file ``./-`` to get one called -)."""


def is_stdout(target: Path | str | None) -> bool:
    """``-o -``, or a path naming the file standard output already is (``/dev/stdout``,
    ``/dev/fd/1``): written as standard output, so even as root it is never replaced."""
    if target is None:
        return False
    if str(target) == STDOUT:
        return True
    try:
        return os.path.samestat(os.stat(target), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError):  # no such path; stdout is no file (capture)
        return False


def wants_folder(output: str | None, batch: bool) -> bool:
    """``-o`` names a folder when there are several inputs, it is one, or it ends in a slash."""
    return output is not None and (batch or Path(output).is_dir() or output.endswith(("/", os.sep)))


def output_path(source: Path, output: str | None, suffix: str, batch: bool) -> Path:
    """Where ``source``'s result goes: next to it, into folder ``output``, to file ``output``,
    or to standard output (``-``, or a path that is standard output, such as ``/dev/stdout``)."""
    if output is None:
        return source.with_suffix(suffix)
    if is_stdout(output):
        return Path(output)
    if wants_folder(output, batch):
        return Path(output) / (source.stem + suffix)
    return Path(output)


def prepare_output_dir(output: str | None, batch: bool) -> None:
    """Create the ``-o`` folder; refuse ``-o FILE`` (or ``-o -``) for several inputs, and binary
    data on a terminal (usage errors, exit 2)."""
    if is_stdout(output):
        if batch:
            raise UsageError("-o - (standard output) takes exactly one input")
        if sys.stdout.isatty():
            raise UsageError("-o -: standard output is a terminal; redirect it to a file or a pipe")
        return
    if not wants_folder(output, batch):
        return
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: -o must be a folder when there are several inputs")
    folder.mkdir(parents=True, exist_ok=True)


def claim_output(planned: dict[Path, Path], source: Path, target: Path, force: bool) -> None:
    """Refuse before any work: outputs that are an input, exist, are no regular file (links,
    folders; FIFOs and devices are written through), or clash within the batch."""
    if is_stdout(target):
        return
    key = target.resolve()
    if key == source.resolve():
        raise OutputExistsError(f"{target}: refusing to overwrite the input file")
    if key in planned:
        raise OutputExistsError(f"{target}: also the output of {planned[key]} in this batch")
    check_target(target, force)
    planned[key] = source


def write_output(target: Path, data: bytes, force: bool, source: Path) -> None:
    """Standard output for ``-o -``, else the atomic writer (which never replaces ``source``)."""
    if is_stdout(target):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        atomic_write(target, data, overwrite=force, protect=[source])


def read_mic(path: Path) -> bytes:
    """Read a ``.mic`` file, refusing oversized files before reading them into memory."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise MicFormatError(f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")
    return path.read_bytes()


# ---- shared options -------------------------------------------------------------------------

def step_count(text: str) -> int:
    """argparse type: a number of steps, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def add_effort_options(parser: argparse.ArgumentParser, refine_help: str) -> None:
    """``--effort E`` (the product knob) or ``--refine STEPS`` (the expert one), not both."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--effort", type=int, choices=range(EFFORT_MAX + 1), metavar="E",
                       help=f"encoder effort 0-{EFFORT_MAX}: higher spends more encode time for "
                            f"smaller files at the same quality, never larger ones; refinement "
                            f"steps per level {', '.join(map(str, EFFORT_STEPS))} "
                            f"(default {DEFAULT_EFFORT})")
    group.add_argument("--refine", type=step_count, metavar="STEPS", help=refine_help)


def effort_steps(args: argparse.Namespace) -> int:
    """The refinement steps chosen by ``--effort`` or ``--refine``."""
    return refine_steps_for(args.effort, args.refine)


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", metavar="PATH", type=Path,
                        help="weights file (.safetensors); default: the shipped weights, "
                             "or $MAMBAIC_WEIGHTS")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where the model runs (default: cpu)")


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--force", action="store_true",
                        help="overwrite existing outputs (inputs are never overwritten; a "
                             "symbolic link is refused, never replaced: name the file it points "
                             "to; FIFOs and devices such as /dev/null are written to, not "
                             "replaced)")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="look for files in sub-folders of folder inputs too")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


# ---- progress -------------------------------------------------------------------------------

class Progress:
    """A files bar for batches and a stage bar for the current file, on stderr when it is a tty."""

    def __init__(self, files: int, enabled: bool, to_stdout: bool = False) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._out = sys.stderr if to_stdout else sys.stdout
        self.output_error: OSError | None = None
        self._enabled = enabled and sys.stderr.isatty()
        self._files = tqdm(total=files, unit="file", file=sys.stderr, position=0,
                           disable=not self._enabled or files < 2, dynamic_ncols=True)

    def write(self, line: str) -> None:
        """Print a result line without breaking the bars: on stdout, or on stderr when stdout
        carries the output itself (``-o -``). A failed write (a full disk, a closed pipe) must
        not stop the batch: it is reported once, and the batch then exits 1."""
        try:
            self._tqdm.write(printable(line), file=self._out)
        except OSError as exc:
            if self.output_error is None:
                report_error("standard output", exc, False)
            self.output_error = exc

    @contextmanager
    def file(self, name: str) -> Iterator[Callable[[ProgressEvent], None]]:
        """A codec ``progress(event)`` callback for one file, as a stage bar."""
        bar = self._tqdm(total=1, desc=name, file=sys.stderr, leave=False, unit="step",
                         position=1 if self._files.total > 1 else 0,
                         disable=not self._enabled, dynamic_ncols=True)

        def update(event: ProgressEvent) -> None:
            bar.total = event.total
            bar.n = event.done
            bar.set_postfix_str(event.text, refresh=True)

        try:
            yield update
        finally:
            bar.close()
            self._files.update(1)

    def close(self) -> None:
        self._files.close()


def gather_batch(args: argparse.Namespace, suffixes: frozenset[str]) -> tuple[list[Path], bool]:
    """Expand the inputs and prepare the output folder before any model is loaded.

    Returns the files and whether some pattern failed (each already reported on stderr), so a
    batch with nothing to do fails fast without paying for the weights.
    """
    files, problems = expand_inputs(args.inputs, suffixes, args.recursive)
    for pattern, problem in problems:
        report_error(pattern, FileNotFoundError(problem), args.debug)
    if files:
        prepare_output_dir(args.output, len(files) > 1)
    return files, bool(problems)


def run_batch(files: list[Path], args: argparse.Namespace, suffix: str, failed: bool,
              code_one: Callable[[Path, Path, Callable], tuple[bytes, str]]) -> int:
    """Code every file to its output, one error line per failure, the batch carrying on.

    ``code_one(source, target, update)`` returns the output bytes and the summary line; writing
    is atomic, never replaces an input, and replaces an existing output only with --force.
    """
    batch = len(files) > 1
    planned: dict[Path, Path] = {}
    progress = Progress(len(files), not args.quiet, to_stdout=is_stdout(args.output))
    try:
        for source in files:
            target = output_path(source, args.output, suffix, batch)
            try:
                claim_output(planned, source, target, args.force)
                with progress.file(source.name) as update:
                    data, summary = code_one(source, target, update)
                write_output(target, data, args.force, source)
            except Exception as exc:  # one bad input must not stop the batch
                report_error(source, exc, args.debug)
                failed = True
                continue
            progress.write(f"{source} → {target}  {summary}")
    finally:
        progress.close()
    return EXIT_FAILURE if failed or progress.output_error else EXIT_OK
