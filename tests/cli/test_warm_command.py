"""The warm ``rrperf generate`` answered before the command line is parsed (rrperf.cli._warm).

It must print what the full command prints (but the time), with the same whole-run key: any
change of what the output depends on (the schema, an output file, rrperf.toml, the
environment) leaves the command to the full path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rrperf import _config_files
from rrperf.cli import _warm, main
from rrperf.config import load_config
from rrperf.generator import manifest

SMALL_RB = Path(__file__).resolve().parents[2] / "rrperf" / "data" / "scenarios" / "small.rb"
WORDS = ["generate", "./small.rb", "--out", "out"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # the configuration search stops here
    shutil.copy(SMALL_RB, tmp_path / "small.rb")
    for name in [n for n in os.environ if n.startswith("RRPERF_")]:
        monkeypatch.delenv(name)


def _warm_up(words: list[str] = WORDS) -> None:
    for _ in range(2):  # cold, then the repeat that verifies the new files by content
        assert main(words) == 0


def _masked(text: str) -> str:
    return re.sub(r" in \d+\.\d{3} s ", " in T s ", text)


def test_answers_as_the_full_command(capsys: pytest.CaptureFixture[str]) -> None:
    _warm_up()
    capsys.readouterr()
    assert _warm.answer(WORDS) == 0
    warm = capsys.readouterr()
    from rrperf.cli import _run

    assert _run(WORDS) == 0  # the parser and generate_cmd (the library's fast path)
    full = capsys.readouterr()
    assert warm.err == full.err == ""
    assert _masked(warm.out) == _masked(full.out) == (
        "pipeline/auto: 4 tables, 14 files (no changes: all 14 files unchanged) in T s -> out"
        f"  digest {full.out.split('digest ')[1]}"
    )
    for strategy in ("cache_heavy", "sequential"):
        words = [*WORDS, f"--strategy={strategy}"]
        assert _warm.answer(words) == 0
        assert capsys.readouterr().out.startswith(f"pipeline/{strategy}: 4 tables, 14 files (no ")


def test_warm_command_imports_no_parser_logging_or_generator(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from rrperf.cli import main\n"
        f"assert main({WORDS!r}) == 0\n"
        "print(sorted(m for m in ('argparse', 'logging', 'typing', 'dataclasses', 'tomllib', "
        "'jinja2', 'sqlalchemy', 'psycopg2', 'hashlib', 'rrperf.config', "
        "'rrperf.engine.strategies', 'rrperf.generator.api', 'rrperf.schema.model') "
        "if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RRPERF_")}
    lines = []
    for _ in range(3):  # cold, warm (verifies the new files by content), warm
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=False, cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr
        lines.append(proc.stdout.splitlines())
    assert "(14 written, 0 unchanged)" in lines[0][0]
    assert "argparse" in lines[0][1] and "rrperf.config" in lines[0][1]
    assert lines[2][0].startswith("pipeline/auto: 4 tables, 14 files (no changes: ")
    assert lines[2][1] == "[]"


def test_every_change_leaves_it_to_the_full_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _warm_up()
    assert _warm.answer(WORDS) == 0

    (tmp_path / "out" / "post.ts").write_text("// edited\n")  # an edited output file
    assert _warm.answer(WORDS) is None
    _warm_up()
    (tmp_path / "out" / "post.ts").unlink()  # a deleted one
    assert _warm.answer(WORDS) is None
    _warm_up()

    (tmp_path / "rrperf.toml").write_text("# nothing set\n")  # a new rrperf.toml
    assert _warm.answer(WORDS) is None
    _warm_up()
    assert _warm.answer(WORDS) == 0  # its run recorded it
    (tmp_path / "rrperf.toml").write_text('exclude_tables = ["comments"]\n')  # edited
    assert _warm.answer(WORDS) is None
    capsys.readouterr()
    assert main(WORDS) == 0
    assert "pipeline/auto: 3 tables, 11 files" in capsys.readouterr().out
    assert main(WORDS) == 0
    assert _warm.answer(WORDS) == 0

    monkeypatch.setenv("RRPERF_EXCLUDE_TABLES", "posts")  # the environment
    assert _warm.answer(WORDS) is None
    monkeypatch.delenv("RRPERF_EXCLUDE_TABLES")
    assert _warm.answer(WORDS) == 0

    with (tmp_path / "small.rb").open("a") as f:  # the schema
        f.write("# a comment\n")
    assert _warm.answer(WORDS) is None


def test_cache_dir_from_the_configuration_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.rrperf.cache]\ndir = "cache-here"\n')
    _warm_up()
    assert sorted(p.name for p in (tmp_path / "cache-here" / "state").iterdir())[0].startswith(
        "manifest-"
    )
    assert _warm.answer(WORDS) == 0
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')  # no [tool.rrperf]
    assert _warm.answer(WORDS) is None
    _warm_up()
    assert (tmp_path / ".rrperf" / "cache" / "state").is_dir()
    assert _warm.answer(WORDS) == 0
    assert _warm.answer([*WORDS, "--cache-dir", "cache-here"]) is None  # another key
    (tmp_path / "rrperf.toml").write_text("[cache]\ndir = 'elsewhere'\n")
    _warm_up()
    assert (tmp_path / "elsewhere" / "state").is_dir()
    assert _warm.answer(WORDS) == 0


@pytest.mark.parametrize(
    "words",
    [
        ["generate", "./small.rb", "--out", "out", "--json"],
        ["generate", "./small.rb", "--out", "out", "--tables", "posts"],
        ["generate", "./small.rb", "--out", "out", "--strategy", "minimal"],
        ["generate", "./small.rb", "--out", "out", "--strategy", "nope"],
        ["generate", "./small.rb", "--out", "out", "--force"],
        ["generate", "./small.rb", "--out", "out", "--out", "out"],
        ["generate", "./small.rb", "--out", "-x"],
        ["generate", "./small.rb", "--out"],
        ["generate", "./small.rb", "small", "--out", "out"],
        ["-v", "generate", "./small.rb", "--out", "out"],
        ["generate", "small", "--out", "out"],  # a scenario name: the registry resolves it
        ["generate", "mysql://u@h/db", "--out", "out"],
        ["bench", "./small.rb", "--out", "out"],
    ],
)
def test_other_command_lines_are_not_answered(words: list[str]) -> None:
    _warm_up()
    assert _warm.answer(words) is None


def test_tables_of_the_full_path_it_copies() -> None:
    from rrperf.engine.strategies import DEFAULT_CACHE_DIR, DEFAULT_STRATEGY, STRATEGIES
    from rrperf.schema.pgcatalog import DIRECT_DRIVERS

    assert set(_warm.MANIFEST_STRATEGIES) == {n for n, s in STRATEGIES.items() if s.keeps_manifest}
    assert _warm.MANIFEST_STRATEGIES[0] == DEFAULT_STRATEGY
    assert _warm._DEFAULT_CACHE_DIR == DEFAULT_CACHE_DIR
    assert set(_warm._DIRECT_SCHEMES) == set(DIRECT_DRIVERS)


def test_config_inputs_is_what_load_config_searched(tmp_path: Path) -> None:
    import dataclasses
    import hashlib

    inputs = _config_files.config_inputs(os.path.realpath(tmp_path), {})
    assert load_config(env={}).inputs == inputs == hashlib.sha256(b"").hexdigest()
    (tmp_path / "rrperf.toml").write_text("exclude_tables = ['a']\n")
    env = {"RRPERF_CACHE_DIR": "c", "HOME": "/nowhere"}
    config = load_config(env=env)
    digest = hashlib.sha256(b"exclude_tables = ['a']\n").hexdigest()
    assert config.inputs == hashlib.sha256(
        f"RRPERF_CACHE_DIR=c\0{os.path.realpath(tmp_path / 'rrperf.toml')}\0{digest}".encode()
    ).hexdigest()
    assert manifest.options_token(config) == f"config-inputs:{config.inputs}"
    assert manifest.options_token(config, runtime=False).endswith("\0no-runtime")
    # a configuration made otherwise is keyed by its values
    changed = dataclasses.replace(config, exclude_tables=("b",))
    assert changed.inputs is None
    assert manifest.options_token(changed) == manifest.config_token(changed)
    assert load_config(env=env, exclude_tables=["b"]).inputs is None


def test_the_recorded_warnings_are_shown_as_the_full_command_shows_them(tmp_path: Path) -> None:
    campfire = SMALL_RB.parent / "real" / "basecamp__once-campfire__schema.rb"
    shutil.copy(campfire, tmp_path / "camp.rb")
    words = ["generate", "./camp.rb", "--out", "out"]
    code = (
        "import sys\n"
        "from rrperf.cli import main\n"
        f"code = main({words!r})\n"
        "print(code, 'argparse' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RRPERF_")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=False, cwd=tmp_path, env=env) for _ in range(3)]
    assert [run.stdout.splitlines()[-1] for run in runs] == ["0 True", "0 False", "0 False"]
    assert runs[0].stderr == runs[2].stderr == (
        'warning: camp.rb:182: skipped create_virtual_table "message_search_index" '
        "(virtual tables are not modelled)\n"
    )
    assert _masked(runs[0].stdout.splitlines()[0]).replace("47 written, 0 unchanged", "x") == (
        _masked(runs[2].stdout.splitlines()[0]).replace("no changes: all 47 files unchanged", "x")
    )
