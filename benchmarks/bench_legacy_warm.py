"""Why is legacy's warm iteration slower than its cold one? Legacy warm against legacy cold.

Legacy has no cache: a warm iteration differs from a cold one only in that the output folder
still holds the previous files, which legacy replaces one by one (temporary file, then a rename
over the old file). This script measures, interleaved, in one process, on the temporary folder's
file system and (when it exists) on tmpfs ``/dev/shm``:

* ``legacy cold`` / ``legacy warm``: ``generate_legacy`` into an emptied folder (emptied before
  the clock starts, as the benchmark runner does) and into the folder of the previous run;
* the writes alone, with the same bytes: ``create`` (temporary file + rename into an empty
  folder), ``replace`` (temporary file + rename over the existing file: what legacy does when
  warm) and ``unlink+rename`` (the old file removed first, so the rename replaces nothing).

On ext4 with ``auto_da_alloc`` (the default), a rename over an existing file makes the kernel
allocate and start writing the new file's data at once; ``unlink+rename`` avoids that, tmpfs
has no such cost. Run on demand::

    .venv/bin/python benchmarks/bench_legacy_warm.py --scenario large --repeats 15
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rrperf.bench.scenarios import resolve_scenario
from rrperf.generator.legacy import generate_legacy
from rrperf.schema.sources import load_schema


def _write(path: Path, data: bytes, *, unlink_first: bool) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    if unlink_first:
        path.unlink(missing_ok=True)
    os.replace(tmp, path)


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def measure(base: Path, schema: object, files: dict[str, bytes], repeats: int) -> dict[str, Any]:
    cold, warm, raw = base / "cold", base / "warm", base / "raw"
    generate_legacy(schema, warm)  # type: ignore[arg-type]

    def fresh(folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        for rel in files:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)

    def writes(folder: Path, unlink_first: bool) -> None:
        for rel, data in files.items():
            _write(folder / rel, data, unlink_first=unlink_first)

    times: dict[str, list[tuple[float, float]]] = {}
    for i in range(repeats):
        variants: list[tuple[str, Callable[[], None], Callable[[], object]]] = [
            ("legacy cold", lambda: fresh(cold), lambda: generate_legacy(schema, cold)),  # type: ignore[arg-type]
            ("legacy warm", lambda: None, lambda: generate_legacy(schema, warm)),  # type: ignore[arg-type]
            ("create", lambda: fresh(raw), lambda: writes(raw, False)),
            ("replace", lambda: (fresh(raw), writes(raw, False)), lambda: writes(raw, False)),
            ("unlink+rename", lambda: (fresh(raw), writes(raw, False)),
             lambda: writes(raw, True)),
        ]
        if i % 2:
            variants.reverse()
        for name, setup, run in variants:
            setup()
            time.sleep(0.02)  # other variants run in between in a benchmark
            times.setdefault(name, []).append(_timed(run))
    return {
        name: {"wall_ms": 1000 * statistics.median(w for w, _ in vals),
               "cpu_ms": 1000 * statistics.median(c for _, c in vals)}
        for name, vals in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the scenario's inet column warns on every run
    schema = load_schema(resolve_scenario(args.scenario).source)
    with tempfile.TemporaryDirectory(prefix="rrperf-lw-") as tmp:
        generate_legacy(schema, tmp)
        files = {str(p.relative_to(tmp)): p.read_bytes() for p in Path(tmp).rglob("*")
                 if p.is_file()}
    bases = [("temp folder", Path(tempfile.gettempdir()))]
    if Path("/dev/shm").is_dir():
        bases.append(("tmpfs /dev/shm", Path("/dev/shm")))
    report: dict[str, Any] = {"scenario": args.scenario, "files": len(files),
                              "repeats": args.repeats, "load_before": os.getloadavg()}
    for label, root in bases:
        with tempfile.TemporaryDirectory(prefix="rrperf-lw-", dir=root) as tmp:
            report[label] = measure(Path(tmp), schema, files, args.repeats)
    report["load_after"] = os.getloadavg()
    print(f"{args.scenario}: {len(files)} files, medians of {args.repeats} interleaved repeats, "
          f"load {report['load_before'][0]:.1f} -> {report['load_after'][0]:.1f}")
    for label, _ in bases:
        print(f"\n{label}")
        for name, fig in report[label].items():
            print(f"  {name:14s} wall {fig['wall_ms']:7.2f} ms   cpu {fig['cpu_ms']:7.2f} ms")
        r = report[label]
        print(f"  warm / cold {r['legacy warm']['wall_ms'] / r['legacy cold']['wall_ms']:.2f}x;"
              f" replace / create {r['replace']['wall_ms'] / r['create']['wall_ms']:.2f}x;"
              f" unlink+rename / create "
              f"{r['unlink+rename']['wall_ms'] / r['create']['wall_ms']:.2f}x")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
