"""Headless matplotlib for the chart tests, with figures closed and global state checked."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def close_figs() -> Iterator[None]:
    """Close every figure a test opened (seaborn's ``close_figs``)."""
    yield
    plt.close("all")


@pytest.fixture(autouse=True)
def no_show(monkeypatch: pytest.MonkeyPatch) -> None:
    """Charts must never call ``plt.show()``."""

    def _show(*args: object, **kwargs: object) -> None:
        raise AssertionError("a chart called plt.show()")

    monkeypatch.setattr(plt, "show", _show)


@pytest.fixture(autouse=True)
def rcparams_untouched() -> Iterator[None]:
    """Charts change no global style: rcParams are identical after every test."""
    before = matplotlib.rcParams.copy()
    yield
    after = matplotlib.rcParams.copy()
    changed = sorted(k for k in before if before[k] != after[k])
    assert not changed, f"rcParams changed: {changed}"
