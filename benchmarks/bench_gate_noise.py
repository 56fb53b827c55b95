"""The same-run gate on a noisy machine: does ``rrperf bench --fail-on-regression`` hold?

Two CPU-bound neighbour processes switch on and off (busy ~0.7 s / idle ~0.7 s and busy
~1.1 s / idle ~1.1 s, each phase jittered +-30 %), as other jobs do on a shared CI machine.
Meanwhile ``rrperf bench`` gates a same-run A/B of two command systems declared in a temporary
``rrperf.toml``: ``a`` and ``b`` each run ``python -S work.py N`` (N chained sha256 digests,
calibrated to ~0.3 s of CPU time, which is its wall time on an idle core). Trials alternate:

* identical: ``b`` does the same work as ``a``. Target: at least 9 of 10 gates exit 0, none 1;
* slower: ``b`` does 20 % more digests. Target: none exits 0, at least 8 of 10 exit 1;

each with ``--iterations auto --time-budget 90`` (the gate's default threshold of 5 %) and
the gate's metric (``--metric``: ``wall_s`` by default, or ``cpu_s``). Every
gate is a real ``rrperf bench`` process; the exit codes, rounds and ratios are its own. Run on
demand (about 30 minutes with the defaults)::

    .venv/bin/python benchmarks/bench_gate_noise.py --trials 10 --out gate_noise.json
    .venv/bin/python benchmarks/bench_gate_noise.py --trials 10 --metric cpu_s

``--no-neighbours`` runs the same trials on the machine as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORK = """\
import hashlib, sys
n = int(sys.argv[1])
h = b"rrperf"
for _ in range(n):
    h = hashlib.sha256(h).digest()
"""

NEIGHBOUR = """\
import random, sys, time
period = float(sys.argv[1])
rng = random.Random(int(sys.argv[2]))
while True:
    end = time.perf_counter() + period * rng.uniform(0.7, 1.3)
    x = 0
    while time.perf_counter() < end:
        x += 1
    time.sleep(period * rng.uniform(0.7, 1.3))
"""


def _time_work(python: str, work: Path, n: int, repeats: int = 5) -> float:
    """Median CPU time (user + system) of the command: steadier than wall time on a busy
    machine, and equal to it when the command has a core to itself."""
    times = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([python, "-S", str(work), str(n)], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(
            after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        )
    times.sort()
    return times[len(times) // 2]


def calibrate(python: str, work: Path, target_s: float) -> tuple[int, float]:
    """Digests for ``target_s`` of command CPU time (measured, before the neighbours)."""
    n = 200_000
    startup = _time_work(python, work, 0)
    for _ in range(3):
        t = _time_work(python, work, n)
        n = max(1000, int(n * (target_s - startup) / max(t - startup, 1e-3)))
    return n, _time_work(python, work, n)


def start_neighbours(python: str, folder: Path) -> list[subprocess.Popen[bytes]]:
    script = folder / "neighbour.py"
    script.write_text(NEIGHBOUR, encoding="utf-8")
    return [
        subprocess.Popen([python, str(script), str(period), str(seed)])
        for period, seed in ((0.7, 1), (1.1, 2))
    ]


def gate(
    rrperf: list[str], project: Path, work: Path, n_a: int, n_b: int, *, budget: float,
    threshold: float, seed: int, metric: str,
) -> dict[str, Any]:
    python = shlex.quote(sys.executable)
    (project / "rrperf.toml").write_text(
        f"[systems.a]\ncommand = '{python} -S {shlex.quote(str(work))} {n_a}'\n"
        f"[systems.b]\ncommand = '{python} -S {shlex.quote(str(work))} {n_b}'\n",
        encoding="utf-8",
    )
    argv = [
        *rrperf, "bench", "--scenarios", "small", "--systems", "a,b", "--baseline", "a",
        "--iterations", "auto", "--time-budget", str(budget), "--threshold", str(threshold),
        "--fail-on-regression", "--format", "json", "--seed", str(seed), "--no-progress",
        *(["--metric", metric] if metric != "wall_s" else []),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=project, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    record: dict[str, Any] = {"exit": proc.returncode, "elapsed_s": round(elapsed, 1)}
    try:
        payload = json.loads(proc.stdout)
        row = payload["gate"]["same_run"][0]
        record.update(
            rounds=int(row["n"]), ratio=row["ratio"], low=row["ratio_ci_low"],
            high=row["ratio_ci_high"], decision=row["decision"],
        )
    except (ValueError, KeyError, IndexError, TypeError):
        record["stderr"] = proc.stderr.strip().splitlines()[-3:]
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="trials per case (10)")
    parser.add_argument("--budget", type=float, default=90.0, help="--time-budget (90)")
    parser.add_argument("--threshold", type=float, default=0.05)
    parser.add_argument("--target-s", type=float, default=0.3, help="command wall time (0.3)")
    parser.add_argument("--extra", type=float, default=0.20, help="more work in b (0.20)")
    parser.add_argument("--no-neighbours", action="store_true")
    parser.add_argument(
        "--metric", default="wall_s", help="the gate's --metric: wall_s (default) or cpu_s"
    )
    parser.add_argument("--out", default=None, help="write the trials as JSON here")
    args = parser.parse_args()

    # SIGTERM ends the trials like Ctrl-C: the neighbours are stopped in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rrperf = [sys.executable, "-m", "rrperf"]
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="rrperf-gate-noise-") as tmp:
        folder = Path(tmp)
        work = folder / "work.py"
        work.write_text(WORK, encoding="utf-8")
        project = folder / "project"
        project.mkdir()
        n, t = calibrate(sys.executable, work, args.target_s)
        n_slow = round(n * (1.0 + args.extra))
        print(f"calibrated: {n} digests, {t:.3f} s CPU per command; slower side {n_slow} digests",
              flush=True)
        neighbours = [] if args.no_neighbours else start_neighbours(sys.executable, folder)
        trials: list[dict[str, Any]] = []
        rng = random.Random(7)
        try:
            for i in range(args.trials):
                cases = [("identical", n), ("slower", n_slow)]
                rng.shuffle(cases)
                for case, n_b in cases:
                    rec = gate(
                        rrperf, project, work, n, n_b, budget=args.budget,
                        threshold=args.threshold, seed=1000 + i, metric=args.metric,
                    )
                    rec.update(case=case, trial=i, load=os.getloadavg()[0])
                    trials.append(rec)
                    print(json.dumps(rec), flush=True)
        finally:
            for proc in neighbours:
                proc.kill()
                proc.wait()
    load1 = os.getloadavg()
    print()
    for case, want in (("identical", 0), ("slower", 1)):
        part = [r for r in trials if r["case"] == case]
        codes = [r["exit"] for r in part]
        other = len(codes) - sum(codes.count(c) for c in (0, 1, 3))
        rounds = sorted(r.get("rounds", 0) for r in part)
        print(
            f"{case}: {len(part)} gates, exit 0: {codes.count(0)}, exit 1: {codes.count(1)}, "
            f"exit 3: {codes.count(3)}, other: {other}"
            f"; rounds median {rounds[len(rounds) // 2] if rounds else 0} "
            f"(range {rounds[0] if rounds else 0}-{rounds[-1] if rounds else 0}); "
            f"wanted exit {want}"
        )
    print(f"load average at start {load0}, at end {load1}")
    if args.out:
        Path(args.out).write_text(
            json.dumps({"n": n, "n_slow": n_slow, "command_s": t, "trials": trials,
                        "load_start": load0, "load_end": load1}, indent=2),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
