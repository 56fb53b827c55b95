"""rrperf.cli.main: exit codes and behaviour shared by every subcommand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rrperf.cli import main


def test_closed_stdout_pipe_is_not_an_error(tmp_path: Path) -> None:
    # `rrperf generate ... --dry-run | head -1`: the reader leaves after one line.
    cmd = (
        f"{sys.executable} -m rrperf generate synthetic:400 --out {tmp_path / 'o'} --dry-run"
        " | head -1"
    )
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("dry run (pipeline/auto): 1202 files for 400 tables")
    assert "Traceback" not in proc.stderr


def test_usage_error_exits_2(capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        main(["generate"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("argparse should exit")
    assert "the following arguments are required: source, --out" in capsys.readouterr().err


def test_version_is_the_one_pyproject_declares(capsys) -> None:  # type: ignore[no-untyped-def]
    import tomllib
    from importlib.metadata import version

    import pytest

    import rrperf

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    # written once, in rrperf/_version.py; the installed metadata is built from it
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "rrperf._version.__version__"
    }
    declared = version("rrperf")
    assert rrperf.__version__ == declared
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"rrperf {declared}\n"


def test_command_exits_with_mains_code_and_freezes_what_is_left(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gc

    import pytest

    import rrperf.cli

    monkeypatch.setattr(rrperf.cli, "main", lambda: 3)
    assert gc.get_freeze_count() == 0
    try:
        with pytest.raises(SystemExit) as info:
            rrperf.cli.command()
        assert info.value.code == 3
        assert gc.get_freeze_count() > 0  # left out of the final collection
    finally:
        gc.unfreeze()


def test_python_m_rrperf_exits_with_the_commands_code(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "rrperf", "scenarios"], capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "small" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "rrperf", "generate", str(tmp_path / "missing.rb"), "--out",
         str(tmp_path / "o")], capture_output=True, text=True, check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("rrperf: error: ")
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "o").exists()


_SCRIPT = """
import atexit, gc, sys, threading, time
from pathlib import Path
flag = Path(sys.argv[1])
atexit.register(lambda: flag.write_text(f"atexit ran; collector on: {gc.isenabled()}"))
if sys.argv[2] == "thread":  # a thread the interpreter waits for
    def late():
        time.sleep(0.3)
        Path(str(flag) + ".thread").write_text("done")
    threading.Thread(target=late).start()
sys.argv = ["rrperf", *sys.argv[3:]]
from rrperf.cli import command
command()
"""


def _run_command(
    tmp_path: Path, *words: str, thread: bool = False
) -> subprocess.CompletedProcess[str]:
    import os

    # block-buffered standard output, as a pipe has it by default
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "flag"), "thread" if thread else "-",
         *words], capture_output=True, text=True, check=False, env=env,
    )


def test_generate_ends_at_once_after_the_exit_handlers_with_its_output(tmp_path: Path) -> None:
    import json

    proc = _run_command(tmp_path, "generate", "small", "--out", str(tmp_path / "o"), "--json")
    assert proc.returncode == 0, proc.stderr
    # standard output is flushed before the process ends (a pipe here)
    assert json.loads(proc.stdout)["files_written"] == 14
    # the atexit handlers ran, with the collector off all along
    assert (tmp_path / "flag").read_text() == "atexit ran; collector on: False"
    bad = _run_command(tmp_path, "generate", str(tmp_path / "missing.rb"), "--out",
                       str(tmp_path / "o2"))
    assert bad.returncode == 1
    assert bad.stderr.startswith("rrperf: error: ") and bad.stderr.endswith("\n")


def test_other_commands_keep_the_collector_and_a_normal_exit(tmp_path: Path) -> None:
    proc = _run_command(tmp_path, "scenarios")
    assert proc.returncode == 0, proc.stderr
    assert "small" in proc.stdout
    assert (tmp_path / "flag").read_text() == "atexit ran; collector on: True"


def test_generate_waits_for_a_thread_that_is_not_a_daemon(tmp_path: Path) -> None:
    # the interpreter's normal exit then: the thread finishes its work first
    proc = _run_command(tmp_path, "generate", "small", "--out", str(tmp_path / "o"),
                        thread=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "flag.thread").read_text() == "done"
    assert (tmp_path / "flag").read_text().startswith("atexit ran")
