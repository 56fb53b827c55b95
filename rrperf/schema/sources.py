"""One entry point for every schema source: :func:`load_schema`.

A *source* is any of:

* a scenario name listed by ``rrperf scenarios`` (``"small"``, ``"large"``, ``"campfire"``,
  ``"coursemology"`` ..., see :mod:`rrperf.schema.scenarios`);
* a synthetic specification ``"synthetic:N"``, optionally with ``:key=value`` parts for
  ``seed``, ``fk_density``, ``polymorphic_share`` and ``enum_share``
  (``"synthetic:1000:seed=7"``, see :class:`~rrperf.schema.synthetic.SyntheticSpec`);
* a SQLAlchemy database URL, i.e. any string containing ``://`` (``"sqlite:///app.db"``,
  ``"postgresql://user@host/db"``);
* a path (``str`` or path-like) to a ``schema.rb`` (recognised by its ``.rb`` suffix or by an
  ``ActiveRecord::Schema`` line), to a SQLite database file (recognised by its 16-byte
  header), or to a Rails application folder holding ``db/schema.rb``;
* a :class:`~rrperf.schema.model.Schema`, used as it is.

After loading, Rails' internal tables (``schema_migrations``, ``ar_internal_metadata``) and the
configured ``exclude_tables`` (``fnmatch`` patterns) are dropped together with the foreign keys
and associations that touch them; then, unless the schema already carries associations, they
are inferred (:func:`rrperf.schema.associations.infer_associations`) with the configured
``polymorphic_types``.

:func:`source_fingerprint` gives a content fingerprint of a source, for cache keys: the sha256
of the file bytes for files (built-in scenarios included), the canonical parameter string for
synthetic schemas, a one-query catalog fingerprint for PostgreSQL URLs and the fingerprint of
the introspected schema for other database URLs. It
covers the source only; the configuration applied by :func:`load_schema` is not part of it.

This module stays light: it imports SQLAlchemy (through :mod:`rrperf.schema.database`) and the
parser only when a source needs them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Union

from rrperf.errors import SchemaSourceError
from rrperf.schema.model import Schema

if TYPE_CHECKING:
    from rrperf.config import RrperfConfig

__all__ = [
    "RAILS_INTERNAL_TABLES",
    "SQLITE_HEADER",
    "SchemaSource",
    "exclude_tables",
    "load_schema",
    "source_fingerprint",
]

logger = logging.getLogger(__name__)

#: What :func:`load_schema` accepts.
SchemaSource = Union[str, "os.PathLike[str]", Schema]

#: Tables Rails creates for itself; never models.
RAILS_INTERNAL_TABLES: tuple[str, ...] = ("schema_migrations", "ar_internal_metadata")

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"

_NAME_LIKE = re.compile(r"[A-Za-z_][\w-]*")
_SNIFF_BYTES = 65536


def _is_scenario_name(text: str) -> bool:
    from rrperf.schema.scenarios import SCENARIOS

    return text in SCENARIOS or text == "synthetic" or text.startswith("synthetic:")


def _resolve_path(source: str | os.PathLike[str]) -> Path:
    """The file a path source denotes; errors for missing paths and unknown names."""
    path = Path(source)
    if path.is_dir():
        for candidate in (path / "db" / "schema.rb", path / "schema.rb"):
            if candidate.is_file():
                return candidate
        raise SchemaSourceError(
            f"{path} is a folder without db/schema.rb or schema.rb; "
            "pass a schema.rb file, a SQLite file, a database URL or a scenario name"
        )
    if path.is_file():
        return path
    if isinstance(source, str) and _NAME_LIKE.fullmatch(source):
        from rrperf.schema.scenarios import unknown_scenario_message

        raise SchemaSourceError(unknown_scenario_message(source))
    raise SchemaSourceError(f"schema file not found: {path}")


def _kind_of_file(path: Path) -> str:
    """``"sqlite"`` or ``"schema.rb"``, from the file's header, suffix and first lines."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as err:
        raise SchemaSourceError(f"cannot read {path}: {err.strerror or err}") from err
    if head.startswith(SQLITE_HEADER):
        return "sqlite"
    if path.suffix == ".rb" or b"ActiveRecord::Schema" in head:
        return "schema.rb"
    raise SchemaSourceError(
        f"{path} is neither a schema.rb file (no .rb suffix, no ActiveRecord::Schema line) "
        "nor a SQLite database (no SQLite header)"
    )


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def _load_raw(source: object) -> Schema:
    """Load a source without exclusions or inference."""
    if isinstance(source, Schema):
        return source
    if isinstance(source, str) and _is_scenario_name(source):
        from rrperf.schema.scenarios import get_scenario
        from rrperf.schema.synthetic import SyntheticSpec

        scenario = get_scenario(source)
        if scenario.path is None:
            return SyntheticSpec.parse(source).build()
        from rrperf.schema.rails import load_schema_rb

        return load_schema_rb(scenario.path)
    if isinstance(source, str) and "://" in source:
        from rrperf.schema.database import introspect_database

        return introspect_database(source)
    if not isinstance(source, str | os.PathLike):
        raise SchemaSourceError(
            "expected a scenario name, synthetic:N, a database URL, a path or a Schema, "
            f"got {type(source).__name__} {source!r}"
        )
    path = _resolve_path(source)
    if _kind_of_file(path) == "sqlite":
        from rrperf.schema.database import introspect_database

        schema = introspect_database(_sqlite_url(path))
        return Schema(
            tables=schema.tables,
            foreign_keys=schema.foreign_keys,
            enums=schema.enums,
            associations=schema.associations,
            version=schema.version,
            source=str(path),
        )
    from rrperf.schema.rails import load_schema_rb

    return load_schema_rb(path)


@functools.lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """One expression for every pattern (``fnmatchcase`` matches with each one's
    translation), made once per set of patterns."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)).match


def exclude_tables(schema: Schema, patterns: Iterable[str]) -> Schema:
    """Drop the tables matching any ``fnmatch`` pattern, and everything that points at them.

    Parameters
    ----------
    schema : Schema
        The schema to filter.
    patterns : iterable of str
        Table names or ``fnmatch`` patterns (``"audit_*"``), matched case-sensitively.

    Returns
    -------
    Schema
        ``schema`` itself when nothing matches; otherwise a copy without those tables, without
        foreign keys from or to them, without associations on, to or through them, and with
        them removed from polymorphic target lists.
    """
    pats = tuple(patterns)
    if not pats:
        return schema
    matches = _matcher(pats)
    dropped = {t.name for t in schema.tables if matches(t.name)}
    if not dropped:
        return schema
    logger.debug("excluding tables: %s", ", ".join(sorted(dropped)))
    associations = []
    for assoc in schema.associations:
        if {assoc.table, assoc.target, assoc.through} & dropped:
            continue
        if assoc.polymorphic_types and dropped.intersection(assoc.polymorphic_types):
            kept = tuple(t for t in assoc.polymorphic_types if t not in dropped)
            assoc = dataclasses.replace(assoc, polymorphic_types=kept)
        associations.append(assoc)
    return Schema(
        tables=tuple(t for t in schema.tables if t.name not in dropped),
        foreign_keys=tuple(
            fk
            for fk in schema.foreign_keys
            if fk.from_table not in dropped and fk.to_table not in dropped
        ),
        enums=schema.enums,
        associations=tuple(associations),
        version=schema.version,
        source=schema.source,
    )


def load_schema(
    source: SchemaSource,
    *,
    config: RrperfConfig | None = None,
    infer_associations: bool = True,
) -> Schema:
    """Load a schema from any source, drop excluded tables and infer associations.

    Parameters
    ----------
    source : str, path-like or Schema
        A scenario name, ``synthetic:N[:key=value...]``, a database URL, a path to a
        ``schema.rb`` / SQLite file / Rails app folder, or a Schema (see the module docstring).
    config : RrperfConfig or None
        Supplies ``exclude_tables`` and ``polymorphic_types``; defaults when ``None``.
    infer_associations : bool
        Infer associations when the schema has none (a Schema passed in with associations
        keeps them).

    Returns
    -------
    Schema

    Raises
    ------
    SchemaSourceError
        For an unknown scenario name (listing the valid names), a malformed or out-of-range
        ``synthetic:`` specification, a missing file (naming the path), a file that is neither
        a schema.rb nor a SQLite database, or a database that cannot be introspected.
    SchemaParseError
        For a malformed ``schema.rb``.
    MissingDependencyError
        When a database URL needs a driver that is not installed.

    Examples
    --------
    >>> schema = load_schema("small")
    >>> schema.table_names
    ('comments', 'posts', 'profiles', 'users')
    >>> [a.name for a in schema.associations_of("users")]
    ['comments', 'posts', 'profile']
    """
    schema = _load_raw(source)
    patterns = RAILS_INTERNAL_TABLES + (config.exclude_tables if config is not None else ())
    schema = exclude_tables(schema, patterns)
    if infer_associations and not schema.associations:
        from rrperf.schema.associations import infer_associations as infer

        polymorphic = config.polymorphic_types if config is not None else None
        schema = infer(schema, polymorphic_types=polymorphic)
    logger.debug(
        "loaded %s: %d tables, %d associations",
        schema.source,
        len(schema.tables),
        len(schema.associations),
    )
    return schema


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        raise SchemaSourceError(f"cannot read {path}: {err.strerror or err}") from err
    return digest.hexdigest()


def source_fingerprint(source: SchemaSource) -> str:
    """A content fingerprint of a source, for cache keys.

    Parameters
    ----------
    source : str, path-like or Schema
        As for :func:`load_schema`.

    Returns
    -------
    str
        The sha256 hex digest of the file bytes for a file or a built-in scenario; for a
        synthetic source its canonical parameter string plus the generator format
        (``"synthetic:1000:seed=0:...:enum_share=0.1@format=1"``); for a PostgreSQL URL the
        catalog fingerprint of :func:`~rrperf.schema.database.catalog_fingerprint` (one query,
        no introspection: a warm cached run keys its cached schema with it and reads nothing
        else from the database); for another database URL or a Schema,
        :meth:`Schema.fingerprint` of the (introspected) schema.

    Raises
    ------
    SchemaSourceError
        As :func:`load_schema` does for unknown names, missing files and unreachable databases.
    """
    if isinstance(source, Schema):
        return source.fingerprint()
    if isinstance(source, str) and _is_scenario_name(source):
        from rrperf.schema.scenarios import get_scenario
        from rrperf.schema.synthetic import SYNTHETIC_FORMAT, SyntheticSpec

        scenario = get_scenario(source)
        if scenario.path is not None:
            return _sha256_file(scenario.path)
        return f"{SyntheticSpec.parse(source).canonical}@format={SYNTHETIC_FORMAT}"
    if isinstance(source, str) and "://" in source:
        from rrperf.schema.database import catalog_fingerprint

        return catalog_fingerprint(source)
    if not isinstance(source, str | os.PathLike):
        raise SchemaSourceError(
            "expected a scenario name, synthetic:N, a database URL, a path or a Schema, "
            f"got {type(source).__name__} {source!r}"
        )
    return _sha256_file(_resolve_path(source))
