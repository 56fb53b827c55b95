"""The built wheel carries its data: scenarios (with the real schemas' attribution and licence
notices), templates, the runtime declaration, the notebooks; an installed copy works on its own.

The wheel is built with pip (as a user's ``pip install .`` does), installed into a fresh folder
with ``pip install --target``, and a new interpreter imports rrperf from there, away from the
checkout (the working folder is a temporary one, and the folder is first on ``sys.path``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

EXPECTED_DATA = [
    "rrperf/data/scenarios/small.rb",
    "rrperf/data/scenarios/medium.rb",
    "rrperf/data/scenarios/large.rb",
    "rrperf/data/scenarios/polymorphic_heavy.rb",
    "rrperf/data/scenarios/real/basecamp__once-campfire__schema.rb",
    "rrperf/data/scenarios/real/rubygems__rubygems.org__schema.rb",
    "rrperf/data/scenarios/real/Coursemology__coursemology2__schema.rb",
    "rrperf/data/scenarios/real/README.md",
    "rrperf/data/scenarios/real/LICENSES.md",
    "rrperf/generator/runtime/rrperf-runtime.d.ts",
    "rrperf/generator/templates/model.ts.j2",
    "rrperf/notebooks/benchmark_report.ipynb",
    "rrperf/py.typed",
]

# Run by the installed copy: every listed scenario resolves to a file inside the installed
# package, and generating the real campfire schema writes the runtime declaration.
CHECK = """
import json, pathlib, sys, warnings
import rrperf
from rrperf.schema.scenarios import REAL_SCHEMA_DIR, list_scenarios, resolve_scenario
from rrperf.generator import generate
root = pathlib.Path(rrperf.__file__).parent
names = [s.name for s in list_scenarios()]
paths = {n: resolve_scenario(n).source for n in names if not n.startswith("synthetic")}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    result = generate("campfire", sys.argv[1])
print(json.dumps({
    "package": str(root),
    "names": names,
    "inside": all(pathlib.Path(p).is_relative_to(root) and pathlib.Path(p).is_file()
                  for p in paths.values()),
    "notices": sorted(p.name for p in REAL_SCHEMA_DIR.glob("*.md")),
    "n_tables": result.n_tables,
    "runtime": (pathlib.Path(sys.argv[1]) / "rrperf-runtime.d.ts").is_file(),
}))
"""


@pytest.mark.slow
def test_installed_wheel_has_the_scenarios_and_the_runtime(tmp_path: Path) -> None:
    # built from a copy, so that the build leaves nothing in the checkout
    src = tmp_path / "src"
    shutil.copytree(REPO / "rrperf", src / "rrperf",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(src)],
        check=True, capture_output=True, timeout=600,
    )
    (wheel,) = wheels.glob("rrperf-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        members = set(zf.namelist())
        (metadata,) = [m for m in members if m.endswith(".dist-info/METADATA")]
        (entry_points,) = [m for m in members if m.endswith(".dist-info/entry_points.txt")]
        version_line = next(line for line in zf.read(metadata).decode().splitlines()
                            if line.startswith("Version: "))
        scripts = zf.read(entry_points).decode()
    assert [m for m in EXPECTED_DATA if m not in members] == []
    # the version written once, in rrperf/_version.py; the command through rrperf.cli.command
    from rrperf._version import __version__

    assert version_line == f"Version: {__version__}"
    assert "rrperf = rrperf.cli:command" in scripts.splitlines()

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
         str(site), str(wheel)],
        check=True, capture_output=True, timeout=600,
    )
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, str(work / "out")],
        capture_output=True, text=True, check=False, cwd=work, timeout=600,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report == {
        "package": str(site / "rrperf"),
        "names": ["small", "medium", "large", "polymorphic_heavy", "campfire", "rubygems",
                  "coursemology", "synthetic:1000"],
        "inside": True,
        "notices": ["LICENSES.md", "README.md"],
        "n_tables": 15,
        "runtime": True,
    }
