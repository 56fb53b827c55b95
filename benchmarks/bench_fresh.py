"""The generator as users run it: every run a new process (issue 10; run on demand).

Each measurement starts ``python -m rrperf generate SOURCE --out out --json [--strategy S]``
as a new process, in its own work folder (the strategies keep their disk cache and output
manifests in ``./.rrperf/cache`` there), and records two times:

* **whole command**: from starting the process to its exit (interpreter start-up, imports,
  the run, pool shut-down), measured here with ``time.perf_counter``;
* **in-process**: ``wall_s`` of the printed JSON (loading the schema and generating, as
  :func:`rrperf.generator.api.generate` measures it);
* **its CPU**: user + system CPU time of the whole command (``getrusage`` of the child),
  which a loaded machine inflates far less than wall times.

Variants are interleaved (the order rotates every repetition) and medians reported.

Benchmarks::

    warm     coursemology2: legacy against `cache_heavy` and the default strategy, each
             repeated on its own output folder after one unmeasured cold run (a warm repeat
             in a new process)
    cold     synthetic:2000: `--strategy parallel` against `--strategy sequential`, output
             folder and cache removed before every run
    crossover  cold parallel against sequential on synthetic:N for several N; with
             ``--pool-from 0`` the parallel runs fork their workers at every size (the
             generator's POOL_START_MIN_TABLES moved for those runs), to time where workers
             pay rather than the threshold itself
    default  cold and warm: legacy against the default strategy on several sources

``--installed`` runs this checkout's commands from a wheel of it installed into a new venv
(its dependencies taken from this one), as a user has rrperf: without the editable install's
finder that a development venv imports at every start-up. ``--base DIR`` runs the same
commands against another checkout of the project (its ``rrperf``
package first on ``PYTHONPATH``), interleaved with this one, for before/after figures; a
variant's label then ends in ``@base``. The base's ``rrperf generate`` without ``--strategy``
is whatever that checkout runs by default. ``--work /dev/shm`` puts output folders and caches
on tmpfs. Both checkouts are byte-compiled first (``compileall``): a user's installation has
its ``.pyc`` files, and this machine sets ``PYTHONDONTWRITEBYTECODE``.

Usage::

    python benchmarks/bench_fresh.py warm --repeats 9 [--base ../i10-base] [--work /dev/shm]
    python benchmarks/bench_fresh.py cold --repeats 9 --work /dev/shm
    python benchmarks/bench_fresh.py crossover --sizes 50,100,200,400,800 --repeats 7
    python benchmarks/bench_fresh.py crossover --sizes 100,250,500,1000,1500,2000 --pool-from 0
    python benchmarks/bench_fresh.py default --repeats 7
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generate import load_average, resolve, write_result  # noqa: E402

HERE = Path(__file__).resolve().parents[1]


@dataclass
class Variant:
    label: str
    source: str
    args: list[str]
    root: Path  # the checkout whose rrperf runs
    warm: bool
    folder: Path = Path()
    whole: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    written: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system CPU of the whole command
    pool_from: int | None = None  # POOL_START_MIN_TABLES for this run (crossover --pool-from)
    python: str = sys.executable  # another venv's for --installed (its rrperf, no PYTHONPATH)

    def command(self) -> list[str]:
        argv = ["generate", self.source, "--out", "out", "--json", *self.args]
        if self.pool_from is None:
            return [self.python, "-m", "rrperf", *argv]
        # the same command with the generator's pool threshold moved, to time a pool below it
        # (through the same entry point as `-m rrperf`: `rrperf.cli.command`, which leaves the
        # objects alive at exit out of the final collection; `main` in older checkouts)
        code = (
            "import sys\n"
            "import rrperf.generator.cached as c\n"
            f"c.POOL_START_MIN_TABLES = {self.pool_from}\n"
            f"sys.argv = ['rrperf', *{argv!r}]\n"
            "try:\n"
            "    from rrperf.cli import command\n"
            "except ImportError:\n"
            "    from rrperf.cli import main\n"
            "    raise SystemExit(main())\n"
            "command()\n"
        )
        return [self.python, "-c", code]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.python == sys.executable:
            env["PYTHONPATH"] = str(self.root)
        return env

    def run(self) -> tuple[float, dict[str, Any]]:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(self.command(), cwd=self.folder, env=self.env(),
                              capture_output=True, text=True, check=False)
        whole = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu.append(after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"{self.label}: exit {proc.returncode}: {proc.stderr.strip()}")
        return whole, json.loads(proc.stdout)

    def reset(self) -> None:
        for name in ("out", ".rrperf"):
            shutil.rmtree(self.folder / name, ignore_errors=True)


def compile_tree(root: Path) -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "rrperf")],
                   check=True, stdout=subprocess.DEVNULL)


def measure(variants: list[Variant], repeats: int, work: Path) -> None:
    for i, v in enumerate(variants):
        v.folder = work / f"v{i}"
        v.folder.mkdir(parents=True, exist_ok=True)
        v.reset()
        if v.warm:  # the unmeasured cold run, then one repeat that settles racy files
            v.run()
            time.sleep(0.1)
    for rep in range(repeats):
        shift = rep % len(variants)
        for v in variants[shift:] + variants[:shift]:
            if not v.warm:
                v.reset()
                os.sync()
            whole, data = v.run()
            v.whole.append(whole)
            v.wall.append(float(data["wall_s"]))
            v.written.append(int(data["files_written"]))
        print(f"  repetition {rep + 1}/{repeats} done", file=sys.stderr)


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(variants: list[Variant], pairs: list[tuple[str, str]]) -> dict[str, Any]:
    by = {v.label: v for v in variants}
    rows = {}
    print(f"{'variant':<34} {'in-process wall_s':>18} {'whole command':>14} "
          f"{'its CPU':>8} {'written':>8}")
    for v in variants:
        cpu = v.cpu[-len(v.whole):] if v.whole else []  # the measured runs only
        rows[v.label] = {"source": v.source, "args": v.args, "warm": v.warm,
                         "wall_s": v.wall, "whole_s": v.whole, "cpu_s": cpu,
                         "written": v.written, "median_wall_s": med(v.wall),
                         "median_whole_s": med(v.whole), "median_cpu_s": med(cpu)}
        print(f"{v.label:<34} {med(v.wall):>17.4f}s {med(v.whole):>13.3f}s "
              f"{med(cpu):>7.3f}s {int(med([float(x) for x in v.written])):>8}")
    ratios = {}
    for slow, fast in pairs:
        if slow in by and fast in by:
            a, b = by[slow], by[fast]
            r_wall = med(a.wall) / med(b.wall)
            r_whole = med(a.whole) / med(b.whole)
            ratios[f"{slow} / {fast}"] = {"in_process": r_wall, "whole_command": r_whole}
            print(f"{slow} / {fast}: in-process {r_wall:.2f}x, whole command {r_whole:.2f}x")
    return {"variants": rows, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("warm", "cold", "crossover", "default"))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--work", type=Path, default=None, help="folder for outputs and caches")
    parser.add_argument("--base", type=Path, default=None, help="another checkout to compare")
    parser.add_argument("--sizes", default="50,100,200,400,800")
    parser.add_argument("--pool-from", type=int, default=None,
                        help="crossover: fork the workers of parallel runs from this many tables")
    parser.add_argument("--sources", default="small,medium,large,polymorphic_heavy,coursemology")
    parser.add_argument("--installed", action="store_true",
                        help="run this checkout from a wheel installed into a new venv, as a "
                             "user has it (no editable install's finder at start-up)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()

    roots = [("", HERE)] + ([("@base", args.base.resolve())] if args.base else [])
    for _, root in roots:
        compile_tree(root)
    if args.installed and args.base:
        parser.error("--installed and --base: the base would start with the editable finder")
    installed = None
    if args.installed:
        from bench_db_peers import install_wheel

        venv_work = Path(tempfile.mkdtemp(prefix="rrperf-wheel-"))
        installed = str(Path(install_wheel(venv_work)).parent / "python")
    variants: list[Variant] = []
    pairs: list[tuple[str, str]] = []
    if args.what == "warm":
        src = resolve("coursemology")
        for tag, root in roots:
            variants += [
                Variant(f"legacy warm{tag}", src, ["--impl", "legacy"], root, True),
                Variant(f"cache_heavy warm{tag}", src, ["--strategy", "cache_heavy"], root,
                        True),
                Variant(f"default warm{tag}", src, [], root, True),
            ]
            pairs += [(f"legacy warm{tag}", f"cache_heavy warm{tag}"),
                      (f"legacy warm{tag}", f"default warm{tag}")]
    elif args.what == "cold":
        for tag, root in roots:
            variants += [
                Variant(f"sequential cold{tag}", "synthetic:2000", ["--strategy", "sequential"],
                        root, False),
                Variant(f"parallel cold{tag}", "synthetic:2000", ["--strategy", "parallel"],
                        root, False),
            ]
            pairs.append((f"sequential cold{tag}", f"parallel cold{tag}"))
    elif args.what == "crossover":
        for n, (tag, root) in itertools.product(args.sizes.split(","), roots):
            src = f"synthetic:{n}"
            variants += [
                Variant(f"sequential {src}{tag}", src, ["--strategy", "sequential"], root, False),
                Variant(f"parallel {src}{tag}", src, ["--strategy", "parallel"], root, False,
                        pool_from=args.pool_from),
            ]
            pairs.append((f"sequential {src}{tag}", f"parallel {src}{tag}"))
    else:
        for name, (tag, root) in itertools.product(args.sources.split(","), roots):
            src = resolve(name)
            for warm in (False, True):
                state = "warm" if warm else "cold"
                variants += [
                    Variant(f"legacy {name} {state}{tag}", src, ["--impl", "legacy"], root, warm),
                    Variant(f"default {name} {state}{tag}", src, [], root, warm),
                ]
                pairs.append((f"legacy {name} {state}{tag}", f"default {name} {state}{tag}"))

    started = time.time()
    load_before = load_average()
    if installed is not None:
        for v in variants:
            v.python = installed
    work_parent = args.work if args.work is not None else None
    try:
        with tempfile.TemporaryDirectory(prefix="rrperf-fresh-", dir=work_parent) as tmp:
            measure(variants, args.repeats, Path(tmp))
    finally:
        if installed is not None:
            shutil.rmtree(venv_work, ignore_errors=True)
    load_after = load_average()
    figures = report(variants, pairs)
    print(f"load average before {load_before}, after {load_after}; work folder "
          f"{args.work or tempfile.gettempdir()}")
    if args.out is not None:
        write_result(args.out, f"fresh-{args.what}", started=started, repeats=args.repeats,
                     load_before=load_before, load_after=load_after, **figures)


if __name__ == "__main__":
    main()
