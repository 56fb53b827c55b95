"""The real TypeScript compiler accepts every generated output (``tsc --strict --noEmit``).

One tsc invocation with a strict tsconfig covers every output folder (tsc start-up costs 1-2 s):
the hand-built and hostile schemas, every built-in scenario, ``synthetic:50`` and every real
schema, generated without their own runtime declaration (``runtime=False``, as an application
with its own runtime does) against the shipped one. Then each real schema's folder, as the
generators write it, is checked on its own the way README shows: ``tsc --strict --noEmit`` on
its files, with no tsconfig and nothing else.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path

import pytest
from conftest import (
    REAL_SCHEMA_DIR,
    REAL_SCHEMAS,
    SCENARIO_NAMES,
    build_blog_schema,
    build_hostile_schema,
    load_quietly,
)

from rrperf.errors import SchemaWarning
from rrperf.generator import generate, run_pipeline
from rrperf.generator.render import RUNTIME_DTS

REPO = Path(__file__).resolve().parents[2]
TSC = REPO / "node_modules" / ".bin" / "tsc"


def _tsconfig(folders: list[str]) -> dict[str, object]:
    return {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "skipLibCheck": False,
            "module": "esnext",
            "moduleResolution": "bundler",
            "target": "es2022",
            "lib": ["es2022"],
            "types": [],
            "noUnusedLocals": True,
            "noUnusedParameters": True,
            "forceConsistentCasingInFileNames": True,
        },
        "files": [RUNTIME_DTS.name],
        "include": [f"{folder}/**/*.ts" for folder in folders],
    }


@pytest.mark.slow
def test_generated_code_type_checks(tmp_path: Path) -> None:
    assert TSC.exists(), (
        f"the TypeScript compiler is missing at {TSC}; run `make test` (or `make node`) "
        "to install it with npm"
    )
    schemas = {"blog": build_blog_schema(), "hostile": build_hostile_schema()}
    for name in SCENARIO_NAMES:
        schemas[name.replace(":", "-")] = load_quietly(name)
    for name in REAL_SCHEMAS:
        schemas[name.split("__")[0]] = load_quietly(REAL_SCHEMA_DIR / name)
    assert len(schemas) == 2 + len(SCENARIO_NAMES) + 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        for folder, schema in schemas.items():
            result = run_pipeline(schema, tmp_path / folder, runtime=False)
            assert result.files_total == 3 * len(schema.tables) + 1
    (tmp_path / RUNTIME_DTS.name).write_bytes(RUNTIME_DTS.read_bytes())
    (tmp_path / "tsconfig.json").write_text(json.dumps(_tsconfig(list(schemas)), indent=2))
    proc = subprocess.run(
        [str(TSC), "-p", str(tmp_path / "tsconfig.json"), "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def _tsc_alone(folder: Path) -> subprocess.CompletedProcess[str]:
    """``tsc --strict --noEmit *.ts types/*.ts`` in ``folder``: no tsconfig, no other file."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.ts"))
    assert not (folder / "tsconfig.json").exists()
    return subprocess.run(
        [str(TSC), "--strict", "--noEmit", "--pretty", "false", *files],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.mark.slow
def test_each_real_schema_output_folder_type_checks_on_its_own(tmp_path: Path) -> None:
    assert TSC.exists(), f"the TypeScript compiler is missing at {TSC}; run `make node`"
    # one generator path per schema (all three give the same bytes: test_generate, and the
    # digests below), so that the file each of them writes is the one type-checked
    paths = {"campfire": "legacy", "rubygems": "pipeline", "coursemology": "parallel"}
    for name, how in paths.items():
        folder = tmp_path / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SchemaWarning)
            if how == "parallel":
                result = generate(name, folder, strategy=how)
            else:
                result = generate(name, folder, impl=how)
            again = generate(name, tmp_path / f"{name}-legacy", impl="legacy")
        assert result.output_digest == again.output_digest
        assert (folder / "rrperf-runtime.d.ts").read_bytes() == RUNTIME_DTS.read_bytes()
        proc = _tsc_alone(folder)
        assert (name, proc.returncode, proc.stdout, proc.stderr) == (name, 0, "", "")
    # without the declaration the same folder fails: one TS2307 per file that imports it
    (tmp_path / "campfire" / "rrperf-runtime.d.ts").unlink()
    proc = _tsc_alone(tmp_path / "campfire")
    errors = proc.stdout.splitlines()
    assert proc.returncode == 2
    assert len(errors) == 2 * 15 and all(
        "error TS2307: Cannot find module 'rrperf-runtime'" in e for e in errors
    )
