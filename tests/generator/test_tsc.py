"""The real TypeScript compiler accepts every generated output (``tsc --strict --noEmit``).

One tsc invocation covers every output folder (tsc start-up costs 1-2 s): the hand-built and
hostile schemas, every built-in scenario, ``synthetic:50`` and every real schema.
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
from rrperf.generator import run_pipeline
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
            result = run_pipeline(schema, tmp_path / folder)
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
