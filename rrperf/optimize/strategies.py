"""The execution strategies the optimizer chooses from.

They are defined by the engine (:mod:`rrperf.engine.strategies`) and re-exported here, where
users of :mod:`rrperf.optimize` look for them.
"""

from __future__ import annotations

from rrperf.engine.strategies import (
    STRATEGIES,
    ExecutionContext,
    Strategy,
    get_strategy,
    strategy_names,
)

__all__ = ["STRATEGIES", "ExecutionContext", "Strategy", "get_strategy", "strategy_names"]
