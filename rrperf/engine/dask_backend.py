"""Dask distributed for rrperf: connecting to a cluster, and the ``dask`` executor backend.

Generic (it knows nothing of Rails or benchmarks). :mod:`dask` and :mod:`distributed` are
imported inside the functions that use them, so ``import rrperf`` stays light and a missing
install is a one-line :class:`~rrperf.errors.MissingDependencyError`.

Addresses
---------
``--cluster ADDRESS`` and :func:`connect` take either

* a scheduler address, ``tcp://host:8786`` (any address :class:`distributed.Client` takes:
  ``tls://``, ``ws://``...): rrperf connects as a client and leaves the cluster running; or
* ``local:N``: a :class:`distributed.LocalCluster` of N worker **processes** with one thread
  each and no dashboard, started for the block and closed after it. Its workers are not
  daemonic processes (``distributed.worker.daemon: False``), so a ``parallel`` strategy can
  start its own process pool inside a worker, and its scheduler sends a worker a task only
  when a thread is free (``distributed.scheduler.worker-saturation: 1.0``).

The ``dask`` backend
--------------------
:class:`~rrperf.engine.parallel.ParallelExecutor` with ``backend="dask"`` submits its stages
through ``Client.get_executor()`` (a :class:`concurrent.futures.Executor` whose futures are
plain ``concurrent.futures.Future`` objects) of the *current* client,
:func:`distributed.default_client` (the last :class:`~distributed.Client` made in this process,
as Dask collections use it). Its pool size is the number of worker threads of the cluster.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rrperf.errors import ClusterError, ConfigError

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from distributed import Client

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "cluster_threads",
    "connect",
    "current_client",
    "executor_for",
    "is_cluster_failure",
    "parse_cluster_address",
]

logger = logging.getLogger(__name__)

#: How long :func:`connect` waits for a scheduler before giving up.
DEFAULT_CONNECT_TIMEOUT_S = 10.0

_LOCAL = re.compile(r"local:(\d+)")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://\S+")


def parse_cluster_address(address: str) -> int | None:
    """Check ``address``; return N for ``local:N`` and None for a scheduler address.

    Raises
    ------
    ConfigError
        For anything else (an empty string, ``local:0``, a bare host name).
    """
    if not isinstance(address, str) or not address.strip():
        raise ConfigError(f"cluster address must be tcp://host:port or local:N, got {address!r}")
    text = address.strip()
    local = _LOCAL.fullmatch(text)
    if local:
        n = int(local.group(1))
        if n < 1:
            raise ConfigError(f"cluster address {address!r}: local:N needs N >= 1")
        return n
    if text.startswith("local:"):
        raise ConfigError(f"cluster address {address!r}: expected local:N with N >= 1")
    if not _SCHEME.fullmatch(text):
        raise ConfigError(
            f"cluster address {address!r}: expected a scheduler address such as "
            "tcp://host:8786, or local:N"
        )
    return None


def _require_distributed(address: str) -> Any:
    from rrperf._optional import require

    require("dask", needed_by=f"--cluster {address}", extra="cluster")
    return require("distributed", needed_by=f"--cluster {address}", extra="cluster")


@contextlib.contextmanager
def connect(
    address: str, *, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
) -> Iterator[Client]:
    """A :class:`distributed.Client` for ``address`` (see the module notes), for the block.

    The client is the process's default client while the block runs (so the ``dask``
    executor backend uses it). A ``local:N`` cluster is closed when the block ends.

    Raises
    ------
    ConfigError
        For a malformed address.
    MissingDependencyError
        When dask or distributed is not installed (``pip install 'rrperf[cluster]'``).
    ClusterError
        When the scheduler cannot be reached within ``timeout_s`` or the local cluster
        cannot start; the message names the address.
    """
    n_local = parse_cluster_address(address)
    distributed = _require_distributed(address)
    import dask

    with contextlib.ExitStack() as stack:
        # distributed logs its life cycle at INFO; shown only when rrperf's INFO is (-v).
        quiet = logging.getLogger("distributed")
        stack.callback(quiet.setLevel, quiet.level)
        if not logging.getLogger("rrperf").isEnabledFor(logging.INFO):
            quiet.setLevel(logging.WARNING)
        target: Any = address.strip()
        if n_local is not None:
            try:
                # Non-daemonic workers may start process pools; a saturation of 1.0 sends a
                # worker a task only when one of its threads is free, so that tasks spread
                # over idle workers instead of queueing two on one (the default 1.1 rounds
                # up to two slots for a one-thread worker).
                with dask.config.set({
                    "distributed.worker.daemon": False,
                    "distributed.scheduler.worker-saturation": 1.0,
                }):
                    # No dashboard; the scheduler's plain HTTP server (health routes) on a free
                    # port rather than 8787, which another cluster may hold (distributed
                    # then warns and moves).
                    cluster = distributed.LocalCluster(
                        n_workers=n_local, threads_per_worker=1, processes=True,
                        dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                    )
            except Exception as err:
                raise ClusterError(f"cannot start the Dask cluster {address}: {err}") from err
            stack.callback(cluster.close)
            target = cluster
        try:
            client = distributed.Client(target, timeout=f"{timeout_s}s", set_as_default=True)
        except (OSError, TimeoutError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {first}") from err
        stack.callback(client.close)
        logger.info(
            "connected to %s: %d worker(s), %d thread(s)", address,
            len(client.scheduler_info().get("workers", {})), cluster_threads(client),
        )
        yield client


def current_client() -> Client:
    """The process's default :class:`distributed.Client`.

    Raises
    ------
    MissingDependencyError
        When distributed is not installed.
    ConfigError
        When no client exists (make one, or use :func:`connect`).
    """
    from rrperf._optional import require

    distributed = require("distributed", needed_by="the dask executor backend", extra="cluster")
    try:
        client: Client = distributed.default_client()
    except ValueError:
        raise ConfigError(
            "the dask executor backend needs a distributed.Client: create one "
            "(distributed.Client('tcp://host:8786')) or use --cluster ADDRESS"
        ) from None
    return client


def cluster_threads(client: Client | None = None) -> int:
    """Worker threads of the cluster (at least 1)."""
    client = client if client is not None else current_client()
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def executor_for(client: Client | None = None) -> Executor:
    """A :class:`concurrent.futures.Executor` submitting to ``client`` (default: the current
    client), as ``Client.get_executor()`` gives it."""
    client = client if client is not None else current_client()
    executor: Executor = client.get_executor()  # type: ignore[no-untyped-call]
    return executor


def is_cluster_failure(err: BaseException) -> bool:
    """True when ``err`` means the cluster (not the task) failed: a worker died too often
    (``KilledWorker``), the connection closed, or the future was cancelled."""
    import sys
    from concurrent.futures import CancelledError

    if isinstance(err, CancelledError):
        return True
    if "distributed" not in sys.modules:
        return False
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    return isinstance(err, KilledWorker | CommClosedError)

