"""Generic execution engine: stages, parallel executor, cache, monitor (no Rails knowledge)."""

from rrperf.engine.stages import Pipeline, Stage

__all__ = ["Pipeline", "Stage"]
