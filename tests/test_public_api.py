"""The public surface: each package's __all__ is complete, importable and documented (the root's
sorted, with every public method of its classes documented too), the notebook API has the
shape it promises, and `import rrperf` stays light."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from typing import Any

import pytest

import rrperf

HEAVY = (
    "pandas", "scipy", "matplotlib", "seaborn", "ipywidgets", "papermill", "nbconvert", "psutil",
)
PACKAGES = (
    "rrperf", "rrperf.bench", "rrperf.engine", "rrperf.generator", "rrperf.optimize",
    "rrperf.report", "rrperf.schema",
)


def _defined_publicly(obj: Any) -> bool:
    """A class or function of a public rrperf module (not a typing helper or a private one)."""
    module = getattr(obj, "__module__", None) or ""
    parts = module.split(".")
    return (inspect.isclass(obj) or inspect.isfunction(obj)) and parts[0] == "rrperf" and not any(
        part.startswith("_") for part in parts
    )


def _doc(obj: Any) -> str:
    return (inspect.getdoc(obj) or "").strip()


def test_root_all_is_sorted() -> None:
    assert rrperf.__all__ == sorted(rrperf.__all__)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_complete_and_each_name_is_its_definition(package: str) -> None:
    module = importlib.import_module(package)
    names = module.__all__
    assert len(names) == len(set(names)), package
    for name in names:
        obj = getattr(module, name)  # resolves (lazily where the package is lazy)
        if _defined_publicly(obj):
            assert obj.__name__ == name, (package, name)  # exported under its own name
            home = importlib.import_module(obj.__module__)
            assert getattr(home, name) is obj, (package, name)
            assert _doc(obj), f"{package}.{name} has no docstring"
    # Complete: every public class or function the package offers is listed.
    offered = {n for n in dir(module) if not n.startswith("_")
               and _defined_publicly(getattr(module, n))}
    assert offered <= set(names), (package, sorted(offered - set(names)))


def test_every_public_method_of_the_root_classes_is_documented() -> None:
    missing = []
    for name in rrperf.__all__:
        cls = getattr(rrperf, name)
        if not inspect.isclass(cls) or not _defined_publicly(cls):
            continue
        for attr, value in vars(cls).items():
            if attr.startswith("_"):
                continue
            func = value.fget if isinstance(value, property) else value
            func = getattr(func, "__func__", func)  # staticmethod, classmethod
            if (inspect.isfunction(func) or isinstance(value, property)) and not _doc(func):
                missing.append(f"{name}.{attr}")
    assert missing == []


def test_star_import_gives_exactly_all() -> None:
    probe = (
        "import json\nns = {}\nexec('from rrperf import *', ns)\n"
        "print(json.dumps(sorted(n for n in ns if n != '__builtins__')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert json.loads(out.stdout) == sorted(rrperf.__all__)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        rrperf.no_such_name  # noqa: B018


# ----------------------------------------------------------------------- signature shapes


def _shape(func: Any) -> list[tuple[str, str]]:
    """(name, kind) of each parameter, ``self`` left out."""
    return [(p.name, p.kind.name) for p in inspect.signature(func).parameters.values()
            if p.name != "self"]


def test_runner_and_executor_short_names_with_the_seed_names_as_aliases() -> None:
    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.engine.parallel import ParallelExecutor

    assert BenchmarkRunner.run_comparative_benchmark is BenchmarkRunner.run
    assert _shape(BenchmarkRunner.run) == [
        ("scenarios", "POSITIONAL_OR_KEYWORD"), ("systems", "KEYWORD_ONLY"),
        ("strategies", "KEYWORD_ONLY"), ("cache_states", "KEYWORD_ONLY"),
    ]
    assert ParallelExecutor.execute_with_dependencies is ParallelExecutor.run
    assert _shape(ParallelExecutor.run) == [
        ("stages", "POSITIONAL_OR_KEYWORD"), ("on_result", "KEYWORD_ONLY"),
    ]


def test_every_chart_takes_its_table_as_data_and_options_by_keyword() -> None:
    import rrperf.report as rr

    charts = [n for n in rr.__all__ if n.endswith("_chart") or n == "memory_timeline"]
    assert len(charts) == 8
    for name in charts:
        (first, *options) = _shape(getattr(rr, name))
        assert first == ("data", "POSITIONAL_OR_KEYWORD"), name
        assert {kind for _, kind in options} <= {"KEYWORD_ONLY", "VAR_KEYWORD"}, name
        assert ("ax", "KEYWORD_ONLY") in options, name


@pytest.mark.parametrize(("method", "function"), [
    ("summary", "summarize"), ("stability", "stability_warnings"),
])
def test_result_statistics_show_the_parameters_of_the_function_they_call(
    method: str, function: str
) -> None:
    from rrperf.bench import stats
    from rrperf.bench.results import BenchmarkResult

    mine = inspect.signature(getattr(BenchmarkResult, method)).parameters
    theirs = inspect.signature(getattr(stats, function)).parameters
    assert [(p.name, p.kind) for p in mine.values()][1:] == [
        (p.name, p.kind) for p in theirs.values()][1:]  # self / data first
    assert mine["value"].default is None  # None: the result's own measured column
    assert {n: p.default for n, p in mine.items() if n not in ("self", "value")} == {
        n: p.default for n, p in theirs.items() if n not in ("data", "value")}


# ----------------------------------------------------------------------- light imports


def _imported_after(code: str) -> list[str]:
    probe = (
        f"import sys, json\n{code}\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_rrperf_is_light() -> None:
    assert _imported_after("import rrperf") == []


def test_generate_path_is_light() -> None:
    # `rrperf generate` imports the CLI, the generator and the schema sources, nothing heavy.
    code = "import rrperf.cli, rrperf.cli.generate_cmd, rrperf.generator.api, rrperf.schema.sources"
    assert _imported_after(code) == []
