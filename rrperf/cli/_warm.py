"""A warm ``rrperf generate`` answered before the command line is parsed (issue 14).

:func:`answer` recognises ``generate SOURCE --out DIR [--strategy S] [--cache-dir D]`` with
nothing else, for a PostgreSQL URL read directly or a ``schema.rb`` path, and answers it from
the output manifest exactly as the full command's fast path does
(:func:`rrperf.generator.manifest.fast_path`, with the same whole-run key: the source's
fingerprint, the code, the output folder, no filters, and the configuration the command would
load, :func:`~rrperf._config_files.config_inputs`). Whatever it cannot answer, or any
mismatch (an edited ``rrperf.toml``, an edited or deleted output file, a changed catalog),
returns None and the normal command line runs, unchanged.

What it saves is imports: no argparse, logging, configuration, strategy table, scenario
registry or dataclasses (half of a warm command's time before). It imports the standard
library's ``json`` and ``warnings``, CPython's own SHA-256 (not ``hashlib``'s OpenSSL), the
manifest module and, for a database, the driver.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # not typing's: typing is not imported on this path
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["MANIFEST_STRATEGIES", "answer", "summary_line"]

#: The strategies that keep an output manifest
#: (:attr:`rrperf.engine.strategies.Strategy.keeps_manifest`; a test keeps them equal), the
#: first being the default (:data:`~rrperf.engine.strategies.DEFAULT_STRATEGY`).
MANIFEST_STRATEGIES: tuple[str, ...] = ("auto", "sequential", "parallel", "cache_heavy", "balanced")
_DEFAULT_CACHE_DIR = ".rrperf/cache"  # rrperf.engine.strategies.DEFAULT_CACHE_DIR (tested)
_OPTIONS = {"--out": "out", "--strategy": "strategy", "--cache-dir": "cache_dir"}
# URL schemes read directly by a driver (rrperf.schema.pgcatalog.DIRECT_DRIVERS)
_DIRECT_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg")


def summary_line(
    label: str, n_tables: int, files_total: int, files_written: int, files_unchanged: int,
    wall_s: float, out: str, digest: str,
) -> str:
    """The line ``rrperf generate`` prints for a run (not a dry run)."""
    if files_written == 0:
        change = f"no changes: all {files_total} files unchanged"
    else:
        change = f"{files_written} written, {files_unchanged} unchanged"
    return (f"{label}: {n_tables} tables, {files_total} files ({change}) "
            f"in {wall_s:.3f} s -> {out}  digest {digest[:12]}")


def _parse(words: Sequence[str]) -> dict[str, str] | None:
    """``{"source", "out", "strategy"?, "cache_dir"?}`` of a plain ``generate`` command line,
    or None for anything else (another command, another option, a repeated one...)."""
    if len(words) < 4 or words[0] != "generate":
        return None
    found: dict[str, str] = {}
    rest = iter(words[1:])
    for word in rest:
        if not word.startswith("-"):
            if "source" in found:
                return None
            found["source"] = word
            continue
        name, eq, value = word.partition("=")
        key = _OPTIONS.get(name)
        if key is None or key in found:
            return None
        if not eq:
            value = next(rest, "")
        if not value or value.startswith("-"):
            return None
        found[key] = value
    return found if "source" in found and "out" in found else None


def _source_kind(source: str) -> bool:
    """Whether ``source`` is a source the whole-run key fingerprints cheaply and the command
    line passes on as typed: a PostgreSQL URL, or an existing file given by a path."""
    if "://" in source:
        return source.partition("://")[0] in _DIRECT_SCHEMES
    return (
        ("/" in source or os.sep in source)
        and not source.startswith(("~", "synthetic"))
        and os.path.isfile(source)
    )


def _cache_dir(given: str | None, candidates: list[tuple[str, bytes]]) -> str | None:
    """The cache folder the command would use (``--cache-dir``, else ``RRPERF_CACHE_DIR``,
    else the configuration file's ``[cache] dir``, else the default), or None when the
    configuration file cannot be read here."""
    if given is not None:
        return given
    env = os.environ.get("RRPERF_CACHE_DIR")
    if env is not None:
        return env
    for path, data in candidates:  # the file the search takes: rrperf.toml, or a pyproject
        rrperf_toml = os.path.basename(path) == "rrperf.toml"  # with [tool.rrperf]
        if not rrperf_toml and b"rrperf" not in data and b"\\" not in data:
            continue  # no [tool.rrperf] can be spelled without either
        import tomllib

        try:
            document = tomllib.loads(data.decode())
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        if not rrperf_toml:
            tool = document.get("tool")
            if not isinstance(tool, dict) or "rrperf" not in tool:
                continue
            document = tool["rrperf"]
        cache = document.get("cache", {}) if isinstance(document, dict) else None
        value = cache.get("dir", _DEFAULT_CACHE_DIR) if isinstance(cache, dict) else None
        return value if isinstance(value, str) else None
    return _DEFAULT_CACHE_DIR


def answer(words: Sequence[str]) -> int | None:
    """Answer the command line ``words`` (``sys.argv[1:]``) from the output manifest: print
    what ``rrperf generate`` prints and return 0; None when it cannot (the caller then runs
    the full command line)."""
    called = time.perf_counter()
    parsed = _parse(words)
    if parsed is None:
        return None
    strategy = parsed.get("strategy", MANIFEST_STRATEGIES[0])
    source = parsed["source"]
    if strategy not in MANIFEST_STRATEGIES or not _source_kind(source):
        return None
    from rrperf import _config_files
    from rrperf.generator import manifest as mf

    try:
        cwd = os.getcwd()
        start = os.path.realpath(cwd)
        candidates = _config_files.config_candidates(start)
        cache_dir = _cache_dir(parsed.get("cache_dir"), candidates)
        if cache_dir is None:
            return None
        # as Path(cache_dir).expanduser().absolute() / "state" (state_dir_for)
        state_dir = os.path.join(cwd, os.path.expanduser(cache_dir), "state")
        real_out = os.path.realpath(parsed["out"])
        recorded = mf.load_manifest(state_dir, real_out)
        if recorded is None or recorded.result is None or any(
            module != "rrperf.errors" for _, module, _ in recorded.result.get("warnings", ())
        ):  # another library's warning would be shown with this module's line: the CLI's
            return None
        found = mf.fast_path(
            state_dir, source, real_out, impl="pipeline", tables=None, exclude_tables=None,
            manifests={real_out: recorded},
            config=mf.inputs_token(_config_files.config_inputs(start, os.environ, candidates)),
        )
    except Exception:  # noqa: BLE001 - the full command line reports whatever it is
        return None
    if found is None:
        return None
    n_files = len(found.files)
    sys.stdout.write(summary_line(
        f"pipeline/{strategy}", found.n_tables, n_files, 0, n_files,
        time.perf_counter() - called, parsed["out"], found.output_digest,
    ) + "\n")
    return 0
