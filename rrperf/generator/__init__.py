"""The ReactiveRecord generator: Rails schema -> TypeScript ActiveRecord/ReactiveRecord models.

Two implementations with byte-identical output: :func:`generate_legacy` (one monolithic pass,
always rewriting) and the staged pipeline (:func:`build_pipeline` / :func:`run_pipeline`,
write-if-changed). :func:`generate` picks one and loads the schema from any source.
"""

from __future__ import annotations

from rrperf.generator.api import generate
from rrperf.generator.digest import output_digest
from rrperf.generator.legacy import generate_legacy
from rrperf.generator.pipeline import build_pipeline, run_pipeline
from rrperf.generator.result import GenerationResult

__all__ = [
    "GenerationResult",
    "build_pipeline",
    "generate",
    "generate_legacy",
    "output_digest",
    "run_pipeline",
]
