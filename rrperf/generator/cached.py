"""The generator run by a strategy: content-keyed caches, a process pool for the misses, and an
output manifest so that a warm run writes nothing without reading every file.

:func:`run_with_context` is the staged generator (``impl="pipeline"``, every strategy; see
:mod:`rrperf.generator.pipeline`), run with the resources of an
:class:`~rrperf.engine.strategies.ExecutionContext`::

    source ─► schema_introspection cache ─► analysis (memoized per content) ─► per-table keys
          ─► template_render cache lookups (in this process)
                 hits ─────────────────────────────────────────┐
                 misses ─► render here (type_mapping and       ├─► write-if-changed,
                           relationships caches), or in batches │   manifest fast path
                           on the pool: render AND write there ─┘   (index.ts rendered here)

Design notes
------------
* **Keys are content fingerprints**, computed once per table and run (or taken from the
  analysis memo): a table's render key hashes everything its three files depend on: the
  table itself (columns, primary key, indexes, comment; not its line number), its model and
  file names, its associations, for every table they point at whether it is generated and
  its model name, the enum types its columns use, the bytes of every template, the bytes of
  the generator modules that shape the output (:func:`code_fingerprint`) and the generator
  version. A changed schema, template or generator is never served stale.
* **Schema introspection** is keyed by :func:`~rrperf.schema.sources.source_fingerprint`
  (the file's sha256) and the source text; its disk tier stores
  :meth:`Schema.to_dict <rrperf.schema.model.Schema.to_dict>` JSON, so a new process with the
  same cache folder does not parse an unchanged ``schema.rb`` again.
* **The analysis** (model names, association groups, render keys) is memoized in the context
  per source fingerprint and table filter; the warnings it issued are replayed on a memo hit.
* **Forked workers** (a process strategy whose pool is not running: every ``rrperf
  generate``): once the analysis is done, the batches of misses are shared by this process
  and ``workers - 1`` processes forked from it
  (:func:`~rrperf.engine.parallel.fork_map`). They inherit the analysis (copy-on-write), so
  nothing is packed or pickled for them; each renders, writes and ``stat``-s its batches
  and sends back their rendered files (for the output digest) and ``stat``-s (for the
  manifest) as each batch is done. This process renders ``index.ts`` first, then takes
  batches too; the schema's cache store runs in a process forked as soon as the schema is
  loaded (:func:`~rrperf.engine.parallel.fork_call`), while this one analyses.
* **Process pools** (one started with ``executor.start_pool()``, as ``rrperf bench``'s
  speedup measurements do) get only the misses, in a few batches per worker. Each batch carries a
  slice of the analysis (its tables and the tables they point at), renders and writes its own
  files, and sends back the rendered files (stored in this process's caches) and what it wrote.
  Every path is checked (:class:`~rrperf.generator.writer.PathGuard`) before anything is
  written.
* **Output manifest** (an incremental-build technique, as ``make``, ``ninja`` and git's index
  keep one; :mod:`rrperf.generator.manifest`): a file whose new content has the recorded
  sha256 and whose ``stat`` still matches is known unchanged without being read, and
  :func:`rrperf.generator.api.generate` answers a repeat whose run key and files are unchanged
  before parsing anything. It lives in :attr:`ExecutionContext.state` and its ``state_dir``
  (strategies with ``manifest`` or a ``template_render`` cache); ``clear()`` forgets it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import logging
import os
import pickle
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf import atomic
from rrperf.errors import ConfigError, GenerationError, RrperfError, StageError
from rrperf.generator.analyze import (
    Property,
    Relationship,
    RelationshipsResult,
    SchemaContext,
    TypesResult,
    analyze_schema,
    table_defaults,
    table_polymorphic,
    table_relationships,
    table_types,
)
from rrperf.generator.digest import shas_digest
from rrperf.generator.manifest import (
    OutputManifest,
    config_token,
    fast_path,
    load_manifest,
    options_token,
    result_summary,
    run_key,
    save_manifest,
    warning_category,
    warning_records,
)
from rrperf.generator.render import render_index, render_table
from rrperf.generator.result import GenerationResult
from rrperf.generator.runtime_file import runtime_files
from rrperf.generator.writer import PathGuard, prime_listings, write_if_changed
from rrperf.schema.model import Schema

if TYPE_CHECKING:
    from rrperf.config import RrperfConfig
    from rrperf.engine.cache import CacheOptimizer, JSONText
    from rrperf.engine.strategies import ExecutionContext

__all__ = [
    "BatchOutcome",
    "code_fingerprint",
    "SCHEMA_FORMAT",
    "decode_schema",
    "encode_schema",
    "encode_schema_text",
    "guided_sizes",
    "key_base",
    "pack_context",
    "plan_batches",
    "REMOTE_RENDER_BACKENDS",
    "render_write_batch",
    "run_with_context",
    "schema_cache_key",
    "stage_name",
    "table_keys",
    "templates_fingerprint",
    "unpack_context",
    "write_rendered",
]

logger = logging.getLogger(__name__)

#: A rendered file: relative path, text, sha256 hex of its UTF-8 bytes.
RenderedFile = tuple[str, str, str]

#: Executor backends whose workers render only (this process writes: issue 13).
REMOTE_RENDER_BACKENDS: tuple[str, ...] = ("dask",)
# Bump when the layout of cached values or of the keys below changes.
_FORMAT = "cached-generator-1"
# Modules whose code shapes the generated text (their bytes are part of every render key).
_CODE_MODULES = ("analyze.py", "naming.py", "render.py", "typemap.py", "cached.py")
# Memoized analyses kept per context (one per source and table filter).
_PLANS_KEPT = 8
# Files written per write_if_changed call by a run in this thread.
_WRITE_CHUNK_FILES = 384
#: Tables (to render) below which a running pool is not worth its dispatch cost: they are
#: rendered in the calling thread (:func:`plan_batches`).
POOL_MIN_TABLES = 16
#: The same when no pool is running (a new process): the run forks its workers
#: (:func:`_run_forked`) from this many tables, where forked workers stopped losing in new
#: processes on 2 cores (``benchmarks/bench_fresh.py crossover --pool-from 0``; the figures
#: are in README, "Fresh processes"). Below it, the serial part of a run leaves too little
#: to share.
POOL_START_MIN_TABLES = 250
# Guided batches when the strategy does not fix a batch size (see plan_batches).
_GUIDED_SHARE = 2
_GUIDED_MIN = 24
# The clock a manifest is recorded with (wall-clock ns, comparable with file mtimes).
_now_ns = time.time_ns

_PLANS = "generator.plans"
_MANIFESTS = "generator.manifests"


# --- fingerprints -------------------------------------------------------------------------------


@functools.cache
def code_fingerprint() -> str:
    """sha256 over the generator modules that shape the output (read once per process)."""
    h = hashlib.sha256(_FORMAT.encode())
    here = Path(__file__).parent
    for name in _CODE_MODULES:
        h.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    return h.hexdigest()


def templates_fingerprint() -> str:
    """sha256 over the name and bytes of every template file (read at every call).

    Raises
    ------
    GenerationError
        If the template folder cannot be read.
    """
    from rrperf.generator.render import _TEMPLATES

    folder = Path(_TEMPLATES)
    h = hashlib.sha256()
    try:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError as err:
        raise GenerationError(f"cannot read the templates in {folder}: {err}") from err
    return h.hexdigest()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class _TableKeys:
    """The fingerprints of one table: its render key and the parts sub-keys are built from."""

    render: str
    table: str  # the table's own content, names and enums
    links: str  # its associations and what they point at


def _pack_table(
    ctx: SchemaContext, name: str, packer: _Packer
) -> tuple[tuple[Any, ...], tuple[str, ...], tuple[tuple[str, bool, str | None], ...]]:
    """Table ``name`` packed (:meth:`_Packer.entry`), the other tables it points at, and
    ``(table, generated?, model)`` of every association end (what its render key covers)."""
    info = ctx.tables[name]
    entry = packer.entry(name, info)
    selected = ctx.selected_set
    pointed: list[tuple[str, bool, str | None]] = []
    others: dict[str, None] = {}
    for group in (info.belongs_to, info.polymorphic, info.has_many, info.has_one, info.through):
        for assoc in group:
            for other in (assoc.target, assoc.through):
                if other is not None:
                    other_info = ctx.tables.get(other)
                    pointed.append(
                        (other, other in selected, other_info.model if other_info else None)
                    )
                    if other != name:
                        others[other] = None
    return entry, tuple(others), tuple(pointed)


def _keys_of(
    ctx: SchemaContext,
    name: str,
    base: str,
    packer: _Packer,
    entry: tuple[Any, ...],
    pointed: tuple[tuple[str, bool, str | None], ...],
) -> _TableKeys:
    """The content keys of a table packed by :func:`_pack_table`.

    The fingerprints hash the ``repr`` of the packed entry (tuples of plain values, so the
    ``repr`` runs at C speed; the dataclass ``repr`` it replaces took 0.1 s for 2,000
    tables), each shared column's ``repr`` made once.
    """
    _, model, kebab, (_, columns, pk, idx, cks, comment, _line), groups = entry
    enums = []
    for col in ctx.tables[name].table.columns:
        if col.enum_type is not None:
            enum = ctx.enum_schema.enum(col.enum_type)
            enums.append((col.enum_type, enum.values if enum is not None else None))
    own = f"{repr((name, model, kebab, pk, idx, cks, comment, enums))}\0" + "\0".join(
        map(packer.column_repr, columns)
    )
    links = repr((model, groups, list(pointed)))
    table_fp = hashlib.sha256(own.encode()).hexdigest()
    links_fp = hashlib.sha256(links.encode()).hexdigest()
    render = hashlib.sha256(f"{base}\0render\0{table_fp}\0{links_fp}".encode()).hexdigest()
    return _TableKeys(render, table_fp, links_fp)


def table_keys(ctx: SchemaContext, name: str, base: str) -> _TableKeys:
    """The content keys of one table as a run computes them (``base``: :func:`key_base`),
    packed with a new packer (nothing shared with an earlier call)."""
    return _table_keys(ctx, name, base, _Packer())


def _table_keys(ctx: SchemaContext, name: str, base: str, packer: _Packer) -> _TableKeys:
    """Pack table ``name`` and make its keys (what the plan does per table, in one call)."""
    entry, _, pointed = _pack_table(ctx, name, packer)
    return _keys_of(ctx, name, base, packer, entry, pointed)


class _LazyKeys(Mapping[str, _TableKeys]):
    """The keys of a plan's tables, each made on first use.

    A cold run with an empty render cache sends its tables to the workers unhashed and makes
    the keys while they render (to store what comes back); a warm run makes them all for its
    lookups, once per memoized plan.
    """

    def __init__(
        self,
        ctx: SchemaContext,
        base: str,
        packer: _Packer,
        packed: Mapping[str, tuple[Any, ...]],
        pointed: Mapping[str, tuple[tuple[str, bool, str | None], ...]],
    ) -> None:
        self._args = (ctx, base, packer)
        self._packed = packed
        self._pointed = pointed
        self._made: dict[str, _TableKeys] = {}

    def __getitem__(self, name: str) -> _TableKeys:
        keys = self._made.get(name)
        if keys is None:
            ctx, base, packer = self._args
            keys = _keys_of(ctx, name, base, packer, self._packed[name], self._pointed[name])
            self._made[name] = keys
        return keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)


# --- cached values: encoding for the disk tier --------------------------------------------------


def _encode_rendered(files: Sequence[RenderedFile]) -> list[list[str]]:
    return [list(f) for f in files]


def _decode_rendered(data: Any) -> tuple[RenderedFile, ...]:
    return tuple((str(r), str(t), str(s)) for r, t, s in data)


def _encode_types(value: TypesResult) -> list[Any]:
    return [
        value.model,
        [[p.key, p.type, p.optional, p.comment] for p in value.properties],
        list(value.omit),
    ]


def _decode_types(data: Any) -> TypesResult:
    model, props, omit = data
    return TypesResult(
        model, tuple(Property(k, t, bool(o), c) for k, t, o, c in props), tuple(omit)
    )


def _encode_relationships(value: RelationshipsResult) -> list[Any]:
    return [
        [r.key, r.kind, r.model, r.foreign_key, r.through, r.source, r.as_name]
        for r in value.relationships
    ]


def _decode_relationships(data: Any) -> RelationshipsResult:
    return RelationshipsResult(tuple(Relationship(*row) for row in data))


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        import dataclasses

        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


#: The layout of :func:`encode_schema` (part of the schema cache key).
SCHEMA_FORMAT = "schema-columns-1"


def encode_schema(
    schema: Schema, packer: _Packer | None = None, pause: Callable[[], None] | None = None
) -> dict[str, Any]:
    """``schema`` as compact JSON data for the disk tier; :func:`decode_schema` reads it back.

    Field values in positional lists, and each distinct column once: tables list the
    positions of their columns in ``columns``. For a 2,000-table synthetic schema this is
    1.4 MB of JSON instead of the 6.5 MB of :meth:`Schema.to_dict`, stored in ~50 ms
    instead of ~0.4 s, and read back 5x faster (2026-11-26). ``packer``: the one that packed
    the analysis of this schema, if any (its columns are not packed again); ``pause``:
    called every :data:`_PAUSE_EVERY` tables (see :func:`encode_schema_text`).
    """
    packer = _Packer() if packer is None else packer
    _, _, association, index, check = packer._getters
    foreign_key = _foreign_key_getter()
    positions: dict[int, int] = {}  # id(shared column tuple) -> its position in ``columns``
    column_at: dict[int, int] = {}  # id(Column) -> the same position
    columns: list[tuple[Any, ...]] = []

    def position(col: Any) -> int:
        at = column_at.get(id(col))
        if at is None:
            packed = packer.column(col)
            at = positions.get(id(packed))
            if at is None:
                at = positions[id(packed)] = len(columns)
                columns.append(packed)
            column_at[id(col)] = at
        return at

    tables = []
    for i, t in enumerate(schema.tables):
        if pause is not None and i % _PAUSE_EVERY == _PAUSE_EVERY - 1:
            pause()
        tables.append(
            (t.name, [position(c) for c in t.columns], t.primary_key,
             list(map(index, t.indexes)), list(map(check, t.check_constraints)), t.comment,
             t.line)
        )
    return {
        "format": SCHEMA_FORMAT,
        "columns": columns,
        "tables": tables,
        "foreign_keys": list(map(foreign_key, schema.foreign_keys)),
        "enums": [(e.name, e.values) for e in schema.enums],
        "associations": list(map(association, schema.associations)),
        "version": schema.version,
        "source": schema.source,
    }


def encode_schema_text(
    schema: Schema,
    packer: _Packer | None = None,
    pause: Callable[[], None] | None = None,
    warned: list[list[str]] | None = None,
) -> JSONText:
    """The JSON text of :func:`encode_schema`, encoded one table (column, ...) at a time.

    The same text as ``json.dumps(encode_schema(schema), separators=(",", ":"))``, made by
    many short calls of the JSON encoder rather than one long one, with ``pause()`` between
    runs of :data:`_PAUSE_EVERY` items. A store in a background thread passes
    :func:`_yield_gil`: the threads that feed a process pool then get the GIL within a
    fraction of a millisecond rather than the interpreter's 5 ms switch interval (the store
    running beside the pool delayed a worker's next batch by 80-113 ms; without it, 16-25
    ms; 2026-11-26). ``warned``: the warnings loading the schema issued (``[message,
    category module, category name]``), stored under ``"warnings"`` so that a cache hit
    issues them again.
    """
    from rrperf.engine.cache import JSONText

    data = encode_schema(schema, packer, pause)
    if warned is not None:
        data["warnings"] = warned
    dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    parts = []
    for name, value in data.items():
        if isinstance(value, list):
            pieces = []
            for start in range(0, len(value), _PAUSE_EVERY):
                if pause is not None:
                    pause()
                pieces.append(",".join(map(dumps, value[start : start + _PAUSE_EVERY])))
            text = "[" + ",".join(pieces) + "]"
        else:
            text = dumps(value)
        parts.append(f"{dumps(name)}:{text}")
    return JSONText("{" + ",".join(parts) + "}")


#: Items between two ``pause()`` calls of :func:`encode_schema_text` (~0.5 ms of work).
_PAUSE_EVERY = 64


def _yield_gil() -> None:
    """Let any thread waiting for the GIL run now (``sleep(0)`` releases and re-takes it)."""
    time.sleep(0)


def decode_schema(data: Any) -> Schema:
    """Inverse of :func:`encode_schema` after a JSON round trip (lists back to tuples).

    Raises
    ------
    ValueError
        If ``data`` is not in the :data:`SCHEMA_FORMAT` layout.
    """
    from rrperf.schema.model import (
        Association,
        CheckConstraint,
        Column,
        Default,
        EnumType,
        ForeignKey,
        Index,
        Table,
    )

    if not isinstance(data, dict) or data.get("format") != SCHEMA_FORMAT:
        raise ValueError(f"not a {SCHEMA_FORMAT!r} schema")
    col_fields = _field_names(Column)
    default_at = col_fields.index("default")
    enum_values_at = col_fields.index("enum_values")
    index_columns_at = _field_names(Index).index("columns")
    types_at = _field_names(Association).index("polymorphic_types")
    columns = []
    for values in data["columns"]:
        values = list(values)
        if values[default_at] is not None:
            values[default_at] = Default(*values[default_at])
        values[enum_values_at] = tuple(values[enum_values_at])
        columns.append(Column(*values))

    def index(values: list[Any]) -> Index:
        values = list(values)
        values[index_columns_at] = tuple(values[index_columns_at])
        return Index(*values)

    def association(values: list[Any]) -> Association:
        values = list(values)
        values[types_at] = tuple(values[types_at])
        return Association(*values)

    return Schema(
        tables=tuple(
            Table(name, tuple(columns[i] for i in cols), tuple(pk), tuple(map(index, idx)),
                  tuple(CheckConstraint(*c) for c in cks), comment, line)
            for name, cols, pk, idx, cks, comment, line in data["tables"]
        ),
        foreign_keys=tuple(ForeignKey(*fk) for fk in data["foreign_keys"]),
        enums=tuple(EnumType(name, tuple(values)) for name, values in data["enums"]),
        associations=tuple(map(association, data["associations"])),
        version=data["version"],
        source=data["source"],
    )


@functools.cache
def _foreign_key_getter() -> Any:
    import operator

    from rrperf.schema.model import ForeignKey

    return operator.attrgetter(*_field_names(ForeignKey))


# --- the analysis plan --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    ctx: SchemaContext
    keys: Mapping[str, _TableKeys]
    base: str
    warned: tuple[tuple[str, type[Warning]], ...]
    packed: Mapping[str, tuple[Any, ...]]  # selected table -> its pack_context entry
    others: Mapping[str, tuple[str, ...]]  # selected table -> the other tables it points at
    packer: _Packer  # what packed them (encode_schema reuses its packed columns)


def _make_plan(
    schema: Schema,
    tables: tuple[str, ...] | None,
    exclude_tables: tuple[str, ...] | None,
    base: str | None,
    pack: Callable[[int], bool] | None = None,
) -> _Plan:
    """The analysis; packed (for keys and pool batches) unless ``pack(n_selected)`` is False.

    ``base`` (the key prefix) is None when nothing is packed.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ctx = analyze_schema(schema, tables=tables, exclude_tables=exclude_tables)
    warned = tuple((str(w.message), w.category) for w in caught)
    packer = _Packer()
    packed: dict[str, tuple[Any, ...]] = {}
    others: dict[str, tuple[str, ...]] = {}
    pointed: dict[str, Any] = {}
    if pack is None or pack(len(ctx.selected)):
        if base is None:
            base = key_base()
        for name in ctx.selected:
            packed[name], others[name], pointed[name] = _pack_table(ctx, name, packer)
    keys = _LazyKeys(ctx, base or "", packer, packed, pointed)
    return _Plan(ctx, keys, base or "", warned, packed, others, packer)


def _replay(warned: Iterable[tuple[str, type[Warning]]]) -> None:
    for message, category in warned:
        warnings.warn(message, category, stacklevel=4)


# --- per-table work -----------------------------------------------------------------------------


def stage_name(kind: str, table: str) -> str:
    """The name of the ``kind`` step of ``table`` in errors (``"types:users"``).

    A table literally called ``index`` gives ``"<kind>:index (table)"``, so that it is not
    mistaken for the ``index.ts`` step.
    """
    return f"{kind}:{table} (table)" if table == "index" else f"{kind}:{table}"


def _render_files(
    ctx: SchemaContext,
    name: str,
    types: Callable[[], TypesResult] | None = None,
    rels: Callable[[], RelationshipsResult] | None = None,
) -> tuple[RenderedFile, ...]:
    """Render one table's files (``types``/``rels`` compute its types and relationships,
    through a cache; by default directly).

    Raises
    ------
    StageError
        Naming the step that failed (``"defaults:users"``) for any failure that is not an
        rrperf error; an rrperf error is raised as itself.
    """
    kind = "types"
    try:
        got_types = table_types(ctx, name) if types is None else types()
        kind = "relationships"
        got_rels = table_relationships(ctx, name) if rels is None else rels()
        kind = "defaults"
        defaults = table_defaults(ctx, name)
        kind = "polymorphic"
        polymorphic = table_polymorphic(ctx, name)
        kind = "render"
        rendered = render_table(ctx, name, got_types, got_rels, defaults, polymorphic)
    except RrperfError:
        raise
    except Exception as err:
        raise StageError._during(stage_name(kind, name), err) from err
    return tuple((rel, text, _sha(text)) for rel, text in rendered.items())


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one pool task rendered and wrote (module level, so that it pickles)."""

    rendered: tuple[tuple[str, tuple[RenderedFile, ...]], ...]
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    stats: tuple[tuple[str, int, int, int, int], ...]


def render_write_batch(
    *,
    packed: tuple[Any, ...] | None = None,
    packed_at: tuple[str, int, int] | None = None,
    tables: tuple[str, ...],
    out_dir: str,
    force: bool,
    dry_run: bool,
    with_stats: bool,
    write: bool = True,
) -> BatchOutcome:
    """Render ``tables`` and write their files if changed (the task of a pool worker).

    ``packed`` is :func:`pack_context` of the part of the analysis these tables need, or
    ``packed_at`` = ``(path, offset, length)`` where its pickle lies in a file this process
    family wrote (:func:`_write_packs`). ``write=False`` renders only: a worker of a
    :data:`REMOTE_RENDER_BACKENDS` backend may run on a host whose disk is not the output
    folder's, so this process writes the batch as it arrives (:func:`write_rendered`), while
    the workers render the next ones; the output is byte for byte that of a local run.

    Returns
    -------
    BatchOutcome
        The rendered files per table, the paths written and left unchanged, and (with
        ``with_stats``) ``(rel, size, mtime_ns, ctime_ns, inode)`` of each of them.
    """
    if packed_at is not None:
        path, offset, length = packed_at
        with open(path, "rb") as f:
            f.seek(offset)
            packed = pickle.loads(f.read(length))  # noqa: S301 - our own 0600 file
    assert packed is not None
    return _render_write(unpack_context(packed), tables, out_dir, force=force, dry_run=dry_run,
                         with_stats=with_stats, write=write)


def _render_write(
    ctx: SchemaContext,
    tables: Sequence[str],
    out_dir: str,
    *,
    force: bool,
    dry_run: bool,
    with_stats: bool,
    write: bool = True,
    listings: dict[str, frozenset[str]] | None = None,
) -> BatchOutcome:
    """Render ``tables`` and (with ``write``) write their files: one batch of a pool
    (``listings``: as :func:`~rrperf.generator.writer.write_if_changed` takes them)."""
    rendered = []
    files: dict[str, str] = {}
    for name in tables:
        out = _render_files(ctx, name)
        rendered.append((name, out))
        for rel, text, _ in out:
            files[rel] = text
    if not write:
        return BatchOutcome(tuple(rendered), (), (), ())
    return write_batch_files(
        tuple(rendered), files, out_dir, force=force, dry_run=dry_run, with_stats=with_stats,
        listings=listings,
    )


def write_batch_files(
    rendered: Any,
    files: dict[str, str],
    out_dir: str,
    *,
    force: bool,
    dry_run: bool,
    with_stats: bool,
    listings: dict[str, frozenset[str]] | None = None,
) -> BatchOutcome:
    """Write a batch's ``files`` and return its outcome: the paths written and left unchanged
    and (with ``with_stats``) ``(rel, size, mtime_ns, ctime_ns, inode)`` of each, for the
    output manifest. Used where the batch was rendered: a pool worker, a forked worker (with
    the run's ``listings``), or this process for batches rendered remotely
    (:func:`write_rendered`)."""
    report = write_if_changed(out_dir, files, force=force, dry_run=dry_run, listings=listings)
    stats = []
    if with_stats and not dry_run:
        for rel in (*report.written, *report.unchanged):
            try:
                st = os.stat(os.path.join(out_dir, rel))
            except OSError:
                continue
            stats.append((rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return BatchOutcome(rendered, report.written, report.unchanged, tuple(stats))


def write_rendered(
    outcome: BatchOutcome, out_dir: str, *, force: bool, dry_run: bool, with_stats: bool
) -> BatchOutcome:
    """Write a batch a worker only rendered (``write=False``) here; return it as a pool
    worker would have."""
    files = {rel: text for _, rendered in outcome.rendered for rel, text, _ in rendered}
    return write_batch_files(
        outcome.rendered, files, out_dir, force=force, dry_run=dry_run, with_stats=with_stats
    )


_GROUPS = ("belongs_to", "polymorphic", "has_many", "has_one", "through")


@functools.cache
def _packers() -> tuple[Any, int, Any, Any, Any]:
    """Getters that turn a model object into the tuple of its field values (at C speed).

    Returns ``(column, default_at, association, index, check)``: ``operator.attrgetter`` of
    the fields of Column, the position of ``default`` among them, and the getters of
    Association, Index and CheckConstraint.
    """
    import operator

    from rrperf.schema.model import Association, CheckConstraint, Column, Index

    col_fields = _field_names(Column)
    return (
        operator.attrgetter(*col_fields),
        col_fields.index("default"),
        operator.attrgetter(*_field_names(Association)),
        operator.attrgetter(*_field_names(Index)),
        operator.attrgetter(*_field_names(CheckConstraint)),
    )


class _Packer:
    """Turns the model objects of one analysis into tuples of plain values.

    Equal columns become one shared tuple (most schemas repeat ``id``, ``created_at``,
    ``updated_at`` and the like: 1,232 columns of the Coursemology schema hold 506 distinct
    values), so pickle writes each once per batch and :func:`unpack_context` builds each once.
    """

    __slots__ = ("_by_id", "_by_value", "_getters", "_reprs")

    def __init__(self) -> None:
        self._getters = _packers()
        self._by_value: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._by_id: dict[int, tuple[Any, ...]] = {}  # columns alive as long as the packer
        self._reprs: dict[int, str] = {}  # id(packed column) -> its repr

    def column_repr(self, packed: tuple[Any, ...]) -> str:
        """``repr`` of a packed column, computed once per shared tuple (for the keys)."""
        text = self._reprs.get(id(packed))
        if text is None:
            text = self._reprs[id(packed)] = repr(packed)
        return text

    def column(self, col: Any) -> tuple[Any, ...]:
        packed = self._by_id.get(id(col))
        if packed is not None:
            return packed
        getter, default_at = self._getters[0], self._getters[1]
        values = getter(col)
        d = col.default
        if d is not None:
            values = (*values[:default_at], (d.value, d.function), *values[default_at + 1 :])
        try:
            packed = self._by_value.setdefault(values, values)
        except TypeError:  # an unhashable default (a JSON array or object): not shared
            packed = values
        self._by_id[id(col)] = packed
        return packed

    def entry(self, name: str, info: Any) -> tuple[Any, ...]:
        """``(name, model, kebab, table, association groups)`` of one table."""
        _, _, association, index, check = self._getters
        t = info.table
        return (
            name,
            info.model,
            info.kebab,
            (
                t.name,
                tuple(map(self.column, t.columns)),
                t.primary_key,
                tuple(map(index, t.indexes)),
                tuple(map(check, t.check_constraints)),
                t.comment,
                t.line,
            ),
            (
                tuple(map(association, info.belongs_to)),
                tuple(map(association, info.polymorphic)),
                tuple(map(association, info.has_many)),
                tuple(map(association, info.has_one)),
                tuple(map(association, info.through)),
            ),
        )


def _stub_entry(name: str, info: Any) -> tuple[Any, ...]:
    """The entry of a table a batch only points at: its names, no columns or associations.

    What :func:`_Packer.entry` gives for ``TableInfo(Table(name, ()), model, kebab)``.
    """
    return (name, info.model, info.kebab, (name, (), ("id",), (), (), None, 0),
            ((), (), (), (), ()))


def _packed(
    ctx: SchemaContext, entries: list[tuple[Any, ...]], names: Iterable[str]
) -> tuple[Any, ...]:
    selected = ctx.selected_set
    enums = tuple((e.name, e.values) for e in ctx.enum_schema.enums)
    return (tuple(entries), tuple(n for n in names if n in selected), ctx.version, ctx.source,
            enums)


def pack_context(ctx: SchemaContext) -> tuple[Any, ...]:
    """``ctx`` as nested tuples of plain values, to send to a worker process.

    Frozen dataclasses with ``__slots__`` pickle through Python-level ``__getstate__`` /
    ``__setstate__`` methods, one call per object: 90 ms to pickle the context slice of 250
    tables, and as long again to unpickle it in the worker (2026-11-26), while the worker
    renders the same batch in about 100 ms. Tuples of strings pickle at C speed, equal columns
    are shared (:class:`_Packer`), and the worker rebuilds the objects with
    :func:`unpack_context`.
    """
    packer = _Packer()
    entries = [packer.entry(name, info) for name, info in ctx.tables.items()]
    return _packed(ctx, entries, ctx.tables)


def _pack_batch(plan: _Plan, tables: Sequence[str]) -> tuple[Any, ...]:
    """:func:`pack_context` of the part of the analysis that rendering ``tables`` reads.

    The batch's own tables keep everything (their entries were packed with the plan); a
    table they only point at is sent as a stub (:func:`_stub_entry`): it is read for its
    model name and for whether it is generated.
    """
    ctx = plan.ctx
    entries = [plan.packed[name] for name in tables]
    names = list(tables)
    seen = set(tables)
    for name in tables:
        for other in plan.others[name]:
            if other not in seen and other in ctx.tables:
                seen.add(other)
                names.append(other)
                entries.append(_stub_entry(other, ctx.tables[other]))
    return _packed(ctx, entries, names)


def unpack_context(data: tuple[Any, ...]) -> SchemaContext:
    """Inverse of :func:`pack_context` (a column tuple shared in ``data`` becomes one Column)."""
    from rrperf.generator.analyze import TableInfo
    from rrperf.schema.model import (
        Association,
        CheckConstraint,
        Column,
        Default,
        EnumType,
        Index,
        Table,
    )

    default_at = _field_names(Column).index("default")
    tables_data, selected, version, source, enums = data
    made: dict[int, Column] = {}  # id(column tuple) -> Column; the tuples live in ``data``
    infos = {}
    for name, model, kebab, (tname, cols, pk, idx, cks, comment, line), groups in tables_data:
        columns = []
        for values in cols:
            key = id(values)
            col = made.get(key)
            if col is None:
                dflt = values[default_at]
                if dflt is not None:
                    values = (*values[:default_at], Default(*dflt), *values[default_at + 1 :])
                made[key] = col = Column(*values)
            columns.append(col)
        table = Table(
            tname, tuple(columns), pk, tuple(Index(*i) for i in idx),
            tuple(CheckConstraint(*c) for c in cks), comment, line,
        )
        assoc = [tuple(Association(*a) for a in group) for group in groups]
        infos[name] = TableInfo(table, model, kebab, *assoc)
    return SchemaContext(
        tables=infos,
        selected=selected,
        version=version,
        source=source,
        enum_schema=Schema(tables=(), enums=tuple(EnumType(n, v) for n, v in enums)),
    )


# --- the run ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that builds many acyclic objects.

    A generator run allocates hundreds of thousands of tuples, strings and small objects
    (the analysis, packs, rendered files, the results coming back from the pool), each
    allocation counting towards the next collection, and each collection scanning what is
    young: with the collector, a cold synthetic:2000 run spent 80-95 ms in 75-125
    collections (sequential and parallel alike), loading and analysing alone ~0.17 s of
    ~0.5 s (2026-11-26). Nothing a run builds is cyclic (rendering 300 tables with the
    collector off leaves 0 unreachable objects; a test checks a whole run), so reference
    counting frees it all; a cycle made while paused is collected after.

    The switch is process-wide, so a run pauses it only on the main thread of a process that
    is not an IPython kernel (the CLI, a script, the benchmark runner): a notebook kernel's
    other threads keep running during a cell, and a run on another thread may have
    neighbours; there the collector runs as usual. Under load on 2 cores (2026-12-02) the
    collector took 8-52 ms in 50 collections of a cold coursemology run and 119-188 ms in
    218 collections of a cold synthetic:2000 run (default strategy, 5 runs each).
    """
    if threading.current_thread() is not threading.main_thread() or "ipykernel" in sys.modules:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_MISSING: Any = object()


class _Lookup:
    """Cache access of one run (keys precomputed; lookups separate from stores)."""

    def __init__(self, cache: CacheOptimizer | None) -> None:
        self.cache = cache
        enabled = cache.config.enabled_categories if cache is not None else frozenset()
        self.render = "template_render" in enabled
        self.types = "type_mapping" in enabled
        self.relationships = "relationships" in enabled
        if cache is not None:
            from rrperf.engine.cache import MISS

            self.cache_miss = MISS

    def get(self, category: str, key: str, decode: Any) -> Any:
        """The cached value, or ``_MISSING`` (counted as a miss; store it with :meth:`put`)."""
        assert self.cache is not None
        value = self.cache.lookup_key(category, key, decode=decode)
        return _MISSING if value is self.cache_miss else value

    def put(self, category: str, key: str, value: Any, encode: Any) -> None:
        assert self.cache is not None
        self.cache.store_key(category, key, value, encode=encode)

    def empty(self, category: str, n: int) -> bool:
        """True (with ``n`` misses counted) if ``n`` lookups in ``category`` would all miss."""
        assert self.cache is not None
        return self.cache.misses_if_empty(category, n)

    def put_many(self, category: str, items: Sequence[tuple[str, Any]], encode: Any) -> None:
        assert self.cache is not None
        self.cache.store_many(category, items, encode=encode)

    def through(
        self, category: str, key: str, compute: Any, encode: Any, decode: Any
    ) -> Any:
        assert self.cache is not None
        return self.cache.get_or_compute_key(
            category, key, compute, encode=encode, decode=decode
        )


def _load(
    source: Any, lookup: _Lookup, config: Any = None
) -> tuple[Schema, str, _SchemaStore | None]:
    """The schema, a content token for the analysis memo (``""`` without a cache), and the
    cache store still to do.

    The store of a freshly loaded schema (its JSON encoding and the disk write) is returned
    (:class:`_SchemaStore`) rather than done here, so that a pool run can do it while the
    workers render (it takes the plan's packer, :func:`encode_schema`), and a run that forks
    its workers in a process of its own, while this one analyses.
    """
    cache = lookup.cache
    if isinstance(source, Schema):
        return source, "" if cache is None else "schema:" + source.fingerprint(), None
    from rrperf.schema.sources import load_schema, source_fingerprint

    def source_token() -> str:
        token = f"source:{source_fingerprint(source)}\0{os.fspath(source)}"
        if config is not None:  # excluded tables and polymorphic targets change the schema
            token += "\0config:" + config_token(config)
        return token

    if cache is None:  # nothing is memoized or cached: no token (hashing the source costs)
        return load_schema(source, config=config), "", None
    if "schema_introspection" not in cache.config.enabled_categories:
        # loaded first: a database's fingerprint is then taken on the reading connection
        schema = load_schema(source, config=config)
        return schema, source_token(), None
    token = source_token()
    key = schema_cache_key(token)
    found = lookup.get("schema_introspection", key, _decode_loaded)
    if found is not _MISSING:
        schema, warned = found
        for message, module, qualname in warned:  # what parsing it warned about
            warnings.warn(message, warning_category(module, qualname), stacklevel=4)
        return schema, token, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = load_schema(source, config=config)
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    loaded = (schema, warning_records(caught))

    return schema, token, _SchemaStore(lookup, key, loaded)


class _SchemaStore:
    """The cache store of a freshly loaded schema, still to do: ``store(packer, pause)`` now,
    or ``store.later()`` for a callable doing its disk part (the JSON encoding and the
    write) in another process."""

    __slots__ = ("key", "loaded", "lookup")

    def __init__(self, lookup: _Lookup, key: str, loaded: tuple[Schema, Any]) -> None:
        self.lookup, self.key, self.loaded = lookup, key, loaded

    def __call__(self, packer: _Packer | None, pause: Callable[[], None] | None = None) -> None:
        self.lookup.put("schema_introspection", self.key, self.loaded,
                        functools.partial(_encode_loaded, packer=packer, pause=pause))

    def later(self) -> Callable[[], None]:
        assert self.lookup.cache is not None
        return self.lookup.cache.store_key_later(
            "schema_introspection", self.key, self.loaded, encode=_encode_loaded
        )


@functools.cache
def generator_version() -> str:
    """Part of every cache key: a new generator version never reads an older version's
    entries (read on first use: a run without caches does not import importlib.metadata)."""
    from rrperf._version import __version__

    return f"rrperf-{__version__}"


def schema_cache_key(token: str) -> str:
    """The ``schema_introspection`` key of a loaded schema (and the warnings loading issued)."""
    from rrperf.engine.cache import cache_key

    return cache_key(
        "schema_introspection", "load_schema", SCHEMA_FORMAT, "warnings", token,
        version=generator_version(),
    )


def _encode_loaded(
    value: tuple[Schema, list[list[str]]],
    packer: _Packer | None = None,
    pause: Callable[[], None] | None = None,
) -> JSONText:
    return encode_schema_text(value[0], packer, pause, warned=value[1])


def _decode_loaded(data: Any) -> tuple[Schema, list[list[str]]]:
    return decode_schema(data), list(data.get("warnings", ()))


def _plan(
    schema: Schema,
    token: str,
    tables: tuple[str, ...] | None,
    exclude_tables: tuple[str, ...] | None,
    context: ExecutionContext,
    memoize: bool,
    pack: Callable[[int], bool] | None = None,
) -> _Plan:
    if not memoize:
        # nothing cached: the keys (and their template fingerprint) only if packing
        plan = _make_plan(schema, tables, exclude_tables, None, pack)
        _replay(plan.warned)
        return plan
    base = key_base()
    plans: dict[Any, _Plan] = context.state.setdefault(_PLANS, {})
    memo_key = (token, tables, exclude_tables)
    memo = plans.get(memo_key)
    if memo is not None and memo.base == base:
        context.count(hits=1)
        _replay(memo.warned)
        return memo
    plan = _make_plan(schema, tables, exclude_tables, base)
    context.count(misses=1)
    plans[memo_key] = plan
    while len(plans) > _PLANS_KEPT:
        plans.pop(next(iter(plans)))
    _replay(plan.warned)
    return plan


def key_base() -> str:
    """What every content key starts with: generator version, code and templates (the
    ``base`` of :func:`table_keys`)."""
    return f"{generator_version()}\0{code_fingerprint()}\0{templates_fingerprint()}"


def _as_names(names: Iterable[str] | None) -> tuple[str, ...] | None:
    if names is None or isinstance(names, str):
        return names  # type: ignore[return-value]  # analyze_schema rejects a str with a message
    return tuple(names)


def plan_batches(
    n_tables: int, workers: int, batch_size: int | None = None, *, pool_started: bool = True
) -> list[int]:
    """The batch sizes a run sends to a pool for ``n_tables`` tables to render; ``[]``: none.

    The generator itself splits its work with this plan (and :mod:`rrperf.optimize.workload`
    predicts with it). No pool for one worker, nor below :data:`POOL_MIN_TABLES` tables
    (:data:`POOL_START_MIN_TABLES` when the pool is not ``pool_started`` yet) or two per
    worker. Otherwise batches of ``batch_size``, or else guided (as OpenMP's
    ``schedule(guided)``): each batch takes a share of what is left, ``remaining /
    (_GUIDED_SHARE * workers)``, never fewer than ``_GUIDED_MIN`` tables (or a quarter of a
    worker's share, for small schemas). Large batches first keep the dispatch overhead low;
    small ones last let the workers finish together (with equal batches of 250 tables, one
    worker idled up to 150 ms at the end of a 2,000-table run while the other finished its
    last batch, 2026-11-26).

    Examples
    --------
    >>> plan_batches(18, 2)
    [5, 4, 3, 2, 2, 2]
    >>> plan_batches(18, 2, pool_started=False), plan_batches(18, 1), plan_batches(18, 2, 7)
    ([], [], [7, 7, 4])
    """
    least = POOL_MIN_TABLES if pool_started else POOL_START_MIN_TABLES
    if workers <= 1 or n_tables < max(least, 2 * workers):
        return []
    return guided_sizes(n_tables, workers, batch_size)


def guided_sizes(n_tables: int, workers: int, batch_size: int | None = None) -> list[int]:
    """The batch sizes of :func:`plan_batches` once a pool is used (whatever the table count)."""
    if batch_size is not None:
        return [min(batch_size, n_tables - i) for i in range(0, n_tables, batch_size)]
    out = []
    start, n = 0, n_tables
    workers = max(1, workers)
    smallest = max(1, min(_GUIDED_MIN, n // (4 * workers)))
    while start < n:
        size = min(n - start, max(smallest, -(-(n - start) // (_GUIDED_SHARE * workers))))
        out.append(size)
        start += size
    return out


def _split(names: Sequence[str], sizes: Sequence[int]) -> list[tuple[str, ...]]:
    out, start = [], 0
    for size in sizes:
        out.append(tuple(names[start : start + size]))
        start += size
    return out


def _warm_worker() -> None:
    """Run by each pool worker as it starts: compile the templates (a fresh fork has none)."""
    from rrperf.generator.render import compile_templates

    compile_templates()


def run_with_context(
    source: Any,
    out_dir: str | os.PathLike[str],
    context: ExecutionContext,
    *,
    tables: Iterable[str] | None = None,
    exclude_tables: Iterable[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
    runtime: bool = True,
    config: RrperfConfig | None = None,
) -> GenerationResult:
    """Generate with the strategy, executor and caches of ``context``.

    Parameters
    ----------
    source : Schema, str or path
        As for :func:`rrperf.generator.api.generate`.
    out_dir : path
        The output folder.
    context : ExecutionContext
        From :meth:`Strategy.make_context <rrperf.engine.strategies.Strategy.make_context>`.
    tables, exclude_tables : iterable of str or None
        Generate only these tables / all but these.
    dry_run : bool
        Write nothing; ``written`` lists what would be written.
    force : bool
        Rewrite every file.
    runtime : bool
        Also write the runtime declaration ``rrperf-runtime.d.ts`` (see
        :mod:`rrperf.generator.runtime_file`).
    config : RrperfConfig or None
        Its ``exclude_tables`` and ``polymorphic_types`` shape the loaded schema.

    Returns
    -------
    GenerationResult
        ``strategy`` is the context's strategy name; ``cache_hits``/``cache_misses`` count
        this run's lookups.

    Raises
    ------
    ConfigError
        For an unknown table name, or a closed context.
    SchemaSourceError
        When the source cannot be loaded.
    UnsafePathError
        When a generated path would leave ``out_dir`` (nothing is written).
    GenerationError
        When a file cannot be written.
    CacheError
        When a value cannot be cached.
    """
    if context.closed:
        raise ConfigError(f"{context!r} is closed; make a new one with strategy.make_context()")
    start = time.perf_counter()
    monitor = context.monitor
    own_session = monitor is not None and monitor.active_session is None
    hits0, misses0 = context.cache_stats()
    names, excluded = _as_names(tables), _as_names(exclude_tables)
    strategy = context.strategy
    real_out = os.path.realpath(out_dir)
    if (
        strategy.keeps_manifest and not strategy.caching and not (dry_run or force)
        and not isinstance(names, str) and not isinstance(excluded, str)
    ):
        # nothing cached per table: an unchanged repeat is answered from the manifest
        fast = fast_path(
            context.state_dir, source, real_out, impl="pipeline", tables=names,
            exclude_tables=excluded, manifests=context.state.setdefault(_MANIFESTS, {}),
            config=options_token(config, runtime),
        )
        if fast is not None:
            context.count(hits=1)
            hits1, misses1 = context.cache_stats()
            return GenerationResult(
                impl="pipeline", strategy=strategy.name, n_tables=fast.n_tables,
                files_total=len(fast.files), files_written=0,
                files_unchanged=len(fast.files), output_digest=fast.output_digest,
                wall_s=time.perf_counter() - start, written=(), unchanged=fast.files,
                cache_hits=hits1 - hits0, cache_misses=misses1 - misses0,
            )
    if own_session:
        assert monitor is not None
        monitor.start_monitoring_session(
            f"generate[{context.strategy.name}]", {"strategy": context.strategy.name}
        )
    caught: list[warnings.WarningMessage] = []
    try:
        # the warnings of the run are recorded with its manifest (a fast-path repeat issues
        # them again) and issued as they would have been
        try:
            with warnings.catch_warnings(record=True) as caught, _gc_paused():
                warnings.simplefilter("always")
                # the run builds many objects and no reference cycles
                result, manifest = _run(
                    source, out_dir, real_out, context, tables=names, exclude_tables=excluded,
                    dry_run=dry_run, force=force, config=config, runtime=runtime,
                )
        finally:
            for w in caught:
                warnings.warn_explicit(
                    w.message, w.category, w.filename, w.lineno, source=w.source
                )
        if manifest is not None:
            _finish_manifest(
                context, manifest, real_out, result, caught,
                run_key(source, real_out, impl="pipeline", tables=names,
                        exclude_tables=excluded, config=options_token(config, runtime)),
            )
    finally:
        hits1, misses1 = context.cache_stats()
        if own_session:
            assert monitor is not None
            monitor.record_cache_stats(hits1 - hits0, misses1 - misses0)
            monitor.end_monitoring_session()
    wall_s = time.perf_counter() - start
    return GenerationResult(
        impl="pipeline",
        strategy=context.strategy.name,
        n_tables=result.n_tables,
        files_total=result.files_total,
        files_written=result.files_written,
        files_unchanged=result.files_unchanged,
        output_digest=result.output_digest,
        wall_s=wall_s,
        written=result.written,
        unchanged=result.unchanged,
        dry_run=dry_run,
        cache_hits=hits1 - hits0,
        cache_misses=misses1 - misses0,
    )


def _run(
    source: Any,
    out_dir: str | os.PathLike[str],
    real_out: str,
    context: ExecutionContext,
    *,
    tables: tuple[str, ...] | None,
    exclude_tables: tuple[str, ...] | None,
    dry_run: bool,
    force: bool,
    config: Any = None,
    runtime: bool = True,
) -> tuple[GenerationResult, OutputManifest | None]:
    strategy = context.strategy
    lookup = _Lookup(context.cache)
    from rrperf.schema.associations import inflection_memo

    executor = context.executor
    # A process backend whose pool is not running forks its workers when the batches are
    # known (fork_map): they inherit the analysis, so nothing is packed for them.
    forks = (executor.backend == "process" and executor.config.start_method == "fork"
             and not executor.pool_started)
    with contextlib.ExitStack() as aside:
        with inflection_memo():  # association inference and model naming inflect the same names
            schema, token, store_schema = _load(source, lookup, config)
            if forks and store_schema is not None and plan_batches(
                len(schema.tables), executor.max_workers, strategy.batch_size,
                pool_started=False,
            ):
                # its workers will be forked: the schema's cache store (the JSON encoding and
                # the disk write: ~45 ms at 2,000 tables) goes to a process forked now, which
                # does it while this one analyses
                _store_aside(store_schema, aside)
                store_schema = None
            if not forks and executor.backend == "process" and not executor.pool_started and (
                plan_batches(len(schema.tables), executor.max_workers, pool_started=False)
            ):
                # start the workers now: they compile the templates while this process analyses
                executor.start_pool(_warm_worker)

            def pack(n_selected: int) -> bool:  # for content keys, or for the pool's batches
                return lookup.render or lookup.types or lookup.relationships or (
                    executor.backend != "serial" and not forks and bool(plan_batches(
                        n_selected, executor.max_workers, strategy.batch_size,
                        pool_started=executor.pool_started,
                    ))
                )

            plan = _plan(schema, token, tables, exclude_tables, context, memoize=lookup.render,
                         pack=pack)
        ctx = plan.ctx

        # Every path is checked before anything is written (workers write too).
        guard = PathGuard(out_dir, real_out)
        guard.check_all(ctx.paths)

        # Cache lookups here; misses are computed here or on the pool.
        rendered: dict[str, tuple[RenderedFile, ...]] = {}
        misses: list[str] = []
        if lookup.render and not lookup.empty("template_render", len(ctx.selected)):
            for name in ctx.selected:
                found = lookup.get("template_render", plan.keys[name].render, _decode_rendered)
                if found is _MISSING:
                    misses.append(name)
                else:
                    rendered[name] = found
        else:
            misses = list(ctx.selected)

        use_manifest = strategy.keeps_manifest and not dry_run
        manifest = _context_manifest(context, real_out) if use_manifest else None

        written: list[str] = []
        unchanged: list[str] = []
        pool_done: set[str] = set()
        index_text: list[str] = []  # index.ts, when rendered during the pool run
        # the output folders' names, listed once for every write of the run here and in
        # forked workers (write_if_changed)
        listings: dict[str, frozenset[str]] = {}
        sizes = (
            plan_batches(len(misses), executor.max_workers, strategy.batch_size,
                         pool_started=executor.pool_started)
            if misses and executor.backend != "serial"
            else []
        )

        def keep(outcome: BatchOutcome) -> None:  # a batch rendered elsewhere: its files, cached
            rendered.update(outcome.rendered)
            if lookup.render:
                lookup.put_many(
                    "template_render",
                    [(plan.keys[name].render, files) for name, files in outcome.rendered],
                    _encode_rendered,
                )

        if sizes and forks:

            # (the schema's store, if any, went to a process of its own when it was loaded)
            def lead() -> None:  # this process's own work, while the children render
                index_text.append(render_index(ctx))

            def arrived(outcome: BatchOutcome) -> None:  # merged while the others work
                keep(outcome)
                pool_done.update(_merge_outcomes((outcome,), manifest, written, unchanged))

            _run_forked(
                executor.max_workers, plan, _split(misses, sizes), guard.base, force=force,
                dry_run=dry_run, with_stats=manifest is not None, texts=lookup.render, lead=lead,
                arrived=arrived, listings=listings,
            )
        elif sizes:
            # the schema store starts once the first batch is back: until then the workers
            # are being fed, and this process should not hold the GIL with encoding
            background = _Background(
                None if store_schema is None
                else functools.partial(store_schema, plan.packer, _yield_gil)
            )

            def store(outcome: BatchOutcome) -> None:
                background.start()
                if not index_text:  # rendered here while the workers render the rest
                    index_text.append(render_index(ctx))
                keep(outcome)

            with background:
                pool_done = _run_pool(
                    context, plan, _split(misses, sizes), guard.base, force=force, dry_run=dry_run,
                    manifest=manifest, store=store, written=written, unchanged=unchanged,
                )
        else:
            if store_schema is not None:
                store_schema(plan.packer)

        # Render what is left here and write chunk by chunk, as the rendering goes (spreads the
        # file creations, as the legacy generator does); every path was checked above.
        missed = set(misses) - pool_done
        pending: dict[str, str] = {}
        shas: dict[str, str] = {}

        def flush() -> None:
            report = write_if_changed(guard, pending, force=force, dry_run=dry_run,
                                      listings=listings)
            written.extend(report.written)
            unchanged.extend(report.unchanged)
            if manifest is not None:
                manifest.wrote(report.written, shas)
                for rel in report.unchanged:
                    manifest.record(rel, shas[rel], guard.join(rel))
            pending.clear()
            shas.clear()

        # an empty manifest (a cold run) trusts nothing
        trusted = (manifest.trusted if manifest is not None and manifest.entries and not force
                   else None)
        for name in ctx.selected:
            if name in pool_done:
                continue
            if name in missed:
                rendered[name] = _render_here(ctx, name, plan.keys, lookup)
            for rel, text, sha in rendered[name]:
                if trusted is not None and trusted(rel, sha, real_out):
                    unchanged.append(rel)
                else:
                    pending[rel] = text
                    shas[rel] = sha
            if len(pending) >= _WRITE_CHUNK_FILES:
                flush()
        last = {"index.ts": index_text[0] if index_text else render_index(ctx),
                **runtime_files(runtime)}
        last_shas = {rel: _sha(text) for rel, text in last.items()}
        for rel, text in last.items():
            sha = last_shas[rel]
            if trusted is not None and trusted(rel, sha, real_out):
                unchanged.append(rel)
            else:
                pending[rel] = text
                shas[rel] = sha
        flush()

        file_shas = {rel: sha for name in ctx.selected for rel, _, sha in rendered[name]}
        file_shas.update(last_shas)
        written.sort()
        unchanged.sort()
        if not written:
            logger.info("no changes: all %d files unchanged in %s", len(file_shas), guard.base)
        result = GenerationResult(
            impl="pipeline",
            strategy=strategy.name,
            n_tables=len(ctx.selected),
            files_total=len(file_shas),
            files_written=len(written),
            files_unchanged=len(unchanged),
            output_digest=shas_digest(file_shas),
            wall_s=0.0,
            written=tuple(written),
            unchanged=tuple(unchanged),
            dry_run=dry_run,
        )
    return result, manifest


def _store_aside(store: _SchemaStore, aside: contextlib.ExitStack) -> None:
    """Run ``store``'s disk part in a forked process (:func:`~rrperf.engine.parallel.fork_call`),
    waited for when ``aside`` closes: its error is raised then, unless the run already
    failed (the store is then only waited for)."""
    from rrperf.engine.parallel import fork_call

    side = fork_call(store.later(), "schema cache store")

    def done(exc_type: type[BaseException] | None, *_: object) -> bool:
        if exc_type is None:
            side.wait()
        else:
            with contextlib.suppress(Exception):
                side.wait()
        return False

    aside.push(done)


def _context_manifest(context: ExecutionContext, real_out: str) -> OutputManifest:
    """The manifest of ``real_out`` kept in the context, loaded from its state folder first."""
    manifests: dict[str, OutputManifest] = context.state.setdefault(_MANIFESTS, {})
    manifest = manifests.get(real_out)
    if manifest is None:
        manifest = load_manifest(context.state_dir, real_out) or OutputManifest({}, 0)
        manifests[real_out] = manifest
    manifest.fresh.clear()  # of a run that failed
    return manifest


def _finish_manifest(
    context: ExecutionContext,
    manifest: OutputManifest,
    real_out: str,
    result: GenerationResult,
    caught: Sequence[warnings.WarningMessage],
    key: str | None,
) -> None:
    """Keep only this run's files in the manifest, with its run key, and save it if changed.

    It is recorded now, after the run: a file written more than a timer tick ago is trusted
    by its ``stat`` next time (as ninja trusts the mtimes it saw after a command); the last
    ones are verified by content once more.
    """
    files = (*result.written, *result.unchanged)
    now = _now_ns()
    manifest.settle(now, real_out)
    entries = manifest.entries
    if len(entries) != len(files):
        manifest.entries = entries = {rel: entries[rel] for rel in files if rel in entries}
        manifest.dirty = True
    if len(entries) != len(files):
        key = None  # a file could not be stat'ed: no whole-run answer
    summary = result_summary(result.n_tables, result.output_digest, caught)
    if not manifest.dirty and manifest.run_key == key and manifest.result == summary:
        return
    manifest.recorded_ns = now
    manifest.run_key = key
    manifest.result = summary
    save_manifest(context.state_dir, real_out, manifest)


class _Background:
    """Run ``task`` in a thread started by :meth:`start` (or at the end of the ``with``
    block if nothing started it), joined when the block ends; re-raise its error.

    If the block raises before the task started, the task is not run.
    """

    def __init__(self, task: Any) -> None:
        self.task = task
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def _target(self) -> None:
        try:
            self.task()
        except BaseException as err:  # re-raised in the calling thread by __exit__
            self.error = err

    def start(self) -> None:
        """Start the task (once; later calls do nothing)."""
        if self.task is not None and self.thread is None:
            self.thread = threading.Thread(target=self._target, name="rrperf-cache-store")
            self.thread.start()

    def __enter__(self) -> _Background:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self.start()
        if self.thread is not None:
            self.thread.join()
        if self.error is not None and exc_info[0] is None:
            raise self.error


def _render_here(
    ctx: SchemaContext, name: str, all_keys: Mapping[str, _TableKeys], lookup: _Lookup
) -> tuple[RenderedFile, ...]:
    """Render one table in this thread, through the type_mapping/relationships caches."""
    if not (lookup.types or lookup.relationships or lookup.render):
        return _render_files(ctx, name)
    keys = all_keys[name]
    types: Callable[[], TypesResult] | None = None
    rels: Callable[[], RelationshipsResult] | None = None
    if lookup.types:
        types = functools.partial(
            lookup.through, "type_mapping", _sub_key("types", keys.table),
            functools.partial(table_types, ctx, name), _encode_types, _decode_types,
        )
    if lookup.relationships:
        rels = functools.partial(
            lookup.through, "relationships", _sub_key("relationships", keys.links),
            functools.partial(table_relationships, ctx, name), _encode_relationships,
            _decode_relationships,
        )
    out = _render_files(ctx, name, types, rels)
    if lookup.render:
        lookup.put("template_render", keys.render, out, _encode_rendered)
    return out


def _sub_key(kind: str, part: str) -> str:
    return hashlib.sha256(
        f"{generator_version()}\0{code_fingerprint()}\0{kind}\0{part}".encode()
    ).hexdigest()


def _write_packs(packs: Sequence[tuple[Any, ...]]) -> tuple[str, list[tuple[str, int, int]]]:
    """Pickle the batches' packs into one temporary file (owner-only, as ``mkstemp`` makes it).

    A pool task then carries ``(path, offset, length)`` instead of its ~250 KB pack. A large
    task argument is streamed through the worker's pipe 64 KB at a time by a feeder thread
    of this process, which needs the GIL for every piece: with this process busy, the
    second worker waited 20-110 ms for its next batch (2026-11-26). From a file, the worker
    reads its pack at once.

    Raises
    ------
    GenerationError
        If the file cannot be written.
    """
    try:
        fd, path = tempfile.mkstemp(prefix=f"rrperf-batches-{os.getpid()}-", suffix=".pickle")
    except OSError as err:
        raise GenerationError(f"cannot create a temporary file for the pool: {err}") from err
    where = []
    try:
        with os.fdopen(fd, "wb") as f:
            offset = 0
            for pack in packs:
                blob = pickle.dumps(pack, protocol=pickle.HIGHEST_PROTOCOL)
                f.write(blob)
                where.append((path, offset, len(blob)))
                offset += len(blob)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise GenerationError(f"cannot write the pool's batches to {path}: {err}") from err
    return path, where


def _run_pool(
    context: ExecutionContext,
    plan: _Plan,
    batches: Sequence[tuple[str, ...]],
    out_dir: str,
    *,
    force: bool,
    dry_run: bool,
    manifest: OutputManifest | None,
    store: Callable[[BatchOutcome], None],
    written: list[str],
    unchanged: list[str],
) -> set[str]:
    """Render and write the missed tables in batches on the pool; returns the tables done.

    ``store(outcome)`` receives each batch's outcome as it comes back, while the pool
    renders the next batches (the cache stores overlap the rendering).
    """
    from rrperf.engine.stages import Stage

    executor = context.executor
    if not dry_run:
        try:
            os.makedirs(os.path.join(out_dir, "types"), exist_ok=True)
        except OSError as err:
            raise GenerationError(f"cannot create output folder {out_dir}: {err}") from err
    packs = [_pack_batch(plan, batch) for batch in batches]
    packs_file = None
    # issue 13: on the dask backend the workers render only and this process writes each
    # batch as it comes back
    remote_render = executor.backend in REMOTE_RENDER_BACKENDS
    if executor.backend == "process":
        packs_file, where = _write_packs(packs)
    stages = [
        Stage(
            f"batch:{i}",
            render_write_batch,
            kwargs={
                **({"packed_at": where[i]} if packs_file else {"packed": packs[i]}),
                "tables": batch,
                "out_dir": out_dir,
                "force": force,
                "dry_run": dry_run,
                "with_stats": manifest is not None,
                "write": not remote_render,
            },
        )
        for i, batch in enumerate(batches)
    ]

    wrote: dict[str, BatchOutcome] = {}  # issue 13: batches rendered remotely, written here

    def arrived(name: str, outcome: BatchOutcome) -> None:
        store(outcome)
        if remote_render:
            wrote[name] = write_rendered(
                outcome, out_dir, force=force, dry_run=dry_run, with_stats=manifest is not None
            )

    try:
        results = executor.execute_parallel(stages, on_result=arrived)
        if remote_render:  # issue 13: every batch written here (as it arrived, normally)
            results = {
                n: wrote.get(n) or write_rendered(
                    o, out_dir, force=force, dry_run=dry_run, with_stats=manifest is not None
                )
                for n, o in results.items()
            }
    except StageError as err:
        cause = err.__cause__
        if isinstance(cause, RrperfError):
            raise cause from cause.__cause__
        raise
    finally:
        if packs_file is not None:
            with contextlib.suppress(OSError):
                os.unlink(packs_file)
    return _merge_outcomes(results.values(), manifest, written, unchanged)


def _run_forked(
    workers: int,
    plan: _Plan,
    batches: Sequence[tuple[str, ...]],
    out_dir: str,
    *,
    force: bool,
    dry_run: bool,
    with_stats: bool,
    texts: bool,
    lead: Callable[[], None],
    arrived: Callable[[BatchOutcome], None],
    listings: dict[str, frozenset[str]],
) -> None:
    """Render and write ``batches`` in this process and processes forked from it
    (:func:`~rrperf.engine.parallel.fork_map`), which inherit the analysis: nothing is
    packed or pickled for them; each sends back its batches' outcomes, passed to
    ``arrived`` as they come. ``lead()`` runs here while the children start. ``listings``
    (the run's, :func:`~rrperf.generator.writer.write_if_changed`) are filled here first. Without
    ``texts`` the outcomes carry each file's path and SHA-256 but an empty text (what the
    output digest and the manifest need; the text is on the disk): a child then sends
    back a few bytes per file instead of the file.

    Raises
    ------
    GenerationError
        If the output folder cannot be created, a file cannot be written, a table cannot be
        rendered (:class:`~rrperf.errors.StageError`), or a worker process dies.
    """
    from rrperf.engine.parallel import fork_map
    from rrperf.generator.render import compile_templates

    if not dry_run:
        try:
            atomic.make_folder(os.path.join(out_dir, "types"))
        except OSError as err:
            raise GenerationError(f"cannot create output folder {out_dir}: {err}") from err
    compile_templates()  # once, here: the children inherit them
    ctx = plan.ctx
    # the output folders listed once, here, for every batch of every process
    prime_listings(out_dir, {rel.rpartition("/")[0]: rel for rel in ctx.paths}.values(),
                   listings)

    def work(i: int) -> BatchOutcome:
        outcome = _render_write(ctx, batches[i], out_dir, force=force, dry_run=dry_run,
                                with_stats=with_stats, listings=listings)
        if texts:
            return outcome
        shas_only = tuple((name, tuple((rel, "", sha) for rel, _, sha in files))
                          for name, files in outcome.rendered)
        return BatchOutcome(shas_only, outcome.written, outcome.unchanged, outcome.stats)

    def lost(pid: int) -> None:  # a worker died: remove the temporary files it left
        for folder in (out_dir, os.path.join(out_dir, "types")):
            atomic.remove_leftovers(folder, pid)

    fork_map(work, len(batches), workers, lead=lead,
             on_result=lambda _, outcome: arrived(outcome), on_lost=lost)


def _merge_outcomes(
    outcomes: Iterable[BatchOutcome],
    manifest: OutputManifest | None,
    written: list[str],
    unchanged: list[str],
) -> set[str]:
    """Add what the pool's batches wrote to ``written``/``unchanged`` and the manifest;
    return the tables they did."""
    done: set[str] = set()
    for outcome in outcomes:
        done.update(name for name, _ in outcome.rendered)
        written.extend(outcome.written)
        unchanged.extend(outcome.unchanged)
        if manifest is not None:
            shas = {rel: sha for _, files in outcome.rendered for rel, _, sha in files}
            for rel, size, mtime, ctime, ino in outcome.stats:
                manifest.entries[rel] = (shas[rel], size, mtime, ctime, ino)
            manifest.dirty = True
    return done
