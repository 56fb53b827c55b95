"""``--cluster ADDRESS`` for ``rrperf bench`` and ``rrperf generate`` (issue 13).

ADDRESS is a Dask scheduler address (``tcp://host:8786``) or ``local:N`` (a LocalCluster of N
single-thread worker processes started for the command); see
:mod:`rrperf.engine.dask_backend`. A missing dask install, a malformed address or an
unreachable scheduler ends the command with one line naming the address (exit 1).
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from rrperf.engine.dask_backend import DEFAULT_CONNECT_TIMEOUT_S, parse_cluster_address


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def add_cluster_options(p: argparse.ArgumentParser, *, what: str) -> None:
    """Add ``--cluster ADDRESS`` and ``--cluster-timeout S`` to ``p``."""
    p.add_argument(
        "--cluster", default=None, metavar="ADDRESS",
        help=f"{what} on a Dask cluster: a scheduler address (tcp://host:8786) or local:N "
        "(N local worker processes started for this command); needs pip install "
        "'rrperf[cluster]'",
    )
    p.add_argument(
        "--cluster-timeout", type=_seconds, default=DEFAULT_CONNECT_TIMEOUT_S, metavar="S",
        help=f"seconds to wait for the scheduler ({DEFAULT_CONNECT_TIMEOUT_S:g})",
    )


def cluster_client(args: argparse.Namespace, stack: contextlib.ExitStack) -> Any:
    """The :class:`distributed.Client` of ``--cluster`` (closed with ``stack``), or None."""
    address = getattr(args, "cluster", None)
    if address is None:
        return None
    parse_cluster_address(address)  # a malformed address fails before anything is imported
    from rrperf.engine.dask_backend import connect

    return stack.enter_context(connect(address, timeout_s=args.cluster_timeout))
