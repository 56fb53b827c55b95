"""The output manifest and the whole-run key: a warm repeat in a new process costs a stat per file.

As ``make``, ``ninja`` and git's index do, a run records for each file it wrote or verified
the sha256 of its content and its ``stat`` (size, ``mtime_ns``, ``ctime_ns``, inode)
(:class:`OutputManifest`). The manifest is kept per output folder in the execution context's
``state_dir`` (``<cache dir>/state``), together with the **run key** of the run that wrote it
(:func:`run_key`) and a summary of its result.

The run key hashes everything a run's output depends on: the schema source's content
fingerprint (:func:`rrperf.schema.sources.source_fingerprint`: the file's sha256, a
synthetic scenario's parameters, a PostgreSQL catalog's fingerprint), the bytes of every
module of :mod:`rrperf.generator` and :mod:`rrperf.schema` and of every template and runtime
file, the package version, the output folder (its real path) and the table filters.
:func:`fast_path` checks it before anything
is parsed or rendered: when the key is the recorded one and every recorded file still has its
recorded ``stat``, nothing can have changed, and the run is answered from the manifest. Any
mismatch (a changed schema, template or generator, an edited, replaced or deleted file, an
unreadable manifest) falls back to the full run. A PostgreSQL URL read directly costs one
catalog query here (:func:`rrperf.schema.database.catalog_fingerprint`); another database URL
or a :class:`~rrperf.schema.model.Schema` object has no cheap fingerprint: those always run
in full.

Like git's "racily clean" entries, a file whose ``mtime`` is not clearly older than the time
its manifest was recorded (file-system timestamps are coarser than the clock) is verified by
content (read and hashed) before it is trusted; the fast path then records the manifest
again, so the next repeat is stat-only. A file a run wrote within that margin of its
recording is recorded without its ``stat`` (it would be racy): the next fast path verifies it
by content and records its ``stat`` then, and a small cold run saves a ``stat`` per file.
This module imports only the standard library (and a PostgreSQL driver for a database
source): the fast path runs before the parser, Jinja2 or the engine are imported.
"""

from __future__ import annotations

import functools
import json
import os
import time
import warnings

TYPE_CHECKING = False  # not typing's: the warm command (rrperf.cli._warm) never imports typing
if TYPE_CHECKING:
    import logging
    from collections.abc import Iterable, Sequence
    from hashlib import sha256
    from pathlib import Path
    from typing import Any
else:
    from rrperf._util import sha256

__all__ = [
    "MANIFEST_FORMAT",
    "OutputManifest",
    "code_state",
    "config_token",
    "inputs_token",
    "options_token",
    "fast_path",
    "load_manifest",
    "manifest_file",
    "run_key",
    "save_manifest",
]


def _logger() -> logging.Logger:
    import logging  # only to report a problem: the warm command imports no logging

    return logging.getLogger(__name__)


#: Bump when the layout of the manifest file or of the run key changes.
MANIFEST_FORMAT = "output-manifest-2"
# How much older than the manifest's recording a file's mtime must be for its stat to be
# trusted (file-system timestamps lag the clock by up to a timer tick; 2 s covers file systems
# with coarse timestamps, recognised by whole-millisecond mtimes).
RACY_NS = 50_000_000
RACY_COARSE_NS = 2_000_000_000

Entry = tuple[str, int, int, int, int]  # sha256, size, mtime_ns, ctime_ns, inode (-1: no stat)


def _racy(mtime_ns: int, recorded_ns: int) -> bool:
    margin = RACY_COARSE_NS if mtime_ns % 1_000_000 == 0 else RACY_NS
    return mtime_ns >= recorded_ns - margin


class OutputManifest:
    """``rel -> (sha256, size, mtime_ns, ctime_ns, inode)``, when it was recorded, and the run.

    Attributes
    ----------
    entries : dict
        The recorded files.
    recorded_ns : int
        Wall-clock ns (comparable with file mtimes) when the manifest was recorded.
    run_key : str or None
        :func:`run_key` of the run that recorded it (None: no whole-run fast path).
    result : dict or None
        ``n_tables``, ``output_digest`` and ``warnings`` of that run.
    dirty : bool
        Changed since it was loaded or saved.
    fresh : list
        The files :meth:`wrote` recorded since the last :meth:`settle`.
    on_disk : bool
        Loaded from or saved to its file (else :func:`save_manifest` creates the file).
    """

    # a plain class: a dataclass costs ~1 ms to create, and the fast path imports this module
    __slots__ = ("entries", "recorded_ns", "run_key", "result", "dirty", "fresh", "on_disk")

    def __init__(
        self,
        entries: dict[str, Entry],
        recorded_ns: int,
        run_key: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        self.entries = entries
        self.recorded_ns = recorded_ns
        self.run_key = run_key
        self.result = result
        self.dirty = False
        self.fresh: list[tuple[str, int]] = []  # (rel, when) of wrote()
        self.on_disk = False

    def trusted(self, rel: str, sha: str, real_out: str) -> bool:
        """True if the file ``rel`` of the folder ``real_out`` is known to hold content
        ``sha`` without reading it."""
        entry = self.entries.get(rel)
        if entry is None or entry[0] != sha:
            return False
        try:
            st = os.stat(real_out + os.sep + rel)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) != entry[1:]:
            return False
        return not _racy(st.st_mtime_ns, self.recorded_ns)

    def wrote(self, rels: Sequence[str], shas: dict[str, str]) -> None:
        """Record the files ``rels`` just written with contents ``shas[rel]``, without their
        ``stat`` (taken by :meth:`settle` if they turn out older than the racy margin)."""
        now = time.time_ns()
        self.entries.update((rel, (shas[rel], -1, -1, -1, -1)) for rel in rels)
        self.fresh += ((rel, now) for rel in rels)
        self.dirty = True

    def settle(self, recorded_ns: int, real_out: str) -> None:
        """Stat the files :meth:`wrote` recorded before ``recorded_ns``'s racy margin; the
        younger keep none (a fast path verifies them by content, then records it)."""
        for rel, written_ns in self.fresh:
            if written_ns < recorded_ns - RACY_NS and rel in self.entries:
                self.record(rel, self.entries[rel][0], real_out + os.sep + rel)
        self.fresh.clear()

    def record(self, rel: str, sha: str, target: str) -> None:
        """Record the current ``stat`` of ``target`` as holding content ``sha``."""
        try:
            st = os.stat(target)
        except OSError:
            self.entries.pop(rel, None)
        else:
            self.entries[rel] = (sha, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        self.dirty = True


@functools.lru_cache(maxsize=64)  # looked up and saved by every run
def manifest_file(state_dir: str | Path, real_out: str) -> str:
    """Where the manifest of the output folder ``real_out`` (a real path) is kept."""
    digest = sha256(real_out.encode()).hexdigest()[:24]
    return os.path.join(state_dir, f"manifest-{digest}.json")


def load_manifest(state_dir: str | Path, real_out: str) -> OutputManifest | None:
    """The manifest saved for ``real_out``, or None (missing, unreadable or another format)."""
    path = manifest_file(state_dir, real_out)
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
        if data.get("format") != MANIFEST_FORMAT or data.get("out_dir") != real_out:
            return None
        manifest = OutputManifest(
            {k: tuple(v) for k, v in data["entries"].items()},
            int(data["recorded_ns"]),
            data.get("run_key"),
            data.get("result"),
        )
        manifest.on_disk = True
        return manifest
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        # An unreadable manifest only costs reading the files once more.
        _logger().debug("ignoring the unreadable manifest %s: %s", path, err)
        return None


def save_manifest(
    state_dir: str | Path, real_out: str, manifest: OutputManifest
) -> None:
    """Write the manifest (a warning, not an error, if it cannot be written).

    A manifest that was not on the disk is written straight into a new file (``O_EXCL``: a
    file that exists is never overwritten in place); one that was is replaced atomically. A
    reader that finds the new file half-written, or a crash that leaves it so, only costs a
    full run: a truncated manifest is not valid JSON, and an unreadable one is ignored (and
    replaced atomically by the next run). It saves a cold run the temporary file and the
    rename (issue 10: a cold run of a small schema writes 14 files, then this one).
    """
    path = manifest_file(state_dir, real_out)
    data = json.dumps({"format": MANIFEST_FORMAT, "out_dir": real_out,
                       "recorded_ns": manifest.recorded_ns, "run_key": manifest.run_key,
                       "result": manifest.result, "entries": manifest.entries},
                      separators=(",", ":")).encode()
    try:
        from rrperf import atomic

        if manifest.on_disk or not atomic.create_bytes(path, data, folder_mode=0o700):
            try:
                atomic.write_bytes(path, data)
            except FileNotFoundError:  # no state folder yet (a cleared context has none)
                atomic.make_folder(os.path.dirname(path), 0o700)
                atomic.write_bytes(path, data)
    except OSError as err:
        _logger().warning("could not save the output manifest %s: %s", path, err)
    else:
        manifest.on_disk = True
    manifest.dirty = False


# --- the whole-run key --------------------------------------------------------------------------


@functools.cache
def code_state() -> str:
    """A fingerprint of every file that shapes the output.

    Every ``.py`` file of :mod:`rrperf.generator` and :mod:`rrperf.schema` (the parser and the
    association inference shape the output as much as the templates do), every template and
    every runtime file, each by name, size and ``mtime_ns`` (as CPython validates a ``.pyc``
    against its source): an edited or reinstalled file changes it (a new version installed
    rewrites them; the version itself shapes no output, and reading it from the package
    metadata would cost a warm command ~10-50 ms). Computed once per process.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    schema = os.path.join(os.path.dirname(here), "schema")
    parts = [MANIFEST_FORMAT]
    for folder, only_py in (
        (here, True),
        (os.path.join(here, "templates"), False),
        (os.path.join(here, "runtime"), False),
        (schema, True),
    ):
        try:
            with os.scandir(folder) as it:
                found = sorted((e.name, e) for e in it if e.is_file())
        except OSError:
            continue
        for name, entry in found:
            if name.startswith(".") or (only_py and not name.endswith(".py")):
                continue
            st = entry.stat()
            parts.append(f"{os.path.basename(folder)}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return sha256("\0".join(parts).encode()).hexdigest()


def _sha256_of(path: str) -> str | None:
    try:
        with open(path, "rb", buffering=0) as f:
            return sha256(f.readall()).hexdigest()
    except OSError:
        return None


def _cheap_source_fingerprint(source: Any) -> str | None:
    """The source's content fingerprint when it is cheap to get (not a Schema, nor a database
    other than PostgreSQL read directly: those would be read in full).

    Equal to :func:`rrperf.schema.sources.source_fingerprint` (a file's sha256, a PostgreSQL
    catalog's one-query fingerprint); a path to a file (a path object, or a string with a
    folder separator or a dot, which no scenario name has) is hashed here without importing
    the scenario registry.
    """
    if not isinstance(source, str | os.PathLike):
        return None
    text = os.fspath(source)
    if "://" in text:
        from rrperf.schema.pgcatalog import direct_driver, fingerprint

        driver = direct_driver(text)
        if driver is None:
            return None
        try:
            return fingerprint(text, driver)
        except Exception:  # noqa: BLE001 - the full run reports an unreachable database
            return None
    if (not isinstance(source, str) or os.sep in text or "." in text) and not text.startswith(
        "synthetic"
    ):
        from rrperf.schema.memo import run_memo

        memo = run_memo()  # a run that parsed the file: the digest of the bytes it parsed
        digest = None if memo is None else memo.get(os.path.abspath(text))
        if digest is None:
            digest = _sha256_of(text)  # None for a folder (a Rails app) or a missing file
        if digest is not None:
            return digest
    from rrperf.schema.sources import source_fingerprint

    try:
        return source_fingerprint(source)
    except Exception:  # noqa: BLE001 - the full run reports a bad source properly
        return None


def run_key(
    source: Any,
    real_out: str,
    *,
    impl: str,
    tables: Sequence[str] | None,
    exclude_tables: Sequence[str] | None,
    config: str = "",
) -> str | None:
    """The whole-run key of a generator run, or None when the source has no cheap fingerprint.

    Parameters
    ----------
    source : Any
        The schema source (a path, scenario name, ``synthetic:N`` or PostgreSQL URL; None is
        returned for another database URL or a Schema object).
    real_out : str
        The output folder's real path.
    impl : str
        The generator implementation.
    tables, exclude_tables : sequence of str or None
        The table filters.
    config : str
        What of the project configuration shapes the output (:func:`config_token`).
    """
    fingerprint = _cheap_source_fingerprint(source)
    if fingerprint is None:
        return None
    parts = json.dumps([MANIFEST_FORMAT, code_state(), fingerprint, real_out, impl,
                        None if tables is None else list(tables),
                        None if exclude_tables is None else list(exclude_tables), config])
    return sha256(parts.encode()).hexdigest()


def warning_records(caught: Iterable[warnings.WarningMessage]) -> list[list[str]]:
    """``[message, category module, category name]`` of each warning (JSON-ready)."""
    return [[str(w.message), w.category.__module__, w.category.__qualname__] for w in caught]


def config_token(config: Any) -> str:
    """The part of an :class:`~rrperf.config.RrperfConfig` that shapes the generated files
    (``exclude_tables`` and ``polymorphic_types``) as a string; ``""`` for None."""
    if config is None:
        return ""
    return json.dumps(
        [list(config.exclude_tables),
         {k: list(v) for k, v in sorted(config.polymorphic_types.items())}],
        sort_keys=True,
    )


def inputs_token(inputs: str) -> str:
    """The configuration's part of the run key when it was found by the search
    (:func:`rrperf._config_files.config_inputs`)."""
    return "config-inputs:" + inputs


def options_token(config: Any, runtime: bool = True) -> str:
    """What of the options shapes the generated files, for the run key: the configuration's
    part and whether the runtime declaration is written.

    The configuration's part is :func:`inputs_token` for a configuration
    :func:`rrperf.config.load_config` found by its search (``config.inputs``, what it read),
    else :func:`config_token` (what of its values shapes the output).
    """
    inputs = getattr(config, "inputs", None)
    token = config_token(config) if inputs is None else inputs_token(inputs)
    return token + ("" if runtime else "\0no-runtime")


def result_summary(
    n_tables: int, output_digest: str, caught: Iterable[warnings.WarningMessage]
) -> dict[str, Any]:
    """What :func:`fast_path` needs to answer for a run: counts, digest and its warnings."""
    return {"n_tables": n_tables, "output_digest": output_digest,
            "warnings": warning_records(caught)}


def warning_category(module: str, qualname: str) -> type[Warning]:
    """The warning class a :func:`warning_records` entry names (``UserWarning`` if gone)."""
    import importlib

    try:
        value = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError):
        return UserWarning
    return value if isinstance(value, type) and issubclass(value, Warning) else UserWarning


class FastAnswer(tuple[tuple[str, ...], int, str]):
    """What :func:`fast_path` found: ``(files, n_tables, output_digest)``, every file unchanged."""

    __slots__ = ()

    @property
    def files(self) -> tuple[str, ...]:
        return self[0]

    @property
    def n_tables(self) -> int:
        return self[1]

    @property
    def output_digest(self) -> str:
        return self[2]


def fast_path(
    state_dir: str | Path,
    source: Any,
    real_out: str,
    *,
    impl: str,
    tables: Sequence[str] | None,
    exclude_tables: Sequence[str] | None,
    manifests: dict[str, OutputManifest] | None = None,
    config: str = "",
) -> FastAnswer | None:
    """Answer a run from the manifest if nothing it depends on changed, else None.

    Checks, before anything is parsed or rendered: the run key against the one recorded,
    then the ``stat`` of every recorded file (a racily clean file is read and hashed). The
    warnings the recorded run issued are issued again. ``real_out`` is the output folder's
    real path (``os.path.realpath``). ``manifests``: the manifests an execution context keeps
    in memory by output folder (looked up first; the one loaded from ``state_dir``, or an
    empty one, is added).
    """
    manifest = manifests.get(real_out) if manifests is not None else None
    if manifest is None:
        manifest = load_manifest(state_dir, real_out) or OutputManifest({}, 0)
        if manifests is not None:  # the run that follows records into it (none: a new one)
            manifests[real_out] = manifest
    if manifest.run_key is None or manifest.result is None:
        return None
    key = run_key(source, real_out, impl=impl, tables=tables, exclude_tables=exclude_tables,
                  config=config)
    if key is None or key != manifest.run_key:
        return None
    checked_ns = time.time_ns()
    recorded_ns = manifest.recorded_ns
    racy: list[tuple[str, os.stat_result | None]] = []
    stat = os.stat
    prefix = real_out + os.sep
    entries = manifest.entries
    for rel, (_sha, size, mtime, ctime, ino) in entries.items():
        try:
            st = stat(prefix + rel)
        except OSError:
            return None
        if size < 0:  # recorded without its stat (OutputManifest.wrote): verify, then stat
            racy.append((rel, st))
        elif (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) != (size, mtime, ctime, ino):
            return None
        elif _racy(mtime, recorded_ns):
            racy.append((rel, None))
    for rel, unstated in racy:  # stat'ed before reading: a later change shows in the stat
        try:
            with open(prefix + rel, "rb") as f:
                data = f.read()
        except OSError:
            return None
        sha = entries[rel][0]
        if sha256(data).hexdigest() != sha:
            return None
        if unstated is not None:
            entries[rel] = (sha, unstated.st_size, unstated.st_mtime_ns, unstated.st_ctime_ns,
                            unstated.st_ino)
    if racy:  # verified now: recorded again, so that the next repeat is stat-only
        manifest.recorded_ns = checked_ns
        save_manifest(state_dir, real_out, manifest)
    result = manifest.result
    for message, module, qualname in result.get("warnings", ()):
        warnings.warn(message, warning_category(module, qualname), stacklevel=3)
    return FastAnswer(
        (tuple(sorted(manifest.entries)), int(result["n_tables"]), str(result["output_digest"]))
    )
