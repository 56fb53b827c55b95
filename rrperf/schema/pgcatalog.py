"""Read a PostgreSQL schema straight from the system catalog, in one transaction.

:func:`rrperf.schema.database.introspect_database` uses this for ``postgresql://``,
``postgresql+psycopg2://`` and ``postgresql+psycopg://`` URLs, through psycopg2 or psycopg 3
(any DB-API connection whose driver converts arrays to lists). It sends ``BEGIN``, five
catalog queries (enum labels, domain names, columns with their table, constraints, indexes)
and ``ROLLBACK``, whatever the number of tables; and it imports neither SQLAlchemy nor
anything else heavy, which matters for a whole ``rrperf generate postgresql://...`` command,
where importing SQLAlchemy alone took longer than reading the catalog.

The result is the Schema SQLAlchemy's inspector gives (the ``get_multi_*`` path of
:mod:`rrperf.schema.database`, checked against this one on real servers by the tests), with
two differences in favour of the ``schema.rb``: an extension's type SQLAlchemy does not know
(``citext``, ``hstore``, ``vector``) keeps its own name instead of a generic one, and no
"did not recognize type" warning is issued for it.

Only the current schema (``current_schema()``, usually ``public``) is read, as SQLAlchemy
does by default.

:func:`fingerprint` is the one query a warm run sends (:data:`FINGERPRINT_SQL`); within a
:func:`~rrperf.schema.memo.fingerprint_memo` block (a generator run) it is sent once per URL,
on the reading connection before the five queries when nothing asked for it earlier. The
output manifest's fast path calls it without importing the schema model or SQLAlchemy.
"""

from __future__ import annotations

import re

from rrperf.schema.memo import fingerprint_memo, run_memo

TYPE_CHECKING = False  # not typing's: a warm command imports no typing (rrperf.cli._warm)
if TYPE_CHECKING:
    from typing import Any

    from rrperf.schema.model import EnumType, ForeignKey, Table

__all__ = [
    "FINGERPRINT_SQL",
    "connect",
    "direct_driver",
    "fingerprint",
    "fingerprint_first",
    "fingerprint_memo",
    "libpq_url",
    "read_catalog",
    "sql_type_attributes",
]

#: URL scheme -> the drivers that read it directly, in order of preference. A plain URL takes
#: psycopg2 first: it imports in a fifth of psycopg 3's time (30 against 150 ms in a new
#: process here), which was most of a warm run's time.
DIRECT_DRIVERS: dict[str, tuple[str, ...]] = {
    "postgresql": ("psycopg2", "psycopg"),
    "postgres": ("psycopg2", "psycopg"),
    "postgresql+psycopg2": ("psycopg2",),
    "postgresql+psycopg": ("psycopg",),
}

_NS = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"

_ENUMS = f"""
SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = {_NS}
GROUP BY t.typname ORDER BY t.typname
"""

_DOMAINS = f"SELECT t.typname FROM pg_type t WHERE t.typtype = 'd' AND t.typnamespace = {_NS}"

# Comments joined rather than looked up per row (col_description, obj_description): a third
# of the time on coursemology2; likewise below, a constraint's definition is deparsed only for
# a check, and a key column's name is one index lookup.
_COLUMNS = f"""
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' AND a.attidentity = ''
            THEN pg_get_expr(d.adbin, d.adrelid) END,
       m.description, t.description
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_description m ON m.objoid = c.oid AND m.classoid = 'pg_class'::regclass
                           AND m.objsubid = a.attnum
LEFT JOIN pg_description t ON t.objoid = c.oid AND t.classoid = 'pg_class'::regclass
                           AND t.objsubid = 0
WHERE c.relnamespace = {_NS} AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum
"""

_CONSTRAINTS = f"""
SELECT c.relname, k.conname, k.contype, f.relname, k.confdeltype, k.confupdtype,
       CASE WHEN k.contype = 'c' THEN pg_get_constraintdef(k.oid, true) END,
       ARRAY(SELECT (SELECT a.attname FROM pg_attribute a
                     WHERE a.attrelid = k.conrelid AND a.attnum = x.n)
             FROM unnest(k.conkey) WITH ORDINALITY AS x(n, i) ORDER BY x.i),
       ARRAY(SELECT (SELECT a.attname FROM pg_attribute a
                     WHERE a.attrelid = k.confrelid AND a.attnum = x.n)
             FROM unnest(k.confkey) WITH ORDINALITY AS x(n, i) ORDER BY x.i)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
LEFT JOIN pg_class f ON f.oid = k.confrelid
WHERE c.relnamespace = {_NS} AND c.relkind IN ('r', 'p') AND k.contype IN ('p', 'f', 'u', 'c')
ORDER BY c.relname, k.conname
"""

_INDEXES = f"""
SELECT c.relname, i.relname, x.indisunique, am.amname,
       pg_get_expr(x.indpred, x.indrelid),
       ARRAY(SELECT k.n = 0 FROM unnest(x.indkey[0:x.indnkeyatts - 1])
             WITH ORDINALITY AS k(n, p) ORDER BY k.p),
       ARRAY(SELECT CASE WHEN k.n = 0 THEN pg_get_indexdef(x.indexrelid, k.p::int, true)
                         ELSE (SELECT a.attname FROM pg_attribute a
                               WHERE a.attrelid = x.indrelid AND a.attnum = k.n) END
             FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY AS k(n, p)
             ORDER BY k.p)
FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_am am ON am.oid = i.relam
WHERE c.relnamespace = {_NS} AND c.relkind IN ('r', 'p') AND NOT x.indisprimary
ORDER BY c.relname, i.relname
"""

#: One statement fingerprinting the catalog rows that describe the schema: relations,
#: columns, defaults, constraints, indexes, types, enum labels and comments outside the system
#: schemas (every other schema is in, so a change anywhere invalidates, never the reverse).
#: Each row counts by its identity and ``xmin``, the transaction that wrote that version of
#: it: any DDL writes new versions of the rows it changes (or adds or removes rows), while
#: ANALYZE and VACUUM update statistics in place and leave it alone. Each row's identity
#: (its kind, oid, sub-id) and ``xmin`` are hashed as integers (``hashint8extended``, seeded
#: by the kind) and the hashes summed: no text is built or sorted (whose order would follow
#: the database's collation), a fifth less server time than ``md5`` over the sorted rows. The
#: ``bigint`` sum is exact (a ``numeric`` result, accumulated in 128-bit integers: a tenth
#: less server time than summing ``numeric`` casts, the same value).
FINGERPRINT_SQL = """
WITH ns AS (
  SELECT oid FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp)'
), rel AS (
  SELECT oid, xmin FROM pg_class WHERE relnamespace IN (SELECT oid FROM ns)
), typ AS (
  SELECT oid, xmin FROM pg_type WHERE typnamespace IN (SELECT oid FROM ns)
)
SELECT sum(hashint8extended(o::int8 << 32 | x::text::int8, k)), count(*) FROM (
  SELECT 0, oid, xmin FROM rel
  UNION ALL
  SELECT 1 + attnum, attrelid, xmin FROM pg_attribute WHERE attrelid IN (SELECT oid FROM rel)
  UNION ALL
  SELECT -1, oid, xmin FROM pg_attrdef WHERE adrelid IN (SELECT oid FROM rel)
  UNION ALL
  SELECT -2, oid, xmin FROM pg_constraint WHERE connamespace IN (SELECT oid FROM ns)
  UNION ALL
  SELECT -3, indexrelid, xmin FROM pg_index WHERE indrelid IN (SELECT oid FROM rel)
  UNION ALL
  SELECT -4, oid, xmin FROM typ
  UNION ALL
  SELECT -5, oid, xmin FROM pg_enum WHERE enumtypid IN (SELECT oid FROM typ)
  UNION ALL
  SELECT -6 - objsubid, objoid, xmin FROM pg_description WHERE objoid IN (SELECT oid FROM rel)
) AS q(k, o, x)
"""

# confdeltype / confupdtype -> the SQL action ('a' = no action: none), as SQLAlchemy reports it.
_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "r": "RESTRICT", "d": "SET DEFAULT"}

# format_type() names (without modifiers) -> Rails type and extra attributes.
_ENUMS, _DOMAINS, _COLUMNS, _CONSTRAINTS, _INDEXES, FINGERPRINT_SQL = (
    q.strip() for q in (_ENUMS, _DOMAINS, _COLUMNS, _CONSTRAINTS, _INDEXES, FINGERPRINT_SQL)
)

_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "text"},
    "integer": {"type": "integer"},
    "smallint": {"type": "integer", "limit": 2},
    "bigint": {"type": "bigint"},
    "boolean": {"type": "boolean"},
    "double precision": {"type": "float"},
    "real": {"type": "float"},
    "date": {"type": "date"},
    "json": {"type": "json"},
    "jsonb": {"type": "jsonb"},
    "uuid": {"type": "uuid"},
    "bytea": {"type": "binary"},
    "timestamp without time zone": {"type": "datetime"},
    "timestamp with time zone": {"type": "datetime"},
    "time without time zone": {"type": "time"},
    "time with time zone": {"type": "time"},
}

_MODIFIER = re.compile(r"\(([^)]*)\)")
_CHECK = re.compile(r"^CHECK *\((.+)\)( NO INHERIT)?( NOT VALID)?$", re.DOTALL)


def sql_type_attributes(
    sql_type: str, enums: dict[str, tuple[str, ...]], domains: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Rails column attributes of a ``format_type()`` string.

    Parameters
    ----------
    sql_type : str
        As PostgreSQL formats it: ``character varying(255)``, ``numeric(10,2)``,
        ``timestamp(6) without time zone``, ``text[]``, an enum or domain name.
    enums : dict
        Enum type name -> labels.
    domains : frozenset of str
        Domain names (a domain is known by its own name, as in a ``schema.rb``).

    Returns
    -------
    dict
        ``type`` and, where they apply, ``limit``, ``precision``, ``scale``, ``array``,
        ``enum_type`` and ``enum_values``: what :func:`rrperf.schema.database.rails_type`
        gives for SQLAlchemy's type of the same column.

    Examples
    --------
    >>> sql_type_attributes("character varying(40)[]", {})
    {'type': 'string', 'limit': 40, 'array': True}
    >>> sql_type_attributes("numeric(10,2)", {})
    {'type': 'decimal', 'precision': 10, 'scale': 2}
    """
    text = sql_type.strip()
    array = False
    while text.endswith("[]"):
        text, array = text[:-2], True
    modifiers = _MODIFIER.search(text)
    args = [a.strip() for a in modifiers.group(1).split(",")] if modifiers else []
    base = _MODIFIER.sub("", text).strip()
    bare = base.strip('"')
    attrs: dict[str, Any]
    if bare in enums:
        attrs = {"type": "enum", "enum_type": bare, "enum_values": enums[bare]}
    elif bare in domains:
        attrs = {"type": bare}
    elif base in {"character varying", "character"}:
        attrs = {"type": "string", "limit": int(args[0]) if args else None}
    elif base == "numeric":
        attrs = {
            "type": "decimal",
            "precision": int(args[0]) if args else None,
            "scale": int(args[1]) if len(args) > 1 else (0 if args else None),
        }
    elif base in _TYPES:
        attrs = dict(_TYPES[base])
    else:
        attrs = {"type": bare.split(".")[-1].strip('"').lower()}
    if array:
        attrs["array"] = True
    return attrs


def _strip_outer_parens(text: str) -> str:
    """One layer of parentheses around the whole of ``text`` removed (as SQLAlchemy does)."""
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] != "(" or stripped[-1] != ")":
        return text
    depth, quote = 0, False
    for pos, ch in enumerate(stripped):
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
            if depth == 0:
                return stripped[1:-1] if pos == len(stripped) - 1 else text
    return text


def direct_driver(url: str) -> str | None:
    """The installed driver module (``psycopg2`` or ``psycopg``) that reads ``url`` directly,
    or None (not PostgreSQL, or neither installed: SQLAlchemy's path)."""
    import importlib.util

    for module in DIRECT_DRIVERS.get(url.partition("://")[0], ()):
        if importlib.util.find_spec(module) is not None:
            return module
    return None


def connect(url: str, driver: str) -> Any:
    """A DB-API connection of ``driver`` to ``url`` (its first statement opens a transaction)."""
    import importlib

    return importlib.import_module(driver).connect(libpq_url(url))


def fingerprint(url: str, driver: str) -> str:
    """``"pg-catalog:<sum of row hashes>:<rows>"``: :data:`FINGERPRINT_SQL` over ``driver``
    (its errors are the caller's: :func:`rrperf.schema.database.catalog_fingerprint` maps
    them)."""
    memo = run_memo()
    found = None if memo is None else memo.get(url)
    if found is None:
        conn = connect(url, driver)
        try:
            found = _fingerprint_on(conn)
            conn.rollback()
        finally:
            conn.close()
        if memo is not None:
            memo[url] = found
    return found


def fingerprint_first(url: str, conn: Any) -> None:
    """Within a :func:`fingerprint_memo` block, fingerprint the catalog on ``conn``, the
    connection about to read it, unless known already: a cold run opens one connection."""
    memo = run_memo()
    if memo is not None and url not in memo:
        memo[url] = _fingerprint_on(conn)


def _fingerprint_on(conn: Any) -> str:
    cur = conn.cursor()
    cur.execute(FINGERPRINT_SQL)
    digest, rows = cur.fetchone()
    return f"pg-catalog:{digest}:{rows}"


def libpq_url(url: str) -> str:
    """A SQLAlchemy ``postgresql[+driver]://`` URL as the libpq connection URI the drivers take."""
    scheme, sep, rest = url.partition("://")
    return "postgresql" + sep + rest if scheme.split("+")[0] in {"postgresql", "postgres"} else url


def read_catalog(conn: Any) -> tuple[list[Table], list[ForeignKey], list[EnumType]]:
    """Tables (sorted by name), foreign keys and enums of the current schema.

    Parameters
    ----------
    conn : DB-API connection
        An open psycopg2 or psycopg connection; the queries run in its current transaction.

    Returns
    -------
    tuple
        ``(tables, foreign_keys, enums)`` as :func:`rrperf.schema.database.introspect_database`
        assembles them (foreign keys per table in Rails' dump order, composite ones left out
        and returned in ``skipped``-free form: the caller warns about them).
    """
    from rrperf.schema import reflected
    from rrperf.schema.model import CheckConstraint, Column, EnumType, Table

    cur = conn.cursor()

    def rows(sql: str) -> list[Any]:
        cur.execute(sql)
        return list(cur.fetchall())

    enums = {name: tuple(labels) for name, labels in rows(_ENUMS)}
    domains = frozenset(row[0] for row in rows(_DOMAINS))
    column_rows = rows(_COLUMNS)
    constraint_rows = rows(_CONSTRAINTS)
    index_rows = rows(_INDEXES)

    pks: dict[str, tuple[str, ...]] = {}
    uniques: dict[str, list[dict[str, Any]]] = {}
    checks: dict[str, list[CheckConstraint]] = {}
    fk_infos: dict[str, list[dict[str, Any]]] = {}
    for table, name, kind, target, on_delete, on_update, definition, cols, fcols in (
        constraint_rows
    ):
        if kind == "p":
            pks[table] = tuple(cols)
        elif kind == "u":
            uniques.setdefault(table, []).append({"name": name, "column_names": list(cols)})
        elif kind == "c":
            m = _CHECK.match(definition)
            checks.setdefault(table, []).append(
                CheckConstraint(_strip_outer_parens(m.group(1)) if m else "", name)
            )
        elif kind == "f" and target is not None:
            fk_infos.setdefault(table, []).append(
                {
                    "name": name,
                    "constrained_columns": list(cols),
                    "referred_table": target,
                    "referred_columns": list(fcols),
                    "options": {
                        "ondelete": _ACTIONS.get(on_delete),
                        "onupdate": _ACTIONS.get(on_update),
                    },
                }
            )

    index_infos: dict[str, list[dict[str, Any]]] = {}
    for table, name, unique, method, where, is_expr, elements in index_rows:
        info: dict[str, Any] = {"name": name, "unique": unique}
        if any(is_expr):
            info["column_names"] = [None if e else x for x, e in zip(elements, is_expr,
                                                                        strict=True)]
            info["expressions"] = list(elements)
        else:
            info["column_names"] = list(elements)
        options: dict[str, Any] = {}
        if method != "btree":
            options["postgresql_using"] = method
        if where:
            options["postgresql_where"] = where
        info["dialect_options"] = options
        index_infos.setdefault(table, []).append(info)

    columns: dict[str, list[Column]] = {}
    comments: dict[str, str | None] = {}
    for table, name, sql_type, not_null, default, comment, table_comment in column_rows:
        attrs = sql_type_attributes(sql_type, enums, domains)
        pk = pks.get(table, ())
        columns.setdefault(table, []).append(
            Column(
                name=name,
                null=not not_null,
                default=reflected.structured(
                    reflected.parse_default(default, attrs["type"]), attrs["type"],
                    bool(attrs.get("array")),
                ),
                comment=comment or None,
                primary_key=name in pk,
                **attrs,
            )
        )
        comments[table] = table_comment or None

    tables: list[Table] = []
    foreign_keys: list[ForeignKey] = []
    for table in sorted(columns):
        tables.append(
            Table(
                name=table,
                columns=tuple(columns[table]),
                primary_key=pks.get(table, ()),
                indexes=reflected.indexes(index_infos.get(table, []), uniques.get(table, [])),
                check_constraints=tuple(checks.get(table, ())),
                comment=comments[table],
            )
        )
        foreign_keys.extend(reflected.foreign_keys(table, fk_infos.get(table, [])))
    enum_types = [EnumType(name, values) for name, values in enums.items()]
    return tables, foreign_keys, enum_types
