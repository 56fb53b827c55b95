"""Which host measured a row: comparisons and change points never pair rows of two hosts.

A run on a Dask cluster (:mod:`rrperf.bench.cluster`) fills the measurement table's
``worker`` column with the address of the worker that measured each row
(``tcp://10.0.0.5:40321``); a run on this machine leaves it missing. The *host* of a row is
the host part of that address (``10.0.0.5``), missing for a local run. When a table has any
worker, :func:`rrperf.bench.regress.compare`, :func:`~rrperf.bench.regress.detect_regressions`
and :func:`~rrperf.bench.regress.detect_change_points` add ``host`` to their default
grouping, so that a variant is compared only with the baseline measured on the same host, a
cluster run is checked for regressions only against a baseline measured on the same hosts (two
scenarios measured at once on one machine are not the conditions of one measured alone), and
a history's change points are looked for per host.

The worker's port changes from run to run; its host does not, which is why the host (not
the address) is the key across runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HOST_COLUMN", "host_of", "with_hosts"]

HOST_COLUMN = "host"


def host_of(worker: Any) -> str | None:
    """The host part of a worker address (``tcp://10.0.0.5:40321`` -> ``10.0.0.5``); None for
    a missing value."""
    if not isinstance(worker, str) or not worker:
        return None
    try:
        host = urlsplit(worker if "://" in worker else f"tcp://{worker}").hostname
    except ValueError:
        host = None
    return host or worker


def with_hosts(*frames: pd.DataFrame) -> tuple[list[pd.DataFrame], list[str]]:
    """Add a ``host`` column to every frame when any of them has a worker; return the
    frames and the extra grouping columns (``["host"]`` or ``[]``)."""
    has_worker = any(
        "worker" in f.columns and bool(f["worker"].notna().any()) for f in frames
    )
    if not has_worker or any(HOST_COLUMN in f.columns for f in frames):
        return list(frames), []
    out = []
    for f in frames:
        import pandas as pd

        workers = f["worker"].tolist() if "worker" in f.columns else [None] * len(f)
        hosts = pd.Series([host_of(w) for w in workers], index=f.index, dtype="string")
        out.append(f.assign(**{HOST_COLUMN: hosts}))
    return out, [HOST_COLUMN]
