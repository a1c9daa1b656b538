"""``mambaic`` entry point: builds the subcommand parser and turns failures into exit codes.

Adding a subcommand: create ``mambaic/cli/<name>.py`` defining ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``, keep its top-level imports light (import
torch inside ``run``), and add ``<name>`` to :data:`SUBCOMMANDS`. The module docstring becomes the
subcommand's ``--help`` description; every subcommand gets ``--debug`` automatically. Only the
subcommand being run has ``add_arguments`` called, so one command's option setup never slows
the others (or ``mambaic --help``) down.

Exit codes: 0 success, 1 some input failed (one ``mambaic: error: …`` line each on stderr),
2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from mambaic import __version__
from mambaic.cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    UsageError,
    report_error,
)
from mambaic.text import printable

SUBCOMMANDS: tuple[str, ...] = ("encode", "decode", "info", "eval", "bench", "train", "models", "demo")
"""Registration point: module names under ``mambaic.cli``, in the order ``--help`` lists them."""

_EPILOG = """examples:
  mambaic encode photo.png                 # writes photo.mic next to it (quality 3)
  mambaic encode -q 5 shots/ -o coded/     # every image in shots/, into coded/
  mambaic decode photo.mic -o back.png
  mambaic info photo.mic                   # header, per-slice bytes, bpp
run 'mambaic COMMAND --help' for the options of each command."""


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The full parser; ``selected`` is the subcommand whose options are needed (None: all)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show full tracebacks instead of one-line errors")
    parser = argparse.ArgumentParser(
        prog="mambaic", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG,
        description="MambaIC learned image codec: compress images to .mic files and back.")
    parser.add_argument("--version", action="version", version=f"mambaic {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"mambaic.cli.{name}")
        sub = commands.add_parser(name, help=module.HELP, description=module.__doc__,
                                  parents=[common],
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        if selected in (None, name):
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = next((arg for arg in argv if not arg.startswith("-")), "")
    parser = build_parser(selected)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return _flushed(args.run(args))
    except UsageError as exc:
        print(printable(f"mambaic: error: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mambaic: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # failures outside any one input (e.g. loading weights)
        report_error(None, exc, args.debug)
        return EXIT_FAILURE


def _flushed(code: int) -> int:
    """Flush stdout before returning, so a failed write (a full disk, a closed pipe) is one error
    line and exit status 1, not a traceback and status 120 from Python's own flush at exit."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        report_error("standard output", exc, False)
        with contextlib.suppress(OSError, ValueError):  # what is still buffered goes nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return max(code, EXIT_FAILURE)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
