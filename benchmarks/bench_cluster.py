"""Scale-out on Dask distributed (issue 13): generate locally vs on a cluster, and the demo's
matrix locally vs on a cluster.

``--generate``: for each ``synthetic:N`` size, ``rrperf generate`` as a whole command (a fresh
process, a fresh working directory and so an empty cache, a fresh output folder), the variants
interleaved and their order alternating every repetition:

* ``local``: ``--strategy parallel`` (loky process pool on this machine);
* ``cluster``: ``--strategy parallel --cluster ADDRESS`` (``local:2`` by default: the command
  starts a LocalCluster of 2 single-thread worker processes, which is part of its time).

Reports the median whole-command time and the median in-process ``wall_s`` (loading the schema
plus generating, from ``--json``) per variant, and checks that every run of a size has one
output digest.

``--matrix``: the demo's benchmark matrix (``rrperf demo``: the four built-in scenarios,
legacy vs the pipeline under every strategy, cold and warm) as ``rrperf bench --format json``
locally and with ``--cluster``, then the verdicts side by side and the correctness digests.

    .venv/bin/python benchmarks/bench_cluster.py --generate 2000,20000 --repeats 3 --work /dev/shm
    .venv/bin/python benchmarks/bench_cluster.py --matrix --iterations 10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RRPERF = [sys.executable, "-m", "rrperf"]
DEMO_SCENARIOS = "small,medium,large,polymorphic_heavy"
STRATEGIES = "sequential,parallel,cache_heavy,balanced,minimal"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _generate_once(size: int, cluster: str | None, work: Path) -> dict[str, Any]:
    cwd = Path(tempfile.mkdtemp(prefix="rrperf-cluster-bench-", dir=work))
    try:
        cmd = [*RRPERF, "generate", f"synthetic:{size}", "--out", str(cwd / "out"), "--json",
               "--strategy", "parallel"]
        if cluster:
            cmd += ["--cluster", cluster, "--cluster-timeout", "60"]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
        whole = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-400:]}")
        out = json.loads(proc.stdout)
        return {"whole_s": whole, "wall_s": out["wall_s"], "digest": out["output_digest"],
                "files": out["files_total"]}
    finally:
        shutil.rmtree(cwd, ignore_errors=True)


def bench_generate(sizes: list[int], repeats: int, cluster: str, work: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"load_before": _load(), "cluster": cluster, "sizes": {}}
    print(f"generate, whole command and in-process wall_s; load {report['load_before']}")
    print(f"{'size':>7} {'variant':>8} {'whole (median)':>15} {'wall_s (median)':>16}  digest")
    for size in sizes:
        runs: dict[str, list[dict[str, Any]]] = {"local": [], "cluster": []}
        for rep in range(repeats):
            order = ["local", "cluster"] if rep % 2 == 0 else ["cluster", "local"]
            for variant in order:
                runs[variant].append(
                    _generate_once(size, cluster if variant == "cluster" else None, work)
                )
        digests = {r["digest"] for rs in runs.values() for r in rs}
        row = {}
        for variant, rs in runs.items():
            whole = statistics.median(r["whole_s"] for r in rs)
            wall = statistics.median(r["wall_s"] for r in rs)
            row[variant] = {"whole_s": [r["whole_s"] for r in rs],
                            "wall_s": [r["wall_s"] for r in rs],
                            "median_whole_s": whole, "median_wall_s": wall}
            print(f"{size:>7} {variant:>8} {whole:>14.2f}s {wall:>15.2f}s  "
                  f"{'one digest' if len(digests) == 1 else 'DIGESTS DIFFER'} "
                  f"{next(iter(digests))[:12]}")
        row["one_digest"] = len(digests) == 1
        row["ratio_whole"] = row["cluster"]["median_whole_s"] / row["local"]["median_whole_s"]
        row["ratio_wall"] = row["cluster"]["median_wall_s"] / row["local"]["median_wall_s"]
        print(f"{size:>7} cluster/local: whole {row['ratio_whole']:.2f}, "
              f"wall_s {row['ratio_wall']:.2f}")
        report["sizes"][str(size)] = row
    report["load_after"] = _load()
    print(f"load after: {report['load_after']}")
    return report


def _bench_json(cluster: str | None, iterations: int, seed: int) -> tuple[dict[str, Any], float]:
    cmd = [*RRPERF, "bench", "--scenarios", DEMO_SCENARIOS, "--strategies", STRATEGIES,
           "--cache", "both", "--iterations", str(iterations), "--warmup", "1",
           "--seed", str(seed), "--format", "json"]
    if cluster:
        cmd += ["--cluster", cluster, "--cluster-timeout", "60"]
    with tempfile.TemporaryDirectory(prefix="rrperf-cluster-matrix-") as cwd:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"})
        took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-400:]}")
    payload: dict[str, Any] = json.loads(proc.stdout)
    return payload, took


def bench_matrix(iterations: int, cluster: str, seed: int) -> dict[str, Any]:
    load0 = _load()
    local, t_local = _bench_json(None, iterations, seed)
    remote, t_remote = _bench_json(cluster, iterations, seed)
    load1 = _load()
    workers: dict[str, set[str]] = {}
    for row in remote["rows"]:
        workers.setdefault(row["scenario"], set()).add(str(row["worker"]))
    print(f"demo matrix, {iterations} iterations; load {load0} -> {load1}")
    print(f"local run {t_local:.1f} s ({len(local['rows'])} rows); {cluster} run "
          f"{t_remote:.1f} s ({len(remote['rows'])} rows)")
    for scenario, ws in sorted(workers.items()):
        print(f"  {scenario}: worker {', '.join(sorted(ws))}")

    def verdicts(payload: dict[str, Any]) -> dict[tuple[str, ...], tuple[float, str]]:
        return {
            (r["scenario"], r["strategy"] or "", r["cache_state"]): (r["ratio"], r["verdict"])
            for r in payload["comparison"]
        }

    def digests(payload: dict[str, Any]) -> dict[tuple[str, ...], str]:
        return {(r["scenario"], r["system"], r["strategy"] or ""): str(r["output_digest"])
                for r in payload["correctness"]}

    vl, vr = verdicts(local), verdicts(remote)
    same = sum(1 for k in vl if k in vr and vl[k][1] == vr[k][1])
    print(f"{'scenario':<18} {'strategy':<12} {'cache':<5} {'local':>20} {'cluster':>20}")
    for key in sorted(vl):
        lr, lv = vl[key]
        rr, rv = vr.get(key, (float("nan"), "-"))
        mark = "" if lv == rv else "  *"
        print(f"{key[0]:<18} {key[1]:<12} {key[2]:<5} {lr:>8.3f} {lv:>11} "
              f"{rr:>8.3f} {rv:>11}{mark}")
    print(f"same verdict in {same} of {len(vl)} groups; same groups: {set(vl) == set(vr)}; "
          f"same correctness digests: {digests(local) == digests(remote)}")
    return {
        "load": [load0, load1], "seconds": {"local": t_local, "cluster": t_remote},
        "workers": {k: sorted(v) for k, v in workers.items()},
        "verdicts": {"|".join(k): {"local": vl[k], "cluster": vr.get(k)} for k in vl},
        "same_verdicts": same, "groups": len(vl),
        "same_groups": set(vl) == set(vr), "same_digests": digests(local) == digests(remote),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", default=None, metavar="N,N",
                        help="synthetic sizes to generate locally and on the cluster")
    parser.add_argument("--matrix", action="store_true", help="the demo's matrix, both ways")
    parser.add_argument("--cluster", default="local:2", help="cluster address (local:2)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default=None, help="folder for the output (default: TMPDIR)")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    if args.generate:
        work = Path(args.work or tempfile.gettempdir())
        sizes = [int(s) for s in args.generate.split(",") if s.strip()]
        report["generate"] = bench_generate(sizes, args.repeats, args.cluster, work)
    if args.matrix:
        report["matrix"] = bench_matrix(args.iterations, args.cluster, args.seed)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
