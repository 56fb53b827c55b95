"""``rrperf bench --against REV`` on real temporary git repositories."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import rrperf
from rrperf.bench.against import (
    WORKING,
    WORKTREES,
    generator_command,
    prepare_worktree,
    system_name,
    working_code_root,
)
from rrperf.cli import main
from rrperf.errors import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::rrperf.errors.StabilityWarning")


def git(cwd: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
        "HOME": str(cwd), "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text(".rrperf/\n", encoding="utf-8")
    (root / "rrperf").mkdir()
    return root


def test_worktree_is_created_reused_and_moved(repo: Path) -> None:
    init = repo / "rrperf" / "__init__.py"
    init.write_text('VERSION = "a"\n', encoding="utf-8")
    first = commit(repo, "a")
    init.write_text('VERSION = "b"\n', encoding="utf-8")
    second = commit(repo, "b")

    info = prepare_worktree("HEAD~1", cwd=repo)
    assert info.name == "HEAD_1"
    assert info.commit == first
    assert info.worktree == repo / WORKTREES / "HEAD_1"
    assert (info.worktree / "rrperf" / "__init__.py").read_text("utf-8") == 'VERSION = "a"\n'

    init.write_text('VERSION = "c"\n', encoding="utf-8")
    commit(repo, "c")
    again = prepare_worktree("HEAD~1", cwd=repo)  # the same folder, now at the second commit
    assert (again.worktree, again.commit) == (info.worktree, second)
    assert (again.worktree / "rrperf" / "__init__.py").read_text("utf-8") == 'VERSION = "b"\n'
    listed = git(repo, "worktree", "list", "--porcelain")
    assert listed.count("worktree ") == 2


def test_errors(repo: Path, tmp_path: Path) -> None:
    (repo / "README").write_text("no package\n", encoding="utf-8")
    shutil.rmtree(repo / "rrperf")
    commit(repo, "no package")
    with pytest.raises(ConfigError, match=r"^--against: unknown git revision 'nope' in "):
        prepare_worktree("nope", cwd=repo)
    with pytest.raises(ConfigError, match=r"has no rrperf package at its top level$"):
        prepare_worktree("main", cwd=repo)
    with pytest.raises(ConfigError, match="expected a git revision"):
        prepare_worktree("--all", cwd=repo)
    outside = tmp_path / "outside"
    outside.mkdir()
    with pytest.raises(ConfigError, match=r"^--against: git rev-parse --show-toplevel failed"):
        prepare_worktree("main", cwd=outside)


def test_names_and_command() -> None:
    assert system_name("origin/main") == "origin_main"
    assert system_name("v1.2") == "v1.2"
    assert system_name(WORKING) == "working_rev"
    command, env = generator_command("/somewhere")
    assert command.endswith(" -P -m rrperf generate {schema} --out {out} --force")
    assert env == {"PYTHONPATH": str(Path("/somewhere").resolve())}
    assert working_code_root() == Path(rrperf.__file__).resolve().parent.parent


def test_bench_against_a_revision_end_to_end(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # The repository holds a copy of this rrperf as its "main": the worktree's generator and
    # the working tree's run as two command systems in the same rounds.
    shutil.rmtree(repo / "rrperf")
    shutil.copytree(
        working_code_root() / "rrperf", repo / "rrperf",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    head = commit(repo, "rrperf")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("RRPERF_RUNNING_DIR", str(repo.parent / "running"))
    argv = ["bench", "--against", "main", "--scenarios", "small", "--iterations", "2",
            "--warmup", "0", "--seed", "1", "--format", "json"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == (
        f"against main ({head[:12]}): worktree {repo / WORKTREES / 'main'}; systems 'main' "
        "and 'working' run whole commands with this environment's dependencies"
    )
    payload = json.loads(out)
    rows = payload["rows"]
    assert sorted({r["system"] for r in rows}) == ["main", WORKING]
    assert all(r["error"] is None for r in rows)
    assert len({r["output_digest"] for r in rows}) == 1  # both generate the same files
    assert {r["files_total"] for r in rows} == {14}  # 3 per table, index.ts, the runtime .d.ts
    assert payload["gate"]["baseline"] == "main"
    [row] = payload["gate"]["same_run"]
    assert (row["system"], row["baseline"], row["n"]) == (WORKING, "main", 2)
    # reused on a second run
    assert main([*argv, "--format", "csv"]) == 0
    assert (repo / WORKTREES / "main" / "rrperf" / "__init__.py").is_file()
