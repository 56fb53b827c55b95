"""Read a Schema from a live database.

Any database SQLAlchemy can reach works (``sqlite:///app.db``, ``mysql+pymysql://...``), read
with the inspector's ``get_multi_*`` methods in one connection; PostgreSQL URLs are read
straight from the catalog with psycopg2 or psycopg 3, whichever is installed
(:mod:`rrperf.schema.pgcatalog`, a handful of statements and no SQLAlchemy import). The
driver must be installed; a missing one is a one-line error naming the pip package. Database
types are mapped back to the Rails type names a ``schema.rb`` dump would use, tables are sorted
by name and foreign keys as Rails dumps them, so a schema read from a database and one parsed
from its dump look alike. This module is the one place where SQLAlchemy and driver errors
become :class:`~rrperf.errors.SchemaSourceError`; passwords never appear in messages or in
``Schema.source``.

:func:`catalog_fingerprint` is the cheap key of a database's schema (one query on
PostgreSQL) that the schema caches and the output manifest's run key use. SQLAlchemy and the
drivers are imported when a function here needs them, not when the module is imported.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf.errors import MissingDependencyError, SchemaSourceError, SchemaWarning
from rrperf.schema import reflected
from rrperf.schema.model import (
    CheckConstraint,
    Column,
    EnumType,
    ForeignKey,
    Schema,
    Table,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Inspector
    from sqlalchemy.engine.url import URL

__all__ = ["catalog_fingerprint", "introspect_database", "redact_url", "rails_type"]

logger = logging.getLogger(__name__)

def redact_url(url: str | URL) -> str:
    """``url`` as text with its password removed (``postgresql://bob@host/db``).

    Pure text work (no SQLAlchemy import): the password is what follows the first ``:`` of
    the user part before the last ``@`` of the host part.

    Parameters
    ----------
    url : str or sqlalchemy.engine.URL
        A database URL.

    Returns
    -------
    str
        The URL without a password; the input text unchanged if it has none or is not a URL.
    """
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    userinfo, netloc_rest, prefix = _split_userinfo(text)
    if userinfo is None:
        return text
    return prefix + userinfo.split(":", 1)[0] + "@" + netloc_rest


def _split_userinfo(text: str) -> tuple[str | None, str, str]:
    """(user[:password] or None, the rest after ``@``, ``scheme://``)."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return None, text, ""
    end = len(rest)
    for ch in "/?#":
        pos = rest.find(ch)
        if 0 <= pos < end:
            end = pos
    at = rest.rfind("@", 0, end)
    if at < 0:
        return None, rest, scheme + sep
    return rest[:at], rest[at + 1:], scheme + sep


def _password(url: str) -> str | None:
    from urllib.parse import unquote

    userinfo = _split_userinfo(url)[0]
    if userinfo is None or ":" not in userinfo:
        return None
    return unquote(userinfo.split(":", 1)[1]) or None


def _is_database_error(err: BaseException) -> bool:
    """A SQLAlchemy or psycopg error (checked without importing either)."""
    import sys

    for module, name in (
        ("sqlalchemy.exc", "SQLAlchemyError"), ("psycopg2", "Error"), ("psycopg", "Error")
    ):
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(err, getattr(loaded, name)):
            return True
    return False


@contextmanager
def _map_errors(url: str) -> Iterator[None]:
    """The boundary: SQLAlchemy and driver errors become rrperf errors, password removed."""
    shown = redact_url(url)
    secret = _password(url)

    def clean(text: str) -> str:
        if secret:
            from urllib.parse import quote

            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
        return text

    try:
        yield
    except MissingDependencyError:
        raise
    except ImportError as err:
        module = getattr(err, "name", None) or ""
        package = _DRIVER_PACKAGES.get(module.split(".")[0], module or "the database driver")
        raise MissingDependencyError(
            f"introspecting {shown} needs {module or 'a database driver'}; "
            f"install it with: pip install {package}"
        ) from err
    except Exception as err:
        if not _is_database_error(err):
            raise
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        detail = clean(lines[0] if lines else type(err).__name__)
        raise SchemaSourceError(f"cannot introspect database {shown}: {detail}") from err


# Driver module -> the pip package that provides it.
_DRIVER_PACKAGES = {
    "psycopg": "'psycopg[binary]' (or pip install 'rrperf[postgres]')",
    "psycopg2": "psycopg2-binary",
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "mysql": "mysql-connector-python",
    "mariadb": "mariadb",
    "asyncpg": "asyncpg",
    "pg8000": "pg8000",
    "oracledb": "oracledb",
    "pyodbc": "pyodbc",
}

# A URL without a driver (``postgresql://``) -> the drivers to try, SQLAlchemy's default first.
_DEFAULT_DRIVERS = {
    "postgresql": (("psycopg2", "postgresql+psycopg2"), ("psycopg", "postgresql+psycopg")),
    "mysql": (("MySQLdb", "mysql+mysqldb"), ("pymysql", "mysql+pymysql")),
    "mariadb": (("MySQLdb", "mariadb+mysqldb"), ("pymysql", "mariadb+pymysql")),
}


def _with_driver(url: URL, shown: str) -> URL:
    """``url`` with an installed driver named when it names none.

    SQLAlchemy picks ``psycopg2`` for ``postgresql://`` and ``mysqlclient`` for ``mysql://``;
    when that one is missing but the other usual driver (``psycopg`` 3, ``PyMySQL``) is
    installed, that one is used. With none installed: a one-line error naming the package.
    """
    import importlib.util

    choices = _DEFAULT_DRIVERS.get(url.drivername)
    if choices is None:
        return url
    for module, drivername in choices:
        if importlib.util.find_spec(module) is not None:
            return url.set(drivername=drivername)
    packages = " or ".join(_DRIVER_PACKAGES[m].split(" (")[0] for m, _ in choices)
    raise MissingDependencyError(
        f"introspecting {shown} needs a {url.drivername} driver; install one with: "
        f"pip install {packages}"
    )


def rails_type(sa_type: Any) -> dict[str, Any]:
    """Map one SQLAlchemy column type to Rails column attributes.

    Parameters
    ----------
    sa_type : sqlalchemy.types.TypeEngine
        A reflected column type.

    Returns
    -------
    dict
        ``type`` (the Rails type name) and, where they apply, ``limit``, ``precision``,
        ``scale``, ``array``, ``enum_type`` and ``enum_values``, ready for :class:`Column`.
    """
    from sqlalchemy import types as sat
    from sqlalchemy.dialects import postgresql as pg

    if isinstance(sa_type, pg.DOMAIN):  # a domain is known by its own name (``vector``)
        return {"type": sa_type.name}
    if isinstance(sa_type, sat.ARRAY):
        inner = rails_type(sa_type.item_type)
        inner["array"] = True
        return inner
    if isinstance(sa_type, sat.Enum):
        return {
            "type": "enum",
            "enum_type": sa_type.name,
            "enum_values": tuple(str(v) for v in sa_type.enums),
        }
    if isinstance(sa_type, pg.JSONB):
        return {"type": "jsonb"}
    if isinstance(sa_type, sat.JSON):
        return {"type": "json"}
    if isinstance(sa_type, sat.Uuid | pg.UUID):
        return {"type": "uuid"}
    if isinstance(sa_type, sat.Boolean):
        return {"type": "boolean"}
    if isinstance(sa_type, sat.BigInteger):
        return {"type": "bigint"}
    if isinstance(sa_type, sat.SmallInteger):
        return {"type": "integer", "limit": 2}
    if isinstance(sa_type, sat.Integer):
        return {"type": "integer"}
    if isinstance(sa_type, sat.Float):
        return {"type": "float"}
    if isinstance(sa_type, sat.Numeric):
        return {"type": "decimal", "precision": sa_type.precision, "scale": sa_type.scale}
    if isinstance(sa_type, sat.DateTime):
        return {"type": "datetime"}
    if isinstance(sa_type, sat.Date):
        return {"type": "date"}
    if isinstance(sa_type, sat.Time):
        return {"type": "time"}
    if isinstance(sa_type, sat.Text):
        return {"type": "text"}
    if isinstance(sa_type, sat.String):
        return {"type": "string", "limit": sa_type.length}
    if isinstance(sa_type, sat.LargeBinary | sat.BINARY | sat.VARBINARY):
        return {"type": "binary"}
    return {"type": _type_name(sa_type)}


def _type_name(sa_type: Any) -> str:
    """The lower-cased SQL name of an unmapped type, without its arguments."""
    name = getattr(sa_type, "__visit_name__", None)
    if not isinstance(name, str) or name in {"null", "user_defined"}:
        name = type(sa_type).__name__
    return name.split("(")[0].strip().lower()


def _reflects(inspector: Inspector, method: str) -> bool:
    """Whether the dialect implements an optional reflection method itself.

    The base ``DefaultDialect`` versions of ``get_check_constraints``,
    ``get_unique_constraints`` and ``get_table_comment`` only raise; dialects that can reflect
    these override them (SQLite, PostgreSQL, MySQL ... do).
    """
    from sqlalchemy.engine.default import DefaultDialect

    own = getattr(type(inspector.dialect), method, None)
    return own is not None and own is not getattr(DefaultDialect, method, None)


def _columns(
    infos: list[Any], pk: tuple[str, ...], enums: dict[str, tuple[str, ...]]
) -> tuple[Column, ...]:
    columns = []
    for info in infos:
        attrs = rails_type(info["type"])
        if attrs["type"] == "enum" and not attrs.get("enum_values") and attrs.get("enum_type"):
            attrs["enum_values"] = enums.get(attrs["enum_type"], ())
        default = reflected.structured(
            reflected.parse_default(info.get("default"), attrs["type"]), attrs["type"],
            bool(attrs.get("array")),
        )
        columns.append(
            Column(
                name=info["name"],
                null=bool(info.get("nullable", True)),
                default=default,
                comment=info.get("comment") or None,
                primary_key=info["name"] in pk,
                **attrs,
            )
        )
    return tuple(columns)


def _reflect(inspector: Inspector) -> tuple[list[Table], list[ForeignKey], list[EnumType]]:
    """Every table of the default schema, read with the inspector's ``get_multi_*`` methods
    (a handful of catalog queries in all on PostgreSQL, whatever the number of tables)."""
    enums: dict[str, tuple[str, ...]] = {}
    enum_types: list[EnumType] = []
    if hasattr(inspector, "get_enums"):
        for info in sorted(inspector.get_enums(), key=lambda e: e["name"]):
            values = tuple(info.get("labels") or ())
            enums[info["name"]] = values
            enum_types.append(EnumType(info["name"], values))

    def each(method: str) -> dict[str, Any]:
        optional = method in {
            "get_multi_unique_constraints", "get_multi_check_constraints",
            "get_multi_table_comment",
        }
        if optional and not _reflects(inspector, method.replace("multi_", "")):
            return {}
        return {key[1]: value for key, value in getattr(inspector, method)().items()}

    columns = each("get_multi_columns")
    pks = each("get_multi_pk_constraint")
    indexes = each("get_multi_indexes")
    uniques = each("get_multi_unique_constraints")
    checks = each("get_multi_check_constraints")
    fk_infos = each("get_multi_foreign_keys")
    comments = each("get_multi_table_comment") if inspector.dialect.supports_comments else {}

    tables: list[Table] = []
    foreign_keys: list[ForeignKey] = []
    for name in sorted(columns):
        pk = tuple((pks.get(name) or {}).get("constrained_columns") or ())
        tables.append(
            Table(
                name=name,
                columns=_columns(columns[name], pk, enums),
                primary_key=pk,
                indexes=reflected.indexes(indexes.get(name) or [], uniques.get(name) or []),
                check_constraints=tuple(
                    CheckConstraint(expression=str(cc["sqltext"]), name=cc.get("name"))
                    for cc in checks.get(name) or []
                ),
                comment=(comments.get(name) or {}).get("text") or None,
            )
        )
        foreign_keys.extend(reflected.foreign_keys(name, fk_infos.get(name) or []))
    return tables, foreign_keys, enum_types


def _check_sqlite_file(url: URL, shown: str) -> None:
    """Refuse a SQLite URL whose file is missing (connecting would create an empty one)."""
    if not url.get_backend_name() == "sqlite":
        return
    database = url.database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return
    if not Path(database).is_file():
        raise SchemaSourceError(f"cannot introspect database {shown}: no such file {database!r}")


def introspect_database(url: str) -> Schema:
    """Read tables, columns, keys, indexes and constraints of a live database.

    Parameters
    ----------
    url : str
        A SQLAlchemy database URL (``sqlite:///path/app.db``, ``postgresql://user@host/db``).

    Returns
    -------
    Schema
        Tables sorted by name (as a ``schema.rb`` lists them), columns in database order,
        foreign keys per table in Rails' dump order (target table, column),
        ``associations=()`` and ``source`` set to the URL without its password.

    Raises
    ------
    SchemaSourceError
        If the URL is invalid, the database cannot be reached, or a SQLite file is missing.
    MissingDependencyError
        If the URL's driver is not installed.

    Warns
    -----
    SchemaWarning
        For each composite foreign key (not representable as one association) that is
        skipped, and for each SQLAlchemy reflection warning (SQLite expression indexes).

    Notes
    -----
    ``postgresql://``, ``postgresql+psycopg2://`` and ``postgresql+psycopg://`` URLs are read
    straight from the catalog (:mod:`rrperf.schema.pgcatalog`: BEGIN, five queries, ROLLBACK)
    with psycopg2 or psycopg 3 (:func:`~rrperf.schema.pgcatalog.direct_driver`), without
    importing SQLAlchemy; other URLs through SQLAlchemy's inspector, with its ``get_multi_*``
    methods in one connection (on PostgreSQL about 15 statements, whatever the number of
    tables). Both are tested against real PostgreSQL servers and must agree. SQLite reports a
    declared type it does not know by its affinity (``geometry`` reads back as ``NUMERIC``, so
    ``decimal``), and SQLAlchemy does not read ``ON DELETE`` of an inline ``REFERENCES`` clause
    there; Rails writes table-level ``FOREIGN KEY`` constraints, which are read fully.
    """
    from rrperf.schema.pgcatalog import direct_driver

    shown = redact_url(url)
    driver = direct_driver(url)
    if driver is not None:
        with _map_errors(url), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tables, foreign_keys, enum_types = _read_postgres(url, driver)
        _reissue(caught, shown)
        logger.debug("introspected %d tables from %s", len(tables), shown)
        return Schema(
            tables=tuple(tables),
            foreign_keys=tuple(foreign_keys),
            enums=tuple(enum_types),
            source=shown,
        )
    return _introspect_sqlalchemy(url)


def _read_postgres(
    url: str, driver: str
) -> tuple[list[Table], list[ForeignKey], list[EnumType]]:
    from rrperf.schema.pgcatalog import connect, fingerprint_first, read_catalog

    conn = connect(url, driver)
    try:
        fingerprint_first(url, conn)  # within a run, before the read, in its transaction
        result = read_catalog(conn)
        conn.rollback()
    finally:
        conn.close()
    return result


def _reissue(caught: list[warnings.WarningMessage], shown: str) -> None:
    """Re-issue what happened during reflection once each, SQLAlchemy's own warnings (such as
    "Skipped unsupported reflection of expression-based index") as SchemaWarning."""
    import sys

    sa_exc = sys.modules.get("sqlalchemy.exc")
    seen: set[tuple[type[Warning], str]] = set()
    for record in caught:
        category = record.category
        if sa_exc is not None and issubclass(category, sa_exc.SAWarning):
            category = SchemaWarning
        key = (category, str(record.message))
        if key not in seen:
            seen.add(key)
            warnings.warn(f"{shown}: {record.message}", category, stacklevel=3)


def _introspect_sqlalchemy(url: str) -> Schema:
    """:func:`introspect_database` through SQLAlchemy's inspector, for any dialect."""
    import sqlalchemy
    from sqlalchemy.engine import make_url

    shown = redact_url(url)
    with _map_errors(url), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parsed = make_url(url)
        _check_sqlite_file(parsed, shown)
        engine = sqlalchemy.create_engine(_with_driver(parsed, shown))
        try:
            with engine.connect() as conn:  # one connection, one transaction
                tables, foreign_keys, enum_types = _reflect(sqlalchemy.inspect(conn))
                conn.rollback()
        finally:
            engine.dispose()
    _reissue(caught, shown)
    logger.debug("introspected %d tables from %s", len(tables), shown)
    return Schema(
        tables=tuple(tables),
        foreign_keys=tuple(foreign_keys),
        enums=tuple(enum_types),
        source=shown,
    )


def catalog_fingerprint(url: str) -> str:
    """A fingerprint of a database's schema, cheap enough to compute on every run.

    For PostgreSQL, one query (:data:`rrperf.schema.pgcatalog.FINGERPRINT_SQL`) hashes the
    identity and ``xmin`` of every catalog row describing relations, columns, defaults,
    comments, constraints, indexes, types and enum labels outside the system schemas: any DDL
    that changes what :func:`introspect_database` would read writes such rows, so it changes
    the fingerprint; data changes, ANALYZE and VACUUM do not. Sent once per URL within a
    :func:`~rrperf.schema.pgcatalog.fingerprint_memo` block. Other databases: the
    :meth:`Schema.fingerprint` of the introspected schema (a full read).

    Parameters
    ----------
    url : str
        A SQLAlchemy database URL.

    Returns
    -------
    str
        ``"pg-catalog:<sum of row hashes>:<rows>"`` for PostgreSQL, a sha256 hex digest otherwise.

    Raises
    ------
    SchemaSourceError, MissingDependencyError
        As :func:`introspect_database`.
    """
    from rrperf.schema.pgcatalog import FINGERPRINT_SQL, direct_driver, fingerprint

    driver = direct_driver(url)
    if driver is not None:
        with _map_errors(url):
            return fingerprint(url, driver)
    import sqlalchemy
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    shown = redact_url(url)
    with _map_errors(url):
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            return introspect_database(url).fingerprint()
        engine = sqlalchemy.create_engine(_with_driver(parsed, shown), poolclass=NullPool)
        try:
            with engine.connect() as sa_conn:
                digest, rows = sa_conn.exec_driver_sql(FINGERPRINT_SQL).one()
                sa_conn.rollback()
        finally:
            engine.dispose()
    return f"pg-catalog:{digest}:{rows}"
