"""Tests for the results contract, BenchmarkResult, its files, and run metadata."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal

import rrperf
import rrperf.bench
from rrperf.bench.metadata import RunMetadata, canonical_json, collect_metadata, new_run_id
from rrperf.bench.results import (
    CORRECTNESS_COLUMNS,
    MEASUREMENT_COLUMNS,
    MEASUREMENT_DTYPES,
    METADATA_COLUMNS,
    METADATA_DTYPES,
    RESULTS_SCHEMA_VERSION,
    WARNING_COLUMNS,
    WARNING_DTYPES,
    BenchmarkResult,
    check_correctness,
    empty_measurements,
    empty_warnings,
    measurements_frame,
    metadata_records,
    read_result,
    sidecar_path,
    validate_measurements,
    warnings_frame,
)
from rrperf.errors import ConfigError, ResultsSchemaError

T0 = datetime(2026, 11, 26, 21, 5, 1, tzinfo=UTC)


def make_row(i: int = 0, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": "20261126T210501Z-3f9a1c",
        "started_at": pd.Timestamp(T0) + pd.Timedelta(seconds=i, nanoseconds=123),
        "scenario": "small",
        "system": "legacy",
        "strategy": "sequential",
        "cache_state": "cold",
        "iteration": i,
        "order": i,
        "warmup": i == 0,
        "wall_s": 0.1 + i / 3,
        "cpu_s": 0.05 + i / 7,
        "peak_rss_mb": 80.5 + i,
        "instructions": np.nan,  # a wall-time run (see test_metrics for counts)
        "n_tables": 15,
        "files_total": 61,
        "files_written": 61 if i == 0 else 0,
        "files_unchanged": 0 if i == 0 else 61,
        "cache_hits": i,
        "cache_misses": 1,
        "output_digest": "d1",
        "error": None,
        "worker": None,
    }
    row.update(overrides)
    return row


def make_metadata(
    run_id: str = "20261126T210501Z-3f9a1c", name: str | None = "nightly"
) -> RunMetadata:
    return RunMetadata(
        run_id=run_id, name=name, rrperf_version="0.1.0", git_revision=None, git_dirty=None,
        python_version="3.11.7", platform="Linux-x86_64", cpu_model="AMD EPYC", cpu_count=2,
        cpu_count_physical=None, memory_total_mb=24105.55859375, config_json='{"iterations":5}',
        schema_version=RESULTS_SCHEMA_VERSION, started_at=T0,
    )


@pytest.fixture
def result() -> BenchmarkResult:
    rows = [make_row(i) for i in range(3)]
    rows += [
        make_row(i, system="pipeline", strategy="parallel", order=10 + i, wall_s=0.05 + i / 9)
        for i in range(3)
    ]
    rows += [make_row(3, scenario="NA", system="pipeline", strategy="null", error="",
                      output_digest=None, peak_rss_mb=float("nan"))]
    rows += [make_row(4, scenario="naïve,\"quoted\"\nline", error="boom: ünïcode")]
    return BenchmarkResult(measurements_frame(rows), make_metadata().to_frame())


# ----------------------------------------------------------------------------- validation


def test_validate_returns_contract_columns_and_dtypes_without_mutating_input() -> None:
    raw = pd.DataFrame([make_row(1)])[list(reversed(MEASUREMENT_COLUMNS))]
    before = raw.copy()
    out = validate_measurements(raw)
    assert tuple(out.columns) == MEASUREMENT_COLUMNS
    assert out.dtypes.astype(str).to_dict() == MEASUREMENT_DTYPES
    assert out["started_at"].iloc[0] == pd.Timestamp("2026-11-26T21:05:02.000000123Z")
    assert_frame_equal(raw, before)


def test_optional_worker_column_is_filled_when_absent() -> None:
    # tables written before issue 13 have no worker column: they read as a local run
    raw = pd.DataFrame([make_row(1)]).drop(columns=["worker"])
    out = validate_measurements(raw)
    assert tuple(out.columns) == MEASUREMENT_COLUMNS
    assert out["worker"].isna().all()
    rows = [{k: v for k, v in make_row(i).items() if k != "worker"} for i in range(2)]
    assert measurements_frame(rows)["worker"].isna().all()


def test_validate_missing_column_message() -> None:
    raw = pd.DataFrame([make_row()]).drop(columns=["cpu_s", "error"])
    msg = r"^measurement table is missing columns: cpu_s, error$"
    with pytest.raises(ResultsSchemaError, match=msg):
        validate_measurements(raw)


def test_validate_unknown_column_message() -> None:
    raw = pd.DataFrame([make_row()]).assign(extra=1)
    with pytest.raises(ResultsSchemaError, match=r"^measurement table has unknown columns: extra$"):
        validate_measurements(raw)


def test_validate_wrong_dtype_message_and_cause() -> None:
    raw = pd.DataFrame([make_row(iteration="abc")])
    with pytest.raises(
        ResultsSchemaError, match=r"^measurement column 'iteration' cannot be read as int64: "
    ) as info:
        validate_measurements(raw)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("iteration", 1.5, "measurement column 'iteration' cannot be read as int64: "
                           "expected whole numbers, got 1.5"),
        ("warmup", "False", "measurement column 'warmup' cannot be read as bool: "
                            "expected True or False, got 'False'"),
        ("warmup", None, "measurement column 'warmup' cannot be read as bool: "
                         "expected True or False, got None"),
        ("started_at", None, "measurement column 'started_at' cannot be read as "
                             "datetime64[ns, UTC]: it has missing values"),
    ],
)
def test_validate_refuses_lossy_conversions(column: str, value: Any, message: str) -> None:
    raw = pd.DataFrame([make_row(0), make_row(1, **{column: value})])
    with pytest.raises(ResultsSchemaError, match=f"^{re.escape(message)}$"):
        validate_measurements(raw)


def test_validate_reads_naive_and_offset_times_as_utc() -> None:
    raw = pd.DataFrame([
        make_row(0, started_at="2026-11-26T22:05:01+01:00"),
        make_row(1, started_at=datetime(2026, 11, 26, 21, 5, 1)),
    ])
    out = validate_measurements(raw)
    assert out["started_at"].tolist() == [pd.Timestamp(T0), pd.Timestamp(T0)]


def test_measurements_frame_row_errors() -> None:
    bad = make_row(1)
    del bad["error"]
    with pytest.raises(ResultsSchemaError, match=r"^measurement row 1 is missing columns: error$"):
        measurements_frame([make_row(0), bad])
    with pytest.raises(ResultsSchemaError, match=r"^measurement row 0 has unknown columns: x$"):
        measurements_frame([{**make_row(0), "x": 1}])


def test_measurements_frame_matches_validate_and_empty_has_dtypes() -> None:
    rows = [make_row(0), make_row(1)]
    assert_frame_equal(measurements_frame(rows), validate_measurements(pd.DataFrame(rows)))
    empty = measurements_frame([])
    assert len(empty) == 0
    assert_frame_equal(empty, empty_measurements())
    assert_frame_equal(validate_measurements(empty), empty)


# ----------------------------------------------------------------------------- files


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_is_exact(result: BenchmarkResult, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / "sub" / f"results{suffix}"
    written = result.save(path)
    assert written == path
    back = read_result(path)
    assert_frame_equal(back.data, result.data, check_exact=True)
    assert_frame_equal(back.metadata, result.metadata, check_exact=True)
    assert back.baseline == "legacy"
    assert back.data["scenario"].tolist()[6:] == ["NA", "naïve,\"quoted\"\nline"]
    assert back.data["strategy"].iloc[6] == "null"
    assert back.data["error"].iloc[6] == ""
    assert pd.isna(back.data["error"].iloc[0])
    assert back.data["started_at"].iloc[1].value == pd.Timestamp(T0).value + 1_000_000_123
    assert np.isnan(back.data["peak_rss_mb"].iloc[6])
    assert pd.isna(back.data["output_digest"].iloc[6])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_of_empty_result(tmp_path: Path, suffix: str) -> None:
    empty = BenchmarkResult(empty_measurements(), baseline="pipeline")
    back = read_result(empty.save(tmp_path / f"e{suffix}"))
    assert_frame_equal(back.data, empty.data)
    assert_frame_equal(back.metadata, empty.metadata)
    assert back.baseline == "pipeline"
    assert tuple(back.metadata.columns) == METADATA_COLUMNS


def test_csv_missing_text_marker_avoids_real_values(tmp_path: Path) -> None:
    rows = [make_row(0, strategy="", error="\\N"), make_row(1, error=None, output_digest="\\NN")]
    res = BenchmarkResult(measurements_frame(rows))
    path = res.to_csv(tmp_path / "r.csv")
    assert json.loads(sidecar_path(path).read_text(encoding="utf-8"))["na_rep"] == "\\NNN"
    back = read_result(path).data
    assert_frame_equal(back, res.data, check_exact=True)
    assert back["error"].tolist() == ["\\N", pd.NA]
    assert back["strategy"].tolist() == ["", "sequential"]


def test_csv_sidecar_contents(result: BenchmarkResult, tmp_path: Path) -> None:
    path = result.to_csv(tmp_path / "r.csv")
    side = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    assert sidecar_path(path) == tmp_path / "r.meta.json"
    assert side["rrperf_results_schema_version"] == RESULTS_SCHEMA_VERSION
    assert side["baseline"] == "legacy"
    assert side["na_rep"] == "\\N"
    assert side["metadata"] == metadata_records(result.metadata)
    assert side["metadata"][0]["started_at"] == "2026-11-26T21:05:01+00:00"
    assert side["metadata"][0]["cpu_count_physical"] is None


def test_parquet_schema_metadata(result: BenchmarkResult, tmp_path: Path) -> None:
    path = result.to_parquet(tmp_path / "r.parquet")
    info = json.loads(pq.read_schema(path).metadata[b"rrperf_results"])
    assert info == {
        "rrperf_results_schema_version": RESULTS_SCHEMA_VERSION,
        "baseline": "legacy",
        "metadata": metadata_records(result.metadata),
        "warnings": [],
    }


# ----------------------------------------------------------------------------- warnings

INET = "audit_events.remote_ip: column type 'inet' has no TypeScript mapping; typed as unknown"


def make_warnings() -> pd.DataFrame:
    return warnings_frame([
        {"scenario": "large", "system": "legacy", "strategy": "", "category": "SchemaWarning",
         "message": INET, "count": 3, "first_iteration": 0},
        {"scenario": "large", "system": "pipeline", "strategy": "sequential",
         "category": "SchemaWarning", "message": INET, "count": 2, "first_iteration": 1},
        {"scenario": "naïve,\"quoted\"\nline", "system": "cmd", "strategy": "",
         "category": "DeprecationWarning", "message": "old | <api>", "count": 1,
         "first_iteration": 4},
    ])


def test_warnings_frame_dtypes_and_empty_default(result: BenchmarkResult) -> None:
    frame = make_warnings()
    assert tuple(frame.columns) == WARNING_COLUMNS
    assert {c: str(t) for c, t in frame.dtypes.items()} == WARNING_DTYPES
    assert_frame_equal(result.warnings, empty_warnings())
    assert_frame_equal(warnings_frame([]), empty_warnings())
    res = BenchmarkResult(result.data, result.metadata, warnings=frame)
    copy = res.warnings
    copy.loc[0, "count"] = 99
    assert res.warnings["count"].tolist() == [3, 2, 1]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_keeps_the_warnings(
    result: BenchmarkResult, tmp_path: Path, suffix: str
) -> None:
    res = BenchmarkResult(result.data, result.metadata, warnings=make_warnings())
    back = read_result(res.save(tmp_path / f"w{suffix}"))
    assert_frame_equal(back.warnings, res.warnings, check_exact=True)
    assert_frame_equal(back.data, res.data, check_exact=True)


def test_warnings_are_stored_as_records(result: BenchmarkResult, tmp_path: Path) -> None:
    res = BenchmarkResult(result.data, result.metadata, warnings=make_warnings())
    side = json.loads(sidecar_path(res.to_csv(tmp_path / "r.csv")).read_text(encoding="utf-8"))
    assert side["warnings"][0] == {
        "scenario": "large", "system": "legacy", "strategy": "", "category": "SchemaWarning",
        "message": INET, "count": 3, "first_iteration": 0,
    }
    info = json.loads(pq.read_schema(res.to_parquet(tmp_path / "r.parquet"))
                      .metadata[b"rrperf_results"])
    assert info["warnings"] == side["warnings"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_files_without_warnings_read_as_empty(
    result: BenchmarkResult, tmp_path: Path, suffix: str
) -> None:
    """Files written before warnings were recorded have no "warnings" key."""
    path = result.save(tmp_path / f"old{suffix}")
    if suffix == ".csv":
        side = sidecar_path(path)
        info = json.loads(side.read_text(encoding="utf-8"))
        del info["warnings"]
        side.write_text(json.dumps(info), encoding="utf-8")
    else:
        table = pq.read_table(path)
        meta = dict(table.schema.metadata)
        info = json.loads(meta[b"rrperf_results"])
        del info["warnings"]
        meta[b"rrperf_results"] = json.dumps(info).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
    back = read_result(path)
    assert_frame_equal(back.warnings, empty_warnings())
    assert_frame_equal(back.data, result.data, check_exact=True)


def test_malformed_warnings_are_refused(result: BenchmarkResult, tmp_path: Path) -> None:
    path = result.to_csv(tmp_path / "r.csv")
    side = sidecar_path(path)
    info = json.loads(side.read_text(encoding="utf-8"))
    info["warnings"] = "SchemaWarning"
    side.write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(ResultsSchemaError, match=r"r\.csv' has malformed rrperf metadata$"):
        read_result(path)
    info["warnings"] = [{"scenario": "s"}]
    side.write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(ResultsSchemaError, match=r"^warnings row 0 is missing columns: system, "):
        read_result(path)


def test_warnings_table_validation() -> None:
    good = make_warnings()
    with pytest.raises(ResultsSchemaError, match=r"^warnings column 'count' must be >= 1, got 0$"):
        BenchmarkResult(empty_measurements(), warnings=good.assign(count=0))
    with pytest.raises(ResultsSchemaError, match=r"^warnings table repeats \('large', 'legacy', "
                       r"'', 'SchemaWarning', \"audit_events"):
        BenchmarkResult(empty_measurements(), warnings=pd.concat([good, good.iloc[:1]]))
    with pytest.raises(ResultsSchemaError,
                       match=r"^warnings column 'first_iteration' cannot be read as int64"):
        BenchmarkResult(empty_measurements(), warnings=good.assign(first_iteration=0.5))


def test_repr_html_lists_the_warnings_escaped(result: BenchmarkResult) -> None:
    page = BenchmarkResult(result.data, warnings=make_warnings())._repr_html_()
    assert (
        "<li>SchemaWarning (×5): audit_events.remote_ip: column type &#x27;inet&#x27; has no "
        "TypeScript mapping; typed as unknown</li><li>DeprecationWarning (×1): old | "
        "&lt;api&gt;</li>"
    ) in page
    assert "Warnings during the run" not in result._repr_html_()


def test_csv_written_by_newer_rrperf(result: BenchmarkResult, tmp_path: Path) -> None:
    path = result.to_csv(tmp_path / "r.csv")
    side = sidecar_path(path)
    info = json.loads(side.read_text(encoding="utf-8"))
    info["rrperf_results_schema_version"] = 3
    side.write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(
        ResultsSchemaError,
        match=r"r\.meta\.json' was written by a newer rrperf \(schema 3 > 1\); upgrade rrperf",
    ):
        read_result(path)


def test_parquet_written_by_newer_rrperf(result: BenchmarkResult, tmp_path: Path) -> None:
    path = result.to_parquet(tmp_path / "r.parquet")
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    info = json.loads(meta[b"rrperf_results"])
    info["rrperf_results_schema_version"] = 3
    meta[b"rrperf_results"] = json.dumps(info).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    with pytest.raises(
        ResultsSchemaError,
        match=r"r\.parquet' was written by a newer rrperf \(schema 3 > 1\); upgrade rrperf",
    ):
        read_result(path)


def test_parquet_without_rrperf_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    empty_measurements().to_parquet(path)
    with pytest.raises(
        ResultsSchemaError,
        match=r"plain\.parquet' is not an rrperf results file: no valid "
              r"rrperf_results_schema_version \(got None\)",
    ):
        read_result(path)


def test_csv_edited_after_writing_is_refused(result: BenchmarkResult, tmp_path: Path) -> None:
    path = result.to_csv(tmp_path / "r.csv")
    path.write_text(path.read_text(encoding="utf-8").replace("small", "large"), encoding="utf-8")
    msg = r"r\.csv' does not match its sidecar 'r\.meta\.json'"
    with pytest.raises(ResultsSchemaError, match=msg):
        read_result(path)


def test_csv_without_sidecar_and_missing_files(result: BenchmarkResult, tmp_path: Path) -> None:
    path = result.to_csv(tmp_path / "r.csv")
    sidecar_path(path).unlink()
    msg = r"r\.csv' has no metadata sidecar 'r\.meta\.json'"
    with pytest.raises(ResultsSchemaError, match=msg):
        read_result(path)
    with pytest.raises(ResultsSchemaError, match=r"^no results file at '.*nope\.csv'$"):
        read_result(tmp_path / "nope.csv")
    with pytest.raises(ResultsSchemaError, match=r"^no results file at '.*nope\.parquet'$"):
        read_result(tmp_path / "nope.parquet")


def test_unknown_suffix(result: BenchmarkResult, tmp_path: Path) -> None:
    msg = r"expected a file name ending in \.csv or \.parquet, got '\.json'"
    with pytest.raises(ConfigError, match=msg):
        read_result(tmp_path / "r.json")
    with pytest.raises(ConfigError, match=msg):
        result.save(tmp_path / "r.json")
    with pytest.raises(ConfigError, match=r"^to_csv needs a path ending in \.csv"):
        result.to_csv(tmp_path / "r.parquet")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_failed_write_leaves_no_partial_file(
    result: BenchmarkResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    target = tmp_path / f"r{suffix}"

    def refuse(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        result.save(target)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_previous_file(
    result: BenchmarkResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = result.to_parquet(tmp_path / "r.parquet")
    before = target.read_bytes()
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError("nope")))
    with pytest.raises(OSError, match="nope"):
        BenchmarkResult(empty_measurements()).to_parquet(target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]


@pytest.fixture
def set_umask() -> Any:
    """Set the process umask for one test and restore the previous one afterwards."""
    previous = os.umask(0o022)
    os.umask(previous)
    try:
        yield os.umask
    finally:
        os.umask(previous)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_get_the_usual_mode(
    result: BenchmarkResult, tmp_path: Path, set_umask: Any, suffix: str, umask: int, mode: int
) -> None:
    set_umask(umask)
    target = result.save(tmp_path / f"r{suffix}")
    written = [target] + ([sidecar_path(target)] if suffix == ".csv" else [])
    assert [oct(p.stat().st_mode & 0o777) for p in written] == [oct(mode)] * len(written)
    # the same mode as a file created with open(), and no temporary file is left behind
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    assert plain.stat().st_mode & 0o777 == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["plain.txt"] + [p.name for p in written]
    )


# ----------------------------------------------------------------------------- correctness


def test_check_correctness_cases() -> None:
    rows = [
        make_row(0, output_digest="A"), make_row(1, output_digest="A"),
        make_row(0, system="pipeline", strategy="parallel", output_digest="A"),
        make_row(0, system="pipeline", strategy="cache_heavy", output_digest="B"),
        make_row(0, system="pipeline", strategy="minimal", output_digest="A"),
        make_row(1, system="pipeline", strategy="minimal", output_digest="C"),
        make_row(0, system="pipeline", strategy="sequential", output_digest=None, error="x"),
        make_row(0, scenario="large", system="pipeline", strategy="parallel", output_digest="L"),
        make_row(0, scenario="huge", output_digest="H1"),
        make_row(1, scenario="huge", output_digest="H2"),
        make_row(0, scenario="huge", system="pipeline", strategy="parallel", output_digest="H1"),
    ]
    out = check_correctness(measurements_frame(rows))
    expected = pd.DataFrame.from_records(
        [
            ("huge", "pipeline", "parallel", "legacy", "H1", None, None,
             "baseline 'legacy' output differs between iterations (2 digests)"),
            ("large", "pipeline", "parallel", "legacy", "L", None, None,
             "baseline 'legacy' has no output digest for this scenario"),
            ("small", "pipeline", "cache_heavy", "legacy", "B", "A", False,
             "output differs from the baseline"),
            ("small", "pipeline", "minimal", "legacy", None, "A", False,
             "output differs between iterations (2 digests)"),
            ("small", "pipeline", "parallel", "legacy", "A", "A", True, None),
            ("small", "pipeline", "sequential", "legacy", None, "A", False,
             "no output digest (every iteration failed)"),
        ],
        columns=list(CORRECTNESS_COLUMNS),
    ).astype({c: "string" for c in CORRECTNESS_COLUMNS} | {"matches_baseline": "boolean"})
    assert_frame_equal(out, expected)


class StatsRecorder:
    """Stands in for rrperf.bench.stats and rrperf.bench.regress and records what
    BenchmarkResult passes on."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, pd.DataFrame, dict[str, Any]]] = []

    def module(self) -> types.ModuleType:
        mod = types.ModuleType("rrperf.bench.stats")

        def record(name: str) -> Any:
            def fn(data: pd.DataFrame, **kws: Any) -> pd.DataFrame:
                self.calls.append((name, data, kws))
                return pd.DataFrame({"called": [name]})
            return fn

        mod.summarize = record("summarize")  # type: ignore[attr-defined]
        mod.compare = record("compare")  # type: ignore[attr-defined]
        mod.stability_warnings = record("stability_warnings")  # type: ignore[attr-defined]
        return mod


@pytest.fixture
def stats_recorder(monkeypatch: pytest.MonkeyPatch) -> StatsRecorder:
    rec = StatsRecorder()
    mod = rec.module()
    for name in ("stats", "regress"):
        monkeypatch.setitem(sys.modules, f"rrperf.bench.{name}", mod)
        monkeypatch.setattr(rrperf.bench, name, mod, raising=False)
    return rec


def test_summary_and_stability_delegate(
    result: BenchmarkResult, stats_recorder: StatsRecorder
) -> None:
    assert result.summary(value="cpu_s", confidence=0.9)["called"].tolist() == ["summarize"]
    assert result.stability(value="wall_s")["called"].tolist() == ["stability_warnings"]
    (n1, d1, k1), (n2, d2, k2) = stats_recorder.calls
    assert (n1, k1) == ("summarize", {
        "value": "cpu_s", "by": None, "confidence": 0.9, "method": "t", "center": "mean",
        "seed": 0, "n_resamples": 9999,
    })
    assert (n2, k2) == ("stability_warnings", {
        "value": "wall_s", "by": None, "cv_threshold": 0.10, "precision": 0.05,
        "timer_resolution_s": None,
    })
    assert_frame_equal(d1, result.data)
    assert_frame_equal(d2, result.data)


def test_compare_drops_variants_with_wrong_output(
    stats_recorder: StatsRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [
        make_row(0), make_row(1),
        make_row(0, system="pipeline", strategy="parallel"),
        make_row(0, system="pipeline", strategy="minimal", output_digest="other"),
        make_row(0, scenario="large", system="pipeline", strategy="minimal"),
    ]
    res = BenchmarkResult(measurements_frame(rows))
    with caplog.at_level("WARNING", logger="rrperf.bench.results"):
        res.compare(threshold=0.05)
    ((name, data, kws),) = stats_recorder.calls
    assert (name, kws) == ("compare", {"baseline": "legacy", "threshold": 0.05})
    assert_frame_equal(data, measurements_frame([rows[0], rows[1], rows[2], rows[4]]))
    assert caplog.messages == [
        "left out of the comparison: small / pipeline / minimal: output differs from the baseline"
    ]
    corr = res.correctness
    assert corr.loc[corr["matches_baseline"].eq(False).fillna(False), "strategy"].tolist() == [
        "minimal"
    ]


def test_compare_with_other_baseline(
    stats_recorder: StatsRecorder, result: BenchmarkResult
) -> None:
    result.compare(baseline="pipeline")
    ((_, data, kws),) = stats_recorder.calls
    assert kws == {"baseline": "pipeline"}
    # Against 'pipeline', the legacy 'small' output has the same digest and the 'NA'/'naïve'
    # scenarios have no pipeline digest: nothing is left out.
    assert_frame_equal(data, result.data)


# ----------------------------------------------------------------------------- display


def test_repr_and_to_frame(result: BenchmarkResult) -> None:
    assert repr(result) == (
        "<BenchmarkResult runs=1 rows=8 scenarios=3 systems=2 baseline='legacy'>"
    )
    frame = result.to_frame()
    assert_frame_equal(frame, result.data)
    frame.loc[0, "scenario"] = "changed"
    assert result.data.loc[0, "scenario"] == "small"


def test_repr_html_escapes_user_strings() -> None:
    evil = "<script>alert(1)</script>"
    rows = [
        make_row(0), make_row(1, scenario=evil),
        make_row(1, scenario=evil, system="<b>sys</b>", strategy="&amp", output_digest="x"),
    ]
    meta = make_metadata(name="<img src=x onerror=alert(2)>").to_frame()
    page = BenchmarkResult(measurements_frame(rows), meta)._repr_html_()
    assert "<script>" not in page and "<b>sys" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert (
        "<li>&lt;script&gt;alert(1)&lt;/script&gt; / &lt;b&gt;sys&lt;/b&gt; / &amp;amp: "
        "output differs from the baseline</li>"
    ) in page
    assert "1 warm-up" in page


def test_repr_html_summary_numbers() -> None:
    rows = [make_row(i, wall_s=w) for i, w in enumerate([9.0, 1.0, 2.0, 4.0])]
    page = BenchmarkResult(measurements_frame(rows))._repr_html_()
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert cells == ["small", "legacy", "sequential", "cold", "3", "2", "1", "4", "0"]
    assert "Correctness notes" not in page


def test_baseline_must_be_named() -> None:
    with pytest.raises(ConfigError, match=r"^baseline must be a non-empty system name, got ''$"):
        BenchmarkResult(empty_measurements(), baseline="")


# ----------------------------------------------------------------------------- metadata


def test_new_run_id_format_and_uniqueness() -> None:
    ids = {new_run_id(now=T0) for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"20261126T210501Z-[0-9a-f]{6}", i) for i in ids)
    assert new_run_id(now=T0) < new_run_id(now=datetime(2026, 11, 26, 21, 5, 2, tzinfo=UTC))
    with pytest.raises(ConfigError, match="timezone-aware"):
        new_run_id(now=datetime(2026, 1, 1))


def test_metadata_frame_dtypes_and_dict_round_trip() -> None:
    meta = make_metadata()
    frame = meta.to_frame()
    assert tuple(frame.columns) == METADATA_COLUMNS
    assert frame.dtypes.astype(str).to_dict() == METADATA_DTYPES
    assert RunMetadata.from_dict(meta.to_dict()) == meta
    assert RunMetadata.from_dict(metadata_records(frame)[0]) == meta
    assert meta.config == {"iterations": 5}


def test_metadata_validation() -> None:
    with pytest.raises(ConfigError, match="^run metadata is missing keys: platform$"):
        partial = make_metadata().to_dict()
        del partial["platform"]
        RunMetadata.from_dict(partial)
    with pytest.raises(ConfigError, match="started_at must be a timezone-aware datetime"):
        RunMetadata(**{**make_metadata().__dict__, "started_at": datetime(2026, 1, 1)})
    with pytest.raises(ConfigError, match="^config_json must be JSON text") as info:
        RunMetadata(**{**make_metadata().__dict__, "config_json": "{"})
    assert isinstance(info.value.__cause__, ValueError)


def test_canonical_json() -> None:
    assert canonical_json(None) == "{}"
    assert canonical_json({"b": [1, 2], "a": Path("/x"), "c": {"z", "y"}}) == (
        '{"a":"/x","b":[1,2],"c":["y","z"]}'
    )
    with pytest.raises(ConfigError, match="^config cannot be stored as JSON: ") as info:
        canonical_json({"f": object()})
    assert isinstance(info.value.__cause__, TypeError)
    with pytest.raises(ConfigError, match="^config cannot be stored as JSON: "):
        canonical_json({"f": float("nan")})


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    )
    return proc.stdout.strip()


def test_collect_metadata_in_a_git_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "f.txt").write_text("one\n", encoding="utf-8")
    _git(repo, "add", "f.txt")
    _git(repo, "commit", "-q", "-m", "c")
    head = _git(repo, "rev-parse", "HEAD")
    meta = collect_metadata(run_id="r1", name="n", config={"b": 1, "a": [1]}, cwd=repo,
                            started_at=T0)
    assert (meta.git_revision, meta.git_dirty) == (head, False)
    assert meta.config_json == '{"a":[1],"b":1}'
    assert (meta.run_id, meta.name, meta.started_at) == ("r1", "n", T0)
    assert meta.rrperf_version == rrperf.__version__
    assert meta.schema_version == RESULTS_SCHEMA_VERSION
    assert meta.python_version == ".".join(map(str, sys.version_info[:3]))
    assert meta.cpu_count == os.cpu_count()
    assert meta.memory_total_mb is not None and meta.memory_total_mb > 0
    (repo / "f.txt").write_text("two\n", encoding="utf-8")
    assert collect_metadata(run_id="r2", cwd=repo).git_dirty is True


def test_collect_metadata_outside_a_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    meta = collect_metadata(run_id="r1", cwd=tmp_path)
    assert (meta.git_revision, meta.git_dirty) == (None, None)
    assert meta.config_json == "{}"
    assert meta.to_frame()["git_revision"].isna().all()


def test_summary_and_stability_with_the_real_stats_module(result: BenchmarkResult) -> None:
    from rrperf.bench import stats
    from rrperf.bench.results import GROUP_COLUMNS, SUMMARY_EXTRA_COLUMNS

    summary = result.summary()
    assert tuple(summary.columns[: len(GROUP_COLUMNS)]) == GROUP_COLUMNS
    assert set(SUMMARY_EXTRA_COLUMNS) <= set(summary.columns)
    assert_frame_equal(summary, stats.summarize(result.data))
    assert_frame_equal(result.stability(), stats.stability_warnings(result.data))
