"""``rrperf bench --against REV``: the generator of another git revision as a command system.

A git worktree of REV is kept under ``.rrperf/worktrees/`` at the top of the repository
(created once with ``git worktree add --detach``, reused and moved to REV's commit on later
runs) and two command systems run ``python -m rrperf generate {schema} --out {out} --force``
in fresh processes (``-P``: the current folder is not put on ``sys.path``), in the same
interleaved rounds:

* one named after REV (``main``; characters outside ``[A-Za-z0-9._-]`` become ``_``) with
  ``PYTHONPATH`` at the worktree, so ``import rrperf`` finds REV's code;
* ``working``, the same command with ``PYTHONPATH`` at the working tree's code (the folder
  the running ``rrperf`` package was imported from).

Both run the same interpreter, so the **dependencies are those of the current environment**:
a revision that needs other package versions (or a different Python) is not measured as it
would run with its own. Both sides pay the same interpreter start-up (about 0.14 s here),
so whole-command times are compared and the start-up dilutes relative differences.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rrperf.errors import ConfigError

__all__ = ["WORKING", "WORKTREES", "RevisionSystems", "generator_command", "prepare_worktree"]

logger = logging.getLogger(__name__)

#: Folder of the kept worktrees, relative to the repository's top level.
WORKTREES = ".rrperf/worktrees"
#: System name of the working tree's side.
WORKING = "working"
_GIT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class RevisionSystems:
    """What :func:`prepare_worktree` set up: the system name, the commit and the folder."""

    name: str
    commit: str
    worktree: Path


def _git(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False,
            timeout=_GIT_TIMEOUT_S, env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ConfigError(f"--against: cannot run git {' '.join(args)}: {err}") from err
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise ConfigError(f"--against: git {' '.join(args)} failed: {last}")
    return proc.stdout.strip()


def system_name(rev: str) -> str:
    """The system name of a revision: ``rev`` with characters outside ``[A-Za-z0-9._-]``
    replaced by ``_`` (``origin/main`` -> ``origin_main``)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", rev)
    if name == WORKING:
        name = f"{rev}_rev"
    return name


def prepare_worktree(rev: str, cwd: str | os.PathLike[str] | None = None) -> RevisionSystems:
    """Create or reuse the worktree of ``rev`` and check out its commit.

    Parameters
    ----------
    rev : str
        Any git revision (branch, tag, commit, ``HEAD~1``).
    cwd : path, optional
        A folder inside the repository (default: the current directory).

    Raises
    ------
    ConfigError
        Outside a git repository, for an unknown revision, or when git fails (the message
        names the git command and its last error line).
    """
    if not rev or rev.startswith("-"):
        raise ConfigError(f"--against: expected a git revision, got {rev!r}")
    here = Path(cwd) if cwd is not None else Path.cwd()
    top = Path(_git(["rev-parse", "--show-toplevel"], here))
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    except ConfigError:
        raise ConfigError(f"--against: unknown git revision {rev!r} in {top}") from None
    name = system_name(rev)
    folder = top / WORKTREES / name
    if (folder / ".git").exists():
        _git(["checkout", "--quiet", "--detach", "--force", commit], folder)
        logger.info("--against: reused worktree %s at %s", folder, commit[:12])
    else:
        folder.parent.mkdir(parents=True, exist_ok=True)
        # A folder left by a removed worktree is pruned first.
        _git(["worktree", "prune"], top)
        _git(["worktree", "add", "--quiet", "--detach", "--force", str(folder), commit], top)
        logger.info("--against: created worktree %s at %s", folder, commit[:12])
    if not (folder / "rrperf" / "__init__.py").is_file():
        raise ConfigError(
            f"--against: revision {rev!r} ({commit[:12]}) has no rrperf package at its top level"
        )
    return RevisionSystems(name, commit, folder)


def generator_command(code_root: str | os.PathLike[str]) -> tuple[str, dict[str, str]]:
    """The command line and environment that run the generator of the code at ``code_root``.

    Returns
    -------
    (command, env) : str, dict
        A :class:`~rrperf.bench.systems.Command` line (``{schema}`` and ``{out}`` filled in
        per iteration) and the ``PYTHONPATH`` that points ``import rrperf`` at ``code_root``.
    """
    import shlex

    python = shlex.quote(sys.executable)
    command = f"{python} -P -m rrperf generate {{schema}} --out {{out}} --force"
    parts = [str(Path(code_root).resolve())]
    return command, {"PYTHONPATH": os.pathsep.join(parts)}


def working_code_root() -> Path:
    """The folder holding the ``rrperf`` package of this process (the working tree's code)."""
    import rrperf

    return Path(rrperf.__file__).resolve().parent.parent
