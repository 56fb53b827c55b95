"""A real Dask LocalCluster for the cluster tests: 2 worker processes, 1 thread each, no
dashboard (rrperf.engine.dask_backend.connect("local:2")), one per test session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    from rrperf.engine.dask_backend import connect

    with connect("local:2", timeout_s=60) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


@pytest.fixture()
def scheduler_address(dask_client: Any) -> str:
    return str(dask_client.scheduler.address)
