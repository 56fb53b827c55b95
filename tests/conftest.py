"""Fixtures shared by every test folder."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The process ids ``os.fork`` returns in this process during the test (a run's forked
    workers)."""
    pids: list[int] = []
    real = os.fork

    def spy() -> int:
        pid = real()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", spy)
    return pids
