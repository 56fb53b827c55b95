"""Two processes creating files in one folder against two folders (issue 10; run on demand).

A forked generator run has its processes write the 6,002 files of a 2,000-table schema into
the same two folders. Creating or renaming an entry takes the folder's lock, so two processes
doing it in one folder wait for each other. This times N atomic writes (a temporary file,
then ``os.replace``, as the generator writes; 1,500 bytes each) done:

* ``serial``: by one process, half into folder ``a`` then half again into ``a``;
* ``same``: by two processes (forked), each writing its half into folder ``a``;
* ``diff``: by two processes, one into ``a`` and one into ``b``;

rounds interleaved, medians of the wall time and of the CPU time (both processes).
``--write excl`` creates each file in place instead (``O_CREAT | O_EXCL``, no temporary file
and no rename: not atomic), ``--write tmpfile`` as an unnamed file (``O_TMPFILE``) linked
into the folder once written (atomic, no rename): the alternatives to the generator's write.

Usage::

    python benchmarks/bench_fs_contention.py --work /dev/shm --repeats 5
    python benchmarks/bench_fs_contention.py --work /tmp --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

DATA = b"x" * 1500


WRITE = "atomic"


def _write(folder: str, tag: str, n: int) -> None:
    root = os.open("/", os.O_RDONLY)  # linkat needs a directory fd to follow /proc/self/fd
    try:
        for i in range(n):
            path = f"{folder}/f{tag}_{i}.ts"
            if WRITE == "tmpfile":
                fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o644)
                try:
                    os.write(fd, DATA)
                    os.link(f"/proc/self/fd/{fd}", path, src_dir_fd=root, follow_symlinks=True)
                finally:
                    os.close(fd)
                continue
            target = path if WRITE == "excl" else f"{path}.tmp{tag}"
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, DATA)
            finally:
                os.close(fd)
            if WRITE == "atomic":
                os.replace(target, path)
    finally:
        os.close(root)


def _once(base: Path, layout: str, n: int) -> tuple[float, float]:
    shutil.rmtree(base / "d", ignore_errors=True)
    (base / "d" / "a").mkdir(parents=True)
    (base / "d" / "b").mkdir()
    a, b = str(base / "d" / "a"), str(base / "d" / "b")
    before = os.times()
    start = time.perf_counter()
    if layout == "serial":
        _write(a, "0", n // 2)
        _write(a, "1", n // 2)
    else:
        pid = os.fork()
        if pid == 0:
            try:
                _write(a if layout == "same" else b, "1", n // 2)
            finally:
                os._exit(0)
        _write(a, "0", n // 2)
        os.waitpid(pid, 0)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = sum(after[:4]) - sum(before[:4])  # user + system, this process and its child
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None, help="the file system to test")
    parser.add_argument("--write", choices=("atomic", "excl", "tmpfile"), default="atomic")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    global WRITE
    WRITE = args.write
    base = Path(tempfile.mkdtemp(prefix="rrperf-fs-", dir=args.work))
    layouts = ("serial", "same", "diff")
    got: dict[str, list[tuple[float, float]]] = {layout: [] for layout in layouts}
    try:
        for _ in range(args.repeats):
            for layout in layouts:
                got[layout].append(_once(base, layout, args.files))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{args.files} writes ({args.write}) in {base.parent} ({args.repeats} rounds, medians):")
    for layout in layouts:
        wall = statistics.median(w for w, _ in got[layout])
        cpu = statistics.median(c for _, c in got[layout])
        print(f"  {layout:6s} wall {wall * 1000:7.1f} ms   CPU {cpu * 1000:7.1f} ms")
    if args.out is not None:
        args.out.write_text(json.dumps({"files": args.files, "write": args.write,
                                        "work": str(base.parent),
                                        "rounds": got}, indent=1))


if __name__ == "__main__":
    main()
