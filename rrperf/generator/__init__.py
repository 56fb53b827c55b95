"""The ReactiveRecord generator: Rails schema -> TypeScript ActiveRecord/ReactiveRecord models.

Two implementations with byte-identical output: :func:`generate_legacy` (one monolithic pass,
always rewriting, the baseline) and the staged pipeline (:func:`run_pipeline`,
write-if-changed; one path whose configurations are the strategies of
:mod:`rrperf.engine.strategies`, see :mod:`rrperf.generator.pipeline`). :func:`generate` picks
one and loads the schema from any source.

Output, per table: ``types/<kebab>-data.ts`` (``<Model>Data``, ``Create<Model>Data``,
``Update<Model>Data``), ``<kebab>.ts`` (ActiveRecord model) and ``reactive-<kebab>.ts``
(ReactiveRecord model); plus one ``index.ts`` and ``rrperf-runtime.d.ts``. Design decisions:

* Generated files import the runtime from the module ``'rrperf-runtime'``, whose declaration
  is written beside them so the folder type-checks on its own
  (:mod:`rrperf.generator.runtime_file`; ``runtime=False`` leaves it out).
* No wall-clock time anywhere. Only ``index.ts`` names the schema version, so a migration
  that touches one table rewrites that table's files (and the index only when the set of
  models changes or the version does), not every file.
* Name clashes between tables are disambiguated, never rejected
  (:func:`rrperf.generator.naming.assign_model_names`); unsafe file names (``../x``) are
  rejected with :class:`~rrperf.errors.UnsafePathError` before anything is written.
* With ``tables=``/``exclude_tables=``, relationships to models that are not generated are
  left out; model names are still assigned over the whole schema, so a file's content does
  not depend on the filter except for those relationships.
"""

from __future__ import annotations

from rrperf._util import lazy_exports

TYPE_CHECKING = False  # not typing's: a warm command imports no typing (rrperf.cli._warm)

__all__ = [
    "GenerationResult",
    "generate",
    "generate_legacy",
    "output_digest",
    "run_pipeline",
]

# name -> module that defines it, imported on first use (PEP 562): ``rrperf generate`` answers
# a warm repeat from the output manifest without importing Jinja2 or the analysis.
_LAZY: dict[str, tuple[str, ...]] = {
    "rrperf.generator.api": ("generate",),
    "rrperf.generator.digest": ("output_digest",),
    "rrperf.generator.legacy": ("generate_legacy",),
    "rrperf.generator.pipeline": ("run_pipeline",),
    "rrperf.generator.result": ("GenerationResult",),
}

if TYPE_CHECKING:
    from rrperf.generator.api import generate
    from rrperf.generator.digest import output_digest
    from rrperf.generator.legacy import generate_legacy
    from rrperf.generator.pipeline import run_pipeline
    from rrperf.generator.result import GenerationResult


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
