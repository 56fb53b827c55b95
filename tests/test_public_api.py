"""The public surface: rrperf.__all__ is sorted and complete, and `import rrperf` stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import rrperf

HEAVY = (
    "pandas", "scipy", "matplotlib", "seaborn", "ipywidgets", "papermill", "nbconvert", "psutil",
)


def test_all_is_sorted_and_resolvable() -> None:
    assert rrperf.__all__ == sorted(rrperf.__all__)
    for name in rrperf.__all__:
        assert getattr(rrperf, name) is not None, name


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        rrperf.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("expected AttributeError")


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
