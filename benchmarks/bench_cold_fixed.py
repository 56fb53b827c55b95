"""The fixed cost of a cold default-strategy run over legacy, without the machine's noise.

Issue 10 target 4 on ``small`` (4 tables, 14 files): cold ``auto`` at most 10 % slower than
legacy cold. On 2 ms runs the wall clock of a shared machine moves by more than the cost in
question, so this counts what does not depend on the load, per cold iteration as
``rrperf bench`` runs one (one execution context kept and cleared before each iteration, the
output folder removed outside the timer):

* **instructions** (Valgrind cachegrind, ``--cache-sim=no``): a process running ``--many``
  iterations less one running ``--few``, divided by the difference, so that start-up and
  imports cancel out;
* **system calls** (``strace -f -c``), the same way (the clearing between iterations is
  counted too: ~9 calls for ``auto``'s state folder, ~5 for each output folder).

The output goes to ``--work`` (default: the temporary folder, this machine's disk). Run on
demand::

    .venv/bin/python benchmarks/bench_cold_fixed.py                 # small, both counts
    .venv/bin/python benchmarks/bench_cold_fixed.py --scenario campfire --no-strace
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ITERATIONS = """
import os, shutil, sys
from rrperf.engine.strategies import get_strategy
from rrperf.generator.api import generate
from rrperf.schema.scenarios import resolve_scenario

system, n, scenario, base = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
source = resolve_scenario(scenario).source
out = os.path.join(base, "out")
ctx = None
if system != "legacy":
    ctx = get_strategy(system).make_context(cache_dir=os.path.join(base, "cache"))
for _ in range(n):
    if ctx is not None:
        ctx.clear()
    shutil.rmtree(out, ignore_errors=True)
    if ctx is None:
        generate(source, out, impl="legacy")
    else:
        generate(source, out, strategy=system, context=ctx)
"""


def _run(tool: list[str], system: str, n: int, scenario: str, work: str) -> str:
    base = tempfile.mkdtemp(dir=work)
    try:
        proc = subprocess.run(
            [*tool, sys.executable, "-c", ITERATIONS, system, str(n), scenario, base],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        return proc.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


def instructions(system: str, n: int, scenario: str, work: str) -> int:
    report = _run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                   "--cachegrind-out-file=/dev/null"], system, n, scenario, work)
    found = re.search(r"I\s+refs:\s+([\d,]+)", report)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's report:\n{report[-2000:]}")
    return int(found.group(1).replace(",", ""))


def syscalls(system: str, n: int, scenario: str, work: str) -> int:
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as log:
        _run(["strace", "-f", "-c", "-o", log.name], system, n, scenario, work)
        total = re.search(r"^\S+\s+\S+\s+\S+\s+(\d+)\s+(?:\d+\s+)?total$", log.read(), re.M)
    if total is None:
        raise SystemExit("no total in strace's summary")
    return int(total.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="small")
    parser.add_argument("--strategy", default="auto", help="the pipeline strategy (auto)")
    parser.add_argument("--few", type=int, default=10)
    parser.add_argument("--many", type=int, default=60)
    parser.add_argument("--work", default=tempfile.gettempdir(), help="where the output goes")
    parser.add_argument("--no-strace", dest="strace", action="store_false")
    args = parser.parse_args(argv)
    per = args.many - args.few
    counters = [("instructions", instructions)]
    if args.strace and shutil.which("strace"):
        counters.append(("system calls", syscalls))
    print(f"{args.scenario}, per cold iteration ({args.many} - {args.few} iterations), "
          f"output under {args.work}:")
    for label, count in counters:
        values = {}
        for system in ("legacy", args.strategy):
            many = count(system, args.many, args.scenario, args.work)
            values[system] = (many - count(system, args.few, args.scenario, args.work)) / per
        legacy, pipeline = values["legacy"], values[args.strategy]
        print(f"  {label}: legacy {legacy:,.0f}, {args.strategy} {pipeline:,.0f} "
              f"({pipeline / legacy:.4f} of legacy's)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
