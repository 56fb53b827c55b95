"""Render the per-table files and the index from the analysis results, with Jinja2.

Templates live in ``rrperf/generator/templates`` and are compiled once per process: the
:class:`jinja2.Environment` and each template are cached at module level on first use
(nothing is read at import time), and their compiled code is kept in Jinja2's bytecode cache
for the next process (keyed by each template's source, so an edited template compiles
again). Autoescaping is off (the output is TypeScript, not HTML);
every value that lands inside a TypeScript string literal is quoted by
:func:`~rrperf.generator.naming.ts_string` before it reaches a template, and every value
written into a comment goes through the ``comment`` filter.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from rrperf.generator.analyze import (
    DefaultsResult,
    PolymorphicResult,
    RelationshipsResult,
    SchemaContext,
    TypesResult,
)
from rrperf.generator.naming import ts_string

__all__ = ["RUNTIME_DTS", "RUNTIME_MODULE", "compile_templates", "render_index", "render_table"]

#: The runtime declaration file shipped with the generator.
RUNTIME_DTS: Path = Path(__file__).parent / "runtime" / "rrperf-runtime.d.ts"
#: The module name generated files import the runtime from.
RUNTIME_MODULE = "rrperf-runtime"

_TEMPLATES = Path(__file__).parent / "templates"


def _comment(value: object) -> str:
    """Text safe inside a ``/** ... */`` comment, on one line."""
    return " ".join(str(value).replace("*/", "*\\/").split())


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja2's per-user cache of compiled templates (in the temporary folder), so that a new
    process loads the templates' code instead of compiling them again: 0.2-0.35 s of every
    ``rrperf generate`` command on the development machine. ``None`` where Jinja2 finds no
    safe folder for it."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        bytecode_cache=_bytecode_cache(),
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )
    env.filters["comment"] = _comment
    return env


@functools.cache
def _template(name: str) -> jinja2.Template:
    return _environment().get_template(name)


def compile_templates() -> None:
    """Compile every template now (a forked pool worker then renders without compiling)."""
    for path in sorted(_TEMPLATES.glob("*.j2")):
        if not path.name.startswith("_"):
            _template(path.name)


def _primary_key(pk: tuple[str, ...]) -> str:
    if not pk:
        return "null"
    if len(pk) == 1:
        return ts_string(pk[0])
    return "[" + ", ".join(ts_string(k) for k in pk) + "]"


def render_table(
    ctx: SchemaContext,
    table: str,
    types: TypesResult,
    relationships: RelationshipsResult,
    defaults: DefaultsResult,
    polymorphic: PolymorphicResult,
) -> dict[str, str]:
    """The three files of ``table``: relative path -> text.

    Parameters
    ----------
    ctx : SchemaContext
        From :func:`~rrperf.generator.analyze.analyze_schema`.
    table : str
        The table name.
    types, relationships, defaults, polymorphic
        The results of the four per-table steps for ``table``.

    Returns
    -------
    dict of str to str
        ``types/<kebab>-data.ts``, ``<kebab>.ts`` and ``reactive-<kebab>.ts``.
    """
    info = ctx.tables[table]
    kebab = info.kebab
    tab = info.table
    t: dict[str, Any] = {
        "table": table,
        "table_lit": ts_string(table),
        "model": info.model,
        "model_lit": ts_string(info.model),
        "primary_key": _primary_key(tab.primary_key),
        "supports_discard": "true" if tab.column("discarded_at") is not None else "false",
        "properties": types.properties,
        "omit": types.omit,
        "defaults": defaults.defaults,
        "relationships": relationships.relationships,
        "polymorphic": polymorphic,
        "types_import": ts_string(f"./types/{kebab}-data"),
        "model_import": ts_string(f"./{kebab}"),
        "reactive_import": ts_string(f"./reactive-{kebab}"),
    }
    types_path, model_path, reactive_path = info.files
    return {
        types_path: _template("types.ts.j2").render(t=t),
        model_path: _template("model.ts.j2").render(t=t),
        reactive_path: _template("reactive.ts.j2").render(t=t),
    }


def render_index(ctx: SchemaContext) -> str:
    """``index.ts``: re-exports every generated model, reactive model and data type.

    The header names the schema version of the dump (no wall-clock time), so the same
    schema always gives the same bytes.
    """
    models = []
    for name in ctx.selected:
        info = ctx.tables[name]
        models.append(
            {
                "model": info.model,
                "types_import": ts_string(f"./types/{info.kebab}-data"),
                "model_import": ts_string(f"./{info.kebab}"),
                "reactive_import": ts_string(f"./reactive-{info.kebab}"),
            }
        )
    version = ctx.version if ctx.version else "(not declared)"
    return _template("index.ts.j2").render(models=models, version=version)
