"""Tests for ``rrperf generate`` and ``rrperf scenarios``: output, exit codes, light imports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from rrperf.cli import main
from rrperf.errors import SchemaWarning
from rrperf.generator.digest import output_digest
from rrperf.generator.render import RUNTIME_DTS
from rrperf.schema.scenarios import REAL_SCHEMA_DIR, get_scenario, list_scenarios

REPO = Path(__file__).resolve().parents[2]
RRPERF = REPO / ".venv" / "bin" / "rrperf"
CAMPFIRE = get_scenario("campfire").path  # shipped in the package
assert CAMPFIRE is not None

SMALL_FILES = [
    "comment.ts", "index.ts", "post.ts", "profile.ts", "reactive-comment.ts", "reactive-post.ts",
    "reactive-profile.ts", "reactive-user.ts", "rrperf-runtime.d.ts", "types/comment-data.ts",
    "types/post-data.ts", "types/profile-data.ts", "types/user-data.ts", "user.ts",
]
JSON_KEYS = [
    "impl", "strategy", "n_tables", "files_total", "files_written", "files_unchanged",
    "output_digest", "wall_s", "written", "unchanged", "dry_run", "cache_hits", "cache_misses",
]
BAD_SCHEMA = 'ActiveRecord::Schema[7.1].define(version: 1) do\n  create_table "x" do |t|\n' \
    '    t.string "a"\n  end\n'


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the default strategy keeps its disk cache in ./.rrperf/cache: not in the repository
    monkeypatch.chdir(tmp_path)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["generate", *argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    payload = json.loads(out)
    assert isinstance(payload, dict)
    return payload


def test_generate_json_then_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    first = run_json(capsys, "small", "--out", str(out))
    assert list(first) == JSON_KEYS
    assert first["impl"] == "pipeline"
    assert first["strategy"] == "auto"  # the default strategy
    assert (first["n_tables"], first["files_total"]) == (4, 14)
    assert (first["files_written"], first["files_unchanged"]) == (14, 0)
    assert first["written"] == SMALL_FILES
    assert first["unchanged"] == []
    assert first["dry_run"] is False
    assert first["output_digest"] == output_digest(out)
    assert isinstance(first["wall_s"], float) and first["wall_s"] > 0
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.ts")) == SMALL_FILES
    assert (out / "rrperf-runtime.d.ts").read_bytes() == RUNTIME_DTS.read_bytes()

    second = run_json(capsys, "small", "--out", str(out))
    assert (second["files_written"], second["files_unchanged"]) == (0, 14)
    assert second["written"] == []
    assert second["unchanged"] == SMALL_FILES
    assert second["output_digest"] == first["output_digest"]

    forced = run_json(capsys, "small", "--out", str(out), "--force")
    assert (forced["files_written"], forced["files_unchanged"]) == (14, 0)


def test_generate_summary_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["generate", "small", "--out", str(out)]) == 0
    text, err = capsys.readouterr()
    digest = output_digest(out)
    assert err == ""
    assert re.fullmatch(
        rf"pipeline/auto: 4 tables, 14 files \(14 written, 0 unchanged\) in "
        rf"\d+\.\d{{3}} s -> {re.escape(str(out))}  digest {digest[:12]}\n",
        text,
    )
    assert main(["generate", "small", "--out", str(out)]) == 0
    text, _ = capsys.readouterr()
    assert re.fullmatch(
        rf"pipeline/auto: 4 tables, 14 files \(no changes: all 14 files unchanged\) in "
        rf"\d+\.\d{{3}} s -> {re.escape(str(out))}  digest {digest[:12]}\n",
        text,
    )


def test_generate_legacy_matches_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = []
    for impl, folder in (("legacy", "a"), ("pipeline", "b")):
        argv = [str(CAMPFIRE), "--out", str(tmp_path / folder), "--impl", impl]
        # campfire's virtual table is skipped with a SchemaWarning (stderr: see the
        # subprocess test).
        with pytest.warns(SchemaWarning, match="skipped create_virtual_table"):
            results.append(run_json(capsys, *argv))
    legacy, pipeline = results
    assert legacy["impl"] == "legacy"
    assert legacy["output_digest"] == pipeline["output_digest"]
    assert legacy["files_total"] == pipeline["files_total"]
    assert legacy["n_tables"] == pipeline["n_tables"]


def test_generate_table_selection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    only = run_json(capsys, "small", "--out", str(tmp_path / "a"), "--tables", "users,posts")
    assert only["n_tables"] == 2
    assert only["written"] == [
        "index.ts", "post.ts", "reactive-post.ts", "reactive-user.ts", "rrperf-runtime.d.ts",
        "types/post-data.ts", "types/user-data.ts", "user.ts",
    ]
    rest = run_json(capsys, "small", "--out", str(tmp_path / "b"), "--exclude-tables", "comments")
    assert rest["n_tables"] == 3
    assert "comment.ts" not in rest["written"]  # type: ignore[operator]


def test_generate_dry_run_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["generate", "small", "--out", str(out), "--dry-run"]) == 0
    text, _ = capsys.readouterr()
    assert text.splitlines() == [
        f"dry run (pipeline/auto): 14 files for 4 tables would be written to {out}",
        *(f"  {name}" for name in SMALL_FILES),
    ]
    assert not out.exists()


def test_generate_malformed_schema_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "schema.rb"
    bad.write_text(BAD_SCHEMA, encoding="utf-8")
    assert main(["generate", str(bad), "--out", str(tmp_path / "out")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"rrperf: error: {bad}:5:1: missing `end` of the define block opened at line 1: "
        "found end of file\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], "rrperf: error: unknown scenario 'nope' (and no such file); valid names: "),
        (["small", "--tables", "nope"], "rrperf: error: tables: unknown table 'nope'; "),
    ],
)
def test_generate_user_errors_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["generate", *argv, "--out", str(tmp_path / "o")]) == 1
    _, err = capsys.readouterr()
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_generate_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["generate", "small", "--out", "x", "--impl", "fast"])
    assert info.value.code == 2
    assert "argument --impl: invalid choice: 'fast'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["generate", "small"])
    assert info.value.code == 2


def test_scenarios_lists_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    expected = [
        {"name": s.name, "models": s.expected_models, "origin": s.origin,
         "description": s.description}
        for s in list_scenarios()
    ]
    assert main(["scenarios", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected
    assert [(row["name"], row["models"], row["origin"]) for row in expected] == [
        ("small", 4, "rrperf"), ("medium", 10, "rrperf"), ("large", 18, "rrperf"),
        ("polymorphic_heavy", 14, "rrperf"),
        ("campfire", 15, "basecamp/once-campfire@9310b00, MIT"),
        ("rubygems", 56, "rubygems/rubygems.org@3c8ea0d, MIT"),
        ("coursemology", 176, "Coursemology/coursemology2@6a98b34, MIT"),
        ("synthetic:1000", 1000, "synthetic"),
    ]
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "models", "origin", "description"]
    table = lines[2 : 2 + len(expected)]
    assert [line.split()[0] for line in table] == [row["name"] for row in expected]
    assert lines[2].split()[:3] == ["small", "4", "rrperf"]
    footer = "\n".join(lines[3 + len(expected) :])
    assert lines[2 + len(expected)] == ""
    assert "a schema.rb or SQLite path or a Rails app folder (labelled by its file stem" in footer
    assert "or a database URL" in footer
    assert footer.endswith(f"attribution and licence notices: {REAL_SCHEMA_DIR}")


@pytest.mark.parametrize("name", ["campfire", "rubygems", "coursemology", "synthetic:5"])
def test_generate_accepts_every_listed_name(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)  # campfire's skipped virtual table
        payload = run_json(capsys, name, "--out", str(tmp_path / "o"), "--dry-run")
    assert payload["n_tables"] == get_scenario(name).expected_models


def test_generate_no_runtime(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for impl in ("legacy", "pipeline"):
        out = tmp_path / impl
        payload = run_json(capsys, "small", "--out", str(out), "--impl", impl, "--no-runtime")
        assert payload["files_total"] == 13
        assert "rrperf-runtime.d.ts" not in payload["written"]  # type: ignore[operator]
        assert not (out / "rrperf-runtime.d.ts").exists()
    assert output_digest(tmp_path / "legacy") == output_digest(tmp_path / "pipeline")
    out = tmp_path / "strategy"
    payload = run_json(capsys, "small", "--out", str(out), "--strategy", "parallel",
                       "--no-runtime")
    assert payload["output_digest"] == output_digest(tmp_path / "legacy")


def test_help_says_paths_and_urls_work_as_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("generate", "bench", "analyze", "report", "scenarios"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "SQLite" in text and ("URL" in text or "url" in text), command
        assert "stem" in text or command == "generate", command
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--no-runtime" in text and "rrperf-runtime.d.ts" in text


def test_generate_subprocess_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "schema.rb"
    bad.write_text(BAD_SCHEMA, encoding="utf-8")
    ok = subprocess.run(
        [str(RRPERF), "generate", "small", "--out", str(tmp_path / "a"), "--json"],
        capture_output=True, text=True, check=False,
    )
    assert (ok.returncode, ok.stderr) == (0, "")
    assert json.loads(ok.stdout)["files_written"] == 14
    broken = subprocess.run(
        [str(RRPERF), "generate", str(bad), "--out", str(tmp_path / "b")],
        capture_output=True, text=True, check=False,
    )
    assert broken.returncode == 1
    assert broken.stdout == ""
    assert broken.stderr.startswith(f"rrperf: error: {bad}:5:1: ")
    assert "Traceback" not in broken.stderr and broken.stderr.count("\n") == 1
    warned = subprocess.run(
        [str(RRPERF), "generate", str(CAMPFIRE), "--out", str(tmp_path / "c"), "--json"],
        capture_output=True, text=True, check=False,
    )
    assert warned.returncode == 0
    assert warned.stderr == (
        f"warning: {CAMPFIRE}:182: skipped create_virtual_table \"message_search_index\" "
        "(virtual tables are not modelled)\n"
    )
    assert json.loads(warned.stdout)["n_tables"] == 15
    usage = subprocess.run(
        [str(RRPERF), "generate", "small", "--out", "x", "--impl", "fast"],
        capture_output=True, text=True, check=False,
    )
    assert usage.returncode == 2


def test_generate_imports_no_heavy_packages(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from rrperf.cli import main\n"
        f"rc = main(['generate', 'small', '--out', {str(tmp_path / 'out')!r}])\n"
        "heavy = [m for m in ('pandas', 'scipy', 'matplotlib', 'seaborn', 'ipywidgets',"
        " 'papermill') if m in sys.modules]\n"
        "print(rc, heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "0 []\n"
    assert proc.stdout.startswith(
        "pipeline/auto: 4 tables, 14 files (14 written, 0 unchanged)"
    )
