"""rrperf.atomic: the one atomic write, and every module that writes a file through it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rrperf import atomic


def _break_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)


def test_write_text_utf8_lf_parents_and_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "a.md"
    atomic.write_text(target, "é\nline\n")
    assert target.read_bytes() == "é\nline\n".encode()
    assert os.listdir(target.parent) == ["a.md"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("how", ["bytes", "text", "with", "with-fsync"])
def test_failed_rename_keeps_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old\n")
    _break_replace(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        if how == "bytes":
            atomic.write_bytes(target, b"new\n")
        elif how == "text":
            atomic.write_text(target, "new\n")
        else:
            atomic.write_with(target, lambda tmp: tmp.write_text("new\n"), fsync=how != "with")
    assert os.listdir(tmp_path) == ["a.txt"]
    assert target.read_text() == "old\n"


def test_failing_writer_keeps_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.parquet"
    target.write_bytes(b"old")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise ValueError("writer failed")

    with pytest.raises(ValueError, match="writer failed"):
        atomic.write_with(target, half_then_fail)
    assert os.listdir(tmp_path) == ["a.parquet"]
    assert target.read_bytes() == b"old"


def test_leftover_temporary_name_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import itertools

    monkeypatch.setattr(atomic, "_COUNTER", itertools.count())
    leftover = tmp_path / f".a.txt.{os.getpid()}-0.tmp"
    leftover.write_text("killed run")
    atomic.write_bytes(tmp_path / "a.txt", b"new")
    assert (tmp_path / "a.txt").read_bytes() == b"new"
    assert leftover.read_text() == "killed run"


def test_monitor_export_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module that had its own copy now shares these guarantees."""
    from rrperf.engine.monitor import PerformanceMonitor
    from rrperf.errors import BenchmarkError

    export = tmp_path / "m.json"
    export.write_text("old export")
    _break_replace(monkeypatch)
    with pytest.raises(BenchmarkError, match="cannot write .*m.json: No space left"):
        PerformanceMonitor().export_performance_data(export)
    assert os.listdir(tmp_path) == ["m.json"]
    assert export.read_text() == "old export"


def test_create_bytes_writes_a_new_file_only(tmp_path: Path) -> None:
    target = tmp_path / "state" / "m.json"
    assert atomic.create_bytes(str(target), b"first", folder_mode=0o700) is True
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700 & ~_umask()
    assert atomic.create_bytes(str(target), b"second") is False  # exists: left as it was
    assert target.read_bytes() == b"first"
    assert os.listdir(target.parent) == ["m.json"]


def test_create_bytes_removes_a_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space left"):
        atomic.create_bytes(str(tmp_path / "m.json"), b"data")
    assert os.listdir(tmp_path) == []


def test_make_folder_says_whether_it_made_it(tmp_path: Path) -> None:
    assert atomic.make_folder(str(tmp_path / "a" / "b")) is True
    assert atomic.make_folder(str(tmp_path / "a" / "b")) is False
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileExistsError):
        atomic.make_folder(str(tmp_path / "f"))


def test_remove_leftovers_of_one_process_only(tmp_path: Path) -> None:
    names = [".a.ts.4242-0.tmp", ".b.ts.4242-17.tmp", ".a.ts.42421-0.tmp", "a.ts",
             ".a.ts.4242-x.tmp"]
    for name in names:
        (tmp_path / name).write_text("x")
    atomic.remove_leftovers(str(tmp_path), 4242)
    assert sorted(os.listdir(tmp_path)) == [".a.ts.4242-x.tmp", ".a.ts.42421-0.tmp", "a.ts"]
    atomic.remove_leftovers(str(tmp_path / "missing"), 4242)  # no folder: nothing to do


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
