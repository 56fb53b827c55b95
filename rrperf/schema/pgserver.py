"""A throwaway local PostgreSQL server, for tests and benchmarks.

:class:`LocalPostgres` runs ``initdb`` into a fresh temporary folder, starts ``postgres``
listening on a unix socket in that folder (and, if asked, on a free TCP port of
``127.0.0.1``), and removes everything on :meth:`~LocalPostgres.stop`. It needs the server
binaries of Debian's ``postgresql`` package (found under ``/usr/lib/postgresql/*/bin``, newest
first, or on ``PATH``). PostgreSQL refuses to run as root, so when the caller is root the
server runs as the ``postgres`` user (created by that package) through ``runuser``.

Nothing here is imported by ``import rrperf``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from rrperf.errors import RrperfError

__all__ = ["LocalPostgres", "PostgresNotAvailable", "find_server_binaries"]


class PostgresNotAvailable(RrperfError):
    """The PostgreSQL server binaries (``initdb``, ``pg_ctl``) are not installed."""


def find_server_binaries() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Debian installs them under ``/usr/lib/postgresql/<major>/bin`` (not on ``PATH``); the
    newest major version there wins, then ``PATH``.

    Raises
    ------
    PostgresNotAvailable
        If no such folder exists (``make test`` installs Debian's ``postgresql``).
    """

    def major(path: str) -> tuple[int, str]:
        part = Path(path).parent.name
        return (int(part) if part.isdigit() else -1, part)

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True):
        if all((Path(folder) / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    raise PostgresNotAvailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin "
        "or on PATH; install Debian's postgresql package (make test does)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalPostgres:
    """A PostgreSQL server in a temporary folder; a context manager.

    Parameters
    ----------
    tcp : bool
        Also listen on ``127.0.0.1`` at a free port (tools that cannot use a unix socket).
    log_statements : bool
        Log every statement the server receives (``log_statement = all``), for
        :meth:`statements`.
    base : path-like or None
        Folder to create the temporary folder in (default: the system's temporary folder;
        it must be reachable by the ``postgres`` user when running as root).

    Attributes
    ----------
    folder : Path
        The temporary folder (data directory ``data``, socket, log ``server.log``).
    port : int
        The port number (the socket file is named after it even without ``tcp``).
    """

    user = "postgres"

    def __init__(
        self,
        *,
        tcp: bool = False,
        base: str | os.PathLike[str] | None = None,
        log_statements: bool = False,
    ) -> None:
        self.tcp = tcp
        self.log_statements = log_statements
        self.base = base
        self.bin = find_server_binaries()
        self.folder = Path()
        self.port = _free_port() if tcp else 5432
        self._run_as: list[str] = []
        self._started = False

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> LocalPostgres:
        """``initdb`` and start the server; waits until it accepts connections."""
        self.folder = Path(tempfile.mkdtemp(prefix="rrperf-pg-", dir=self.base))
        if os.geteuid() == 0:
            import pwd

            try:
                entry = pwd.getpwnam(self.user)
            except KeyError as err:
                shutil.rmtree(self.folder, ignore_errors=True)
                raise PostgresNotAvailable(
                    "running as root needs the 'postgres' user (Debian's postgresql package "
                    "creates it) to run the server"
                ) from err
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            self._run_as = ["runuser", "-u", self.user, "--"]
        data = self.folder / "data"
        try:
            self._run(
                str(self.bin / "initdb"), "-D", str(data), "-U", self.user, "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync",
            )
            listen = "127.0.0.1" if self.tcp else ""
            options = (
                f"-k {self.folder} -p {self.port} -c listen_addresses='{listen}' "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            if self.log_statements:
                options += " -c log_statement=all -c log_line_prefix='%d|'"
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "server.log"),
                "-o", options, "-w", "-t", "60", "start",
            )
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self._started = True
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        if self._started:
            self._started = False
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast",
                "-w", "stop", check=False,
            )
        if self.folder != Path():
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, *argv: str, check: bool = True) -> None:
        proc = subprocess.run(
            [*self._run_as, *argv], capture_output=True, text=True, check=False
        )
        if check and proc.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RrperfError(
                f"{Path(argv[0]).name} failed ({proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()[-2000:]}\n{tail}"
            )

    @contextlib.contextmanager
    def statements(self, database: str) -> Iterator[list[str]]:
        """The statements the server received for ``database`` within the block.

        Read from the server's log (the server must run with ``log_statements=True``): one
        entry per statement, ``BEGIN`` and ``ROLLBACK`` included, whatever the client.
        """
        if not self.log_statements:
            raise ValueError("this server was started without log_statements=True")
        log = self.folder / "server.log"
        start = log.stat().st_size
        found: list[str] = []
        yield found
        # A backend writes its log line before it answers, so the lines are there by now.
        with log.open("rb") as fh:
            fh.seek(start)
            text = fh.read().decode(errors="replace")
        prefix = f"{database}|LOG:  "
        for line in text.splitlines():
            if line.startswith(prefix):
                entry = line[len(prefix):]
                for kind in ("statement: ", "execute <unnamed>: "):
                    if entry.startswith(kind):
                        found.append(entry[len(kind):])
                        break
                else:
                    if entry.startswith("execute "):
                        found.append(entry.split(": ", 1)[-1])

    # -- connections ---------------------------------------------------------------------
    def url(self, database: str = "postgres", *, driver: str = "", tcp: bool = False) -> str:
        """A SQLAlchemy URL of ``database`` (over the unix socket unless ``tcp``), naming
        ``driver`` (``psycopg``, ``psycopg2``) if given."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        if tcp:
            if not self.tcp:
                raise ValueError("this server was started without tcp=True")
            return f"{scheme}://{self.user}@127.0.0.1:{self.port}/{database}"
        return f"{scheme}://{self.user}@/{database}?host={self.folder}&port={self.port}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run ``sql`` (one or many statements) in autocommit mode."""
        from rrperf.schema.pgcatalog import connect, direct_driver

        url = self.url(database)
        conn = connect(url, direct_driver(url) or "psycopg2")  # else: ImportError
        try:
            conn.autocommit = True
            conn.cursor().execute(sql)
        finally:
            conn.close()

    def create_database(self, name: str, ddl: str = "") -> str:
        """Create database ``name``, run ``ddl`` in it; its SQLAlchemy URL."""
        self.execute(f'CREATE DATABASE "{name}"')
        if ddl:
            self.execute(ddl, name)
        return self.url(name)
