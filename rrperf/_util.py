"""Small helpers every layer shares: usable CPUs, did-you-mean hints, the number check and the
lazy exports of the package ``__init__`` files (standard library only, cheap to import)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping

TYPE_CHECKING = False  # not typing's: a warm command imports no typing (rrperf.cli._warm)
if TYPE_CHECKING:
    from hashlib import sha256 as sha256
    from typing import Any
else:
    try:  # CPython's own SHA-256 (3.12+: _sha2): the same digests as hashlib's, without
        from _sha2 import sha256  # noqa: F401  (OpenSSL's start-up, ~3 ms of a warm command)
    except ImportError:
        try:
            from _sha256 import sha256  # noqa: F401
        except ImportError:
            from hashlib import sha256  # noqa: F401


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask on Linux, else every CPU), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``known``, or ``""``."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def is_number(value: Any) -> bool:
    """An int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def lazy_exports(
    package: str, modules: Mapping[str, Iterable[str]], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose names (``modules``: defining module
    -> the names it defines) are imported on first attribute access (PEP 562)."""
    namespace = sys.modules[package].__dict__
    listed = set(public)
    names = {name: module for module, defined in modules.items() for name in defined}

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | listed)

    return __getattr__, __dir__
