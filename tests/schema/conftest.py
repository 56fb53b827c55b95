"""A real PostgreSQL server for the schema tests, started once per test session.

The server binaries come from Debian's ``postgresql`` package (``make test`` installs it);
:class:`rrperf.schema.pgserver.LocalPostgres` runs ``initdb`` into a temporary folder and
starts the server on a unix socket there (as the ``postgres`` user when the tests run as
root), and removes it at the end.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from rrperf.schema.pgserver import LocalPostgres

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[LocalPostgres]:
    with LocalPostgres(log_statements=True) as server:
        yield server


@pytest.fixture
def pg_database(pg_server: LocalPostgres) -> Callable[[str], str]:
    """Create a fresh database holding ``ddl``; returns its SQLAlchemy URL."""

    def make(ddl: str) -> str:
        return pg_server.create_database(f"t{next(_names)}", ddl)

    return make
