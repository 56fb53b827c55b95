"""The warnings and errors of one measured run, in a form that travels between processes
(a module at the bottom, so that :mod:`rrperf.bench.runner` and :mod:`rrperf.bench.metrics`,
whose Valgrind children record the same way, need not import each other)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rrperf.errors import BenchmarkError, RrperfWarning


@dataclass(frozen=True)
class Caught:
    """One recorded warning, in a form that pickles (isolated workers send them back)."""

    category: type[Warning]
    message: str
    filename: str
    lineno: int


@contextmanager
def recording() -> Iterator[list[warnings.WarningMessage]]:
    """Record the warnings raised inside the block instead of showing them.

    RrperfWarnings are recorded every time (``always``), so the counts are right even when
    the caller ignores or escalates them: the caller's filters apply when they are emitted
    again after the run. Other warnings keep the caller's filters.
    """
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always", RrperfWarning)
        yield log


def caught(log: Iterable[warnings.WarningMessage]) -> tuple[Caught, ...]:
    """The recorded warnings as :class:`Caught` records."""
    return tuple(Caught(w.category, str(w.message), w.filename, w.lineno) for w in log)


def describe_error(err: BaseException) -> str:
    """A failed run's error as its results' ``error`` cell."""
    # BenchmarkError messages are written for this column ("exit 1: ..."); others get their type.
    if type(err) is BenchmarkError:
        return str(err)
    return f"{type(err).__name__}: {err}"
