"""The ``rrperf`` command line: parse, call the library, print.

Exit codes: 0 success; 1 an :class:`~rrperf.errors.RrperfError` (a one-line message on stderr,
no traceback); 2 a usage error (argparse); 130 interrupted. ``bench --fail-on-regression`` uses 1
for a variant shown slower and 3 for an inconclusive answer (:mod:`rrperf.bench.gate`).
Any other exception is a bug and shows its traceback.

A warm ``generate`` is answered before argparse, logging or the subcommand's module is
imported (:mod:`rrperf.cli._warm`); any other command line goes through the parser.
"""

from __future__ import annotations

import gc
import os
import sys
import warnings

from rrperf.cli._warm import answer
from rrperf.errors import RrperfError, RrperfWarning

TYPE_CHECKING = False  # not typing's: a warm command does not import typing
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType
    from typing import NoReturn

__all__ = ["command", "main"]

# Subcommand name -> module exposing add_parser(subparsers) and run(args) -> int.
# Modules are imported only when listed here, each keeps its own heavy imports inside run().
_COMMANDS: tuple[str, ...] = (
    "generate",
    "scenarios",
    "bench",
    "analyze",
    "history",
    "export",
    "report",
    "demo",
)


def _command_modules(names: Sequence[str] = _COMMANDS) -> list[ModuleType]:
    import importlib

    return [importlib.import_module(f"rrperf.cli.{name}_cmd") for name in names]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of ``command`` alone when it is one: what running it
    needs (importing and building the seven others is ~10 % of a warm ``generate``)."""
    import argparse

    class _Version(argparse.Action):
        """``--version``: imports :mod:`rrperf._version` only when asked."""

        def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
            from rrperf._version import __version__

            print(f"rrperf {__version__}")
            parser.exit()

    parser = argparse.ArgumentParser(
        prog="rrperf",
        description="Measure, speed up and prove the performance of the ReactiveRecord generator.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-v info, -vv debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in _command_modules((command,) if command in _COMMANDS else _COMMANDS):
        mod.add_parser(sub)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first word that is not an option (the options before
    a subcommand take no value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    if issubclass(category, RrperfWarning):
        return f"warning: {message}\n"
    return warnings.formatwarning(message, category, filename, lineno, line)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    previous = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        warm = answer(words)  # a warm ``generate`` answered from its output manifest
        if warm is not None:
            return warm
        return _run(words)
    except RrperfError as err:
        print(f"rrperf: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rrperf: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`rrperf ... | head`): not an error of ours. Point stdout at
        # devnull so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        warnings.formatwarning = previous


def command() -> NoReturn:
    """The ``rrperf`` command (and ``python -m rrperf``): :func:`main`, then exit the process.

    ``rrperf generate`` runs with the cyclic garbage collector off from its first line and
    ends without the interpreter's teardown (:func:`_exit_now`): what a run builds has no
    reference cycles (a test checks a whole run), what starting the command allocates stays
    alive until its end, and the operating system takes back the memory at once. A cold
    2,000-table ``generate`` so ends ~15 ms sooner, 2026-12-02: ~6 ms of collections while
    importing and after the run, ~9 ms of freeing every object on the way out.

    For the other commands, what a run leaves alive when :func:`main` returns (modules, memos,
    a large schema's objects) is left out of the interpreter's final collection
    (``gc.freeze``), which would otherwise traverse all of it on the way out (~18 ms after a
    cold 2,000-table run). Objects kept alive only by reference cycles are then not finalized
    at exit; every file and cache of rrperf is closed before :func:`main` returns, and
    ``atexit`` handlers run as usual.
    """
    quick = _command_in(sys.argv[1:]) == "generate"
    if quick:
        gc.disable()
    code = main()
    if quick:
        _exit_now(code)
    gc.freeze()
    raise SystemExit(code)


def _exit_now(code: int) -> None:
    """End the process with ``code`` after the ``atexit`` handlers and flushing standard
    output and error, without tearing the interpreter down (``os._exit``); return (for a
    normal exit) when a thread that is not a daemon is still running, which the interpreter
    would wait for."""
    threading = sys.modules.get("threading")  # not imported: no other Python thread
    if threading is not None and any(
        t.is_alive() and not t.daemon and t is not threading.main_thread()
        for t in threading.enumerate()
    ):
        return
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a reader that left, a closed stream: nothing to lose
            pass
    os._exit(code)


def _run(words: list[str]) -> int:
    import logging

    args = build_parser(_command_in(words)).parse_args(words)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return int(args.run(args))
