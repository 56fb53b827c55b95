"""PerformanceMonitor: exact sessions (injected clock and process), alerts, reports, export."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import psutil
import pytest

from rrperf.engine.monitor import (
    Alert,
    AlertThresholds,
    MonitorConfig,
    PerformanceMonitor,
    RealTimeMetrics,
)
from rrperf.errors import BenchmarkError, ConfigError

MB = 1024 * 1024


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class FakeProcess:
    """Scripted psutil.Process stand-in: each read returns the next value."""

    def __init__(
        self,
        rss_mb: list[float],
        cpu: list[float],
        children: list[Any] | None = None,
        pid: int = 100,
    ) -> None:
        self._rss: Iterator[float] = iter(rss_mb)
        self._cpu: Iterator[float] = iter(cpu)
        self._children = children or []
        self.pid = pid

    def oneshot(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def memory_info(self) -> SimpleNamespace:
        return SimpleNamespace(rss=int(next(self._rss) * MB))

    def cpu_percent(self, interval: float | None = None) -> float:
        return next(self._cpu)

    def children(self, recursive: bool = False) -> list[Any]:
        return list(self._children)


class GoneProcess(FakeProcess):
    def memory_info(self) -> SimpleNamespace:
        raise psutil.NoSuchProcess(self.pid)


def manual(
    process: Any, clock: Clock, *, children: bool = False, **thresholds: float
) -> PerformanceMonitor:
    config = MonitorConfig(
        background=False, include_children=children, thresholds=AlertThresholds(**thresholds)
    )
    return PerformanceMonitor(config, clock=clock, process=process)


# --- configuration ----------------------------------------------------------------------------


def test_config_and_threshold_validation() -> None:
    with pytest.raises(ConfigError, match="interval_s must be a positive number of seconds, got 0"):
        MonitorConfig(interval_s=0)
    with pytest.raises(ConfigError, match="include_children must be True or False"):
        MonitorConfig(include_children="yes")  # type: ignore[arg-type]
    monitor = PerformanceMonitor(MonitorConfig(background=False))
    with pytest.raises(
        ConfigError,
        match="unknown alert threshold 'memory_use' \\(did you mean 'memory_usage'\\?\\)",
    ):
        monitor.set_alert_thresholds(memory_use=100)
    with pytest.raises(ConfigError, match="'error_rate' is a percentage in 0-100, got 150"):
        monitor.set_alert_thresholds(error_rate=150)
    with pytest.raises(
        ConfigError, match="'execution_time' must be a positive number of s, got -1"
    ):
        monitor.set_alert_thresholds(execution_time=-1)
    with pytest.raises(ConfigError, match="must be a number or None, got True"):
        monitor.set_alert_thresholds(memory_usage=True)
    assert monitor.thresholds == AlertThresholds()  # nothing changed by the failures
    new = monitor.set_alert_thresholds(memory_usage=512, cache_hit_rate=0)
    assert (new.memory_usage, new.cache_hit_rate, new.error_rate) == (512.0, 0.0, None)
    cfg = MonitorConfig(interval_s=0.05, thresholds={"error_rate": 5})
    assert (cfg.interval_s, cfg.thresholds.error_rate) == (0.05, 5.0)
    # the [monitor] section of rrperf.toml is checked by rrperf.config alone
    assert not hasattr(MonitorConfig, "from_mapping")


# --- sessions ---------------------------------------------------------------------------------


def test_session_summary_exact() -> None:
    clock = Clock(10.0)
    # cpu: the first reading primes psutil's interval at session start
    monitor = manual(FakeProcess(rss_mb=[100, 150], cpu=[0.0, 50.0, 70.0]), clock)
    monitor.start_monitoring_session("generate", {"tables": 15})
    assert monitor.active_session == "generate"
    clock.t = 10.5
    first = monitor.sample_once()
    assert (first.session, first.t_s, first.rss_mb, first.cpu_percent) == (
        "generate",
        10.5,
        100.0,
        50.0,
    )
    clock.t = 11.0
    monitor.sample_once()
    monitor.record_operation()
    monitor.record_error()
    monitor.record_cache_stats(hits=3, misses=1)
    clock.t = 12.0
    summary = monitor.end_monitoring_session()
    assert summary.name == "generate"
    assert summary.duration_s == 2.0
    assert summary.peak_rss_mb == 150.0
    assert summary.mean_cpu_percent == 60.0
    assert summary.n_samples == 2
    assert (summary.errors, summary.operations, summary.error_rate) == (1, 2, 50.0)
    assert (summary.cache_hits, summary.cache_misses, summary.cache_hit_rate) == (3, 1, 75.0)
    assert summary.alerts == ()
    assert summary.metadata == {"tables": 15}
    assert monitor.active_session is None
    assert monitor.summaries == (summary,)


def test_children_are_added_and_vanished_children_dropped() -> None:
    clock = Clock()
    child = FakeProcess(rss_mb=[10, 10], cpu=[25.0, 25.0], pid=2)
    gone = GoneProcess(rss_mb=[], cpu=[], pid=3)
    monitor = manual(
        FakeProcess([100, 100], [0.0, 50.0, 50.0], children=[child, gone]), clock, children=True
    )
    monitor.start_monitoring_session("pool")
    sample = monitor.sample_once()
    assert (sample.rss_mb, sample.cpu_percent, sample.n_children) == (110.0, 75.0, 1)
    monitor.end_monitoring_session()


def test_session_context_counts_an_error_and_reraises() -> None:
    monitor = manual(FakeProcess([], [0.0]), Clock())
    with pytest.raises(KeyError, match="boom"):
        with monitor.session("failing") as run:
            raise KeyError("boom")
    assert run.summary is not None
    assert (run.summary.name, run.summary.errors, run.summary.n_samples) == ("failing", 1, 0)
    assert math.isnan(run.summary.peak_rss_mb) and math.isnan(run.summary.mean_cpu_percent)


def test_session_state_errors() -> None:
    monitor = manual(FakeProcess([], [0.0, 0.0]), Clock())
    with pytest.raises(BenchmarkError, match="no monitoring session is running"):
        monitor.end_monitoring_session()
    with pytest.raises(BenchmarkError, match="no monitoring session is running; start one first"):
        monitor.record_error()
    monitor.start_monitoring_session("one")
    with pytest.raises(BenchmarkError, match="session 'one' is still running"):
        monitor.start_monitoring_session("two")
    with pytest.raises(ConfigError, match="hits must be an integer >= 0, got -1"):
        monitor.record_cache_stats(-1, 0)
    with pytest.raises(ConfigError, match="a session name must be a non-empty string"):
        PerformanceMonitor().start_monitoring_session("")


def test_psutil_error_becomes_benchmark_error() -> None:
    monitor = manual(GoneProcess([], []), Clock())
    with pytest.raises(
        BenchmarkError, match="cannot sample the process memory and CPU: NoSuchProcess"
    ) as info:
        monitor.sample_once()
    assert isinstance(info.value.__cause__, psutil.NoSuchProcess)


def test_real_background_thread_records_samples() -> None:
    monitor = PerformanceMonitor(MonitorConfig(interval_s=0.01))
    monitor.start_monitoring_session("real")
    total = sum(i * i for i in range(20_000))
    summary = monitor.end_monitoring_session()
    assert total > 0
    assert summary.n_samples >= 1
    assert summary.peak_rss_mb > 0
    assert monitor.sampler_error is None


def test_real_time_metrics_is_a_mapping() -> None:
    clock = Clock(5.0)
    monitor = manual(FakeProcess([64], [0.0, 12.5]), clock)
    before = monitor.get_real_time_metrics()
    assert before.session is None and math.isnan(before.rss_mb)
    monitor.start_monitoring_session("live")
    clock.t = 6.5
    monitor.sample_once()
    clock.t = 7.0
    metrics = monitor.get_real_time_metrics()
    assert isinstance(metrics, RealTimeMetrics)
    assert dict(metrics) == {
        "session": "live",
        "elapsed_s": 2.0,
        "rss_mb": 64.0,
        "cpu_percent": 12.5,
        "n_samples": 1,
    }
    assert metrics["rss_mb"] == metrics.rss_mb
    monitor.end_monitoring_session()


# --- alerts -----------------------------------------------------------------------------------


def test_alerts_levels_dedup_callbacks_and_logging(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(0.0)
    monitor = manual(
        FakeProcess(rss_mb=[150, 160, 300], cpu=[0.0, 1.0, 1.0, 1.0]),
        clock,
        memory_usage=120,
        execution_time=10,
        error_rate=10,
        cache_hit_rate=50,
    )
    received: list[Alert] = []
    monitor.add_alert_callback(received.append)
    caplog.set_level(logging.WARNING, logger="rrperf.engine.monitor")
    monitor.start_monitoring_session("<big>")
    clock.t = 1.0
    monitor.sample_once()  # 150 MB > 120: warning
    monitor.sample_once()  # 160 MB: same level, no new alert
    clock.t = 2.0
    monitor.sample_once()  # 300 MB >= 240: critical
    for _ in range(3):
        monitor.record_operation()
    monitor.record_error()  # 25 % failed >= 2 x 10 %: critical
    monitor.record_cache_stats(30, 70)  # 30 % < 50 % minimum: warning (not under 25 %)
    clock.t = 12.0  # 12 s > 10 s: warning
    summary = monitor.end_monitoring_session()
    expected = [
        ("warning", "memory_usage", 150.0, 120.0, 1.0),
        ("critical", "memory_usage", 300.0, 120.0, 2.0),
        ("warning", "execution_time", 12.0, 10.0, 12.0),
        ("critical", "error_rate", 25.0, 10.0, 12.0),
        ("warning", "cache_hit_rate", 30.0, 50.0, 12.0),
    ]
    got = [(a.level, a.metric, a.value, a.threshold, a.time_s) for a in summary.alerts]
    assert got == expected
    assert received == list(summary.alerts) == list(monitor.alerts)
    assert {a.session for a in received} == {"<big>"}
    assert received[0].message == "memory_usage is 150 MB, above 120 MB (session '<big>')"
    assert received[-1].message == (
        "cache_hit_rate is 30 %, below the minimum 50 % (session '<big>')"
    )
    warnings_logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings_logged == [f"{a.level} alert: {a.message}" for a in received]
    frame = monitor.alerts_frame()
    assert frame["metric"].tolist() == [e[1] for e in expected]


def test_broken_callback_is_logged_and_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    monitor = manual(FakeProcess([500], [0.0, 0.0]), Clock(), memory_usage=100)
    seen: list[str] = []

    def broken(alert: Alert) -> None:
        raise RuntimeError("callback bug")

    monitor.add_alert_callback(broken)
    monitor.add_alert_callback(lambda alert: seen.append(alert.level))
    with pytest.raises(ConfigError, match="must be callable"):
        monitor.add_alert_callback("not callable")  # type: ignore[arg-type]
    monitor.start_monitoring_session("s")
    with caplog.at_level(logging.ERROR, logger="rrperf.engine.monitor"):
        monitor.sample_once()
    assert seen == ["critical"]
    assert any("alert callback" in r.getMessage() and r.exc_info for r in caplog.records)
    monitor.end_monitoring_session()


# --- reports and export -----------------------------------------------------------------------


def _finished_monitor() -> PerformanceMonitor:
    clock = Clock(0.0)
    monitor = manual(FakeProcess([100, 200], [0.0, 10.0, 30.0]), clock, memory_usage=150)
    monitor.start_monitoring_session("<script>alert('x')</script>", {"note": "a|b"})
    clock.t = 0.5
    monitor.sample_once()
    clock.t = 1.0
    monitor.sample_once()
    clock.t = 1.5
    monitor.end_monitoring_session()
    return monitor


def test_report_formats_and_html_escaping() -> None:
    monitor = _finished_monitor()
    doc = json.loads(monitor.generate_performance_report("json"))
    assert doc["format_version"] == 1
    assert doc["sessions"][0]["session"] == "<script>alert('x')</script>"
    assert doc["sessions"][0]["peak_rss_mb"] == 200.0
    assert doc["alerts"][0]["metric"] == "memory_usage"

    markdown = monitor.generate_performance_report("markdown")
    lines = markdown.splitlines()
    assert lines[0] == "# Performance report"
    header = lines[4]
    assert header.startswith("| session | started_s | duration_s | peak_rss_mb |")
    assert lines[5].startswith("|---|---|")
    assert "| 1.500 | 200.000 | 20.000 | 2 |" in lines[6]
    # one Markdown escaping rule for every report (rrperf.document.md_escape)
    assert lines[6].startswith("| \\<script\\>alert('x')\\</script\\> | ")
    assert "<script>" not in markdown

    page = monitor.generate_performance_report("html")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page  # Jinja2's autoescape
    assert page.startswith("<!DOCTYPE html>")
    with pytest.raises(ConfigError, match="format must be 'json', 'markdown' or 'html', got 'pdf'"):
        monitor.generate_performance_report("pdf")


@pytest.mark.parametrize("table", ["samples", "sessions", "alerts"])
@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_export_round_trip(tmp_path: Path, fmt: str, table: str) -> None:
    monitor = _finished_monitor()
    frame = {
        "samples": monitor.samples_frame,
        "sessions": monitor.sessions_frame,
        "alerts": monitor.alerts_frame,
    }[table]()
    path = monitor.export_performance_data(tmp_path / f"out.{fmt}", fmt, table=table)
    assert path == tmp_path / f"out.{fmt}"
    if fmt == "json":
        # strict JSON has no NaN: it is written as null and read back as NaN by astype
        back = pd.DataFrame(json.loads(path.read_text())[table]).astype(frame.dtypes.to_dict())
    elif fmt == "csv":
        back = pd.read_csv(path)
    else:
        back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert [p.name for p in tmp_path.iterdir()] == [f"out.{fmt}"]  # no temporary file left


def test_export_json_holds_every_table(tmp_path: Path) -> None:
    monitor = _finished_monitor()
    doc = json.loads(monitor.export_performance_data(tmp_path / "all.json").read_text())
    assert list(doc) == ["format_version", "samples", "sessions", "alerts"]
    assert [s["rss_mb"] for s in doc["samples"]] == [100.0, 200.0]
    with pytest.raises(ConfigError, match="format must be 'json', 'csv' or 'parquet'"):
        monitor.export_performance_data(tmp_path / "x.xlsx", "xlsx")
    with pytest.raises(ConfigError, match="table must be one of samples, sessions, alerts"):
        monitor.export_performance_data(tmp_path / "x.csv", "csv", table="runs")


def test_session_records_the_monitors_own_cpu_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import itertools

    from rrperf.engine import monitor as monitor_module

    ticks = itertools.count()
    monkeypatch.setattr(monitor_module.time, "thread_time", lambda: float(next(ticks)))
    monitor = manual(FakeProcess([100, 100], [0.0, 10.0]), Clock())
    monitor.start_monitoring_session("own-cost")  # thread_time: 0 then 1
    monitor.sample_once()  # sampled by the caller: not counted
    summary = monitor.end_monitoring_session()  # thread_time: 2 then 3
    assert summary.monitor_cpu_s == 2.0
    frame = monitor.sessions_frame()
    assert frame["monitor_cpu_s"].tolist() == [2.0]


def test_background_sampler_reports_its_cpu_time() -> None:
    monitor = PerformanceMonitor(MonitorConfig(interval_s=0.01))
    monitor.start_monitoring_session("sampled")
    deadline = time.monotonic() + 10
    while monitor.get_real_time_metrics().n_samples < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    summary = monitor.end_monitoring_session()
    assert summary.n_samples >= 4  # three background samples and the final one
    assert 0.0 < summary.monitor_cpu_s
