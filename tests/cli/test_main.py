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

    import pytest

    import rrperf

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    assert rrperf.__version__ == declared
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"rrperf {declared}\n"
