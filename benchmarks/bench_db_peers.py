"""Whole commands that generate TypeScript from a live PostgreSQL database: rrperf and its peers.

Starts a PostgreSQL server of its own (:class:`rrperf.schema.pgserver.LocalPostgres`, Debian's
``postgresql`` package; as root the server runs as the ``postgres`` user), loads a
``schema.rb`` into it as DDL (:func:`rrperf.schema.ddl.postgres_ddl`; coursemology2 by
default: pgvector's ``vector`` becomes a domain over ``real[]`` and its ``hnsw`` index is left
out, as the extension is not packaged for the server), installs the peers from npm into a
temporary folder (typescript pinned to 5: kysely-codegen and pg-to-ts fail with typescript 7)
and times, side by side, interleaved, each whole command (process start to exit, output to a
fresh folder):

* kysely-codegen, @rmp135/sql-ts, pg-to-ts, kanel (run with ``node`` from
  ``node_modules/.bin``, no ``npx``);
* ``rrperf generate postgresql://...`` (default: pipeline, no cache, fresh output folder);
* ``rrperf generate postgresql://... --strategy cache_heavy``, warm: the cache filled by an
  earlier run and the output folder holding that run's files; and the default command warm
  (its output folder and manifest from an earlier run): both answered from the output
  manifest after one catalog-fingerprint query;
* ``rrperf generate schema.rb`` of the same schema, for reference.

Every command reaches the server over TCP (``127.0.0.1``). rrperf's modules are
byte-compiled first, as an installed package's are; ``--installed`` runs rrperf from a wheel
of this checkout installed into a new venv instead (a development venv's editable install
adds its finder's imports, ~12 ms, to the start of every rrperf command).

Usage::

    python benchmarks/bench_db_peers.py --repeats 5
    python benchmarks/bench_db_peers.py --repeats 5 --json bench_db_peers.json
    python benchmarks/bench_db_peers.py --statements   # also count rrperf's statements
    python benchmarks/bench_db_peers.py --repeats 5 --installed   # rrperf as a user installs it

Prints a Markdown table of medians (and min/max) per command. Nothing here is imported by
pytest.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCHEMA = (
    ROOT.parent / "shared" / "data" / "schemas" / "Coursemology__coursemology2__schema.rb"
)

PEER_PACKAGES = [
    "kysely-codegen@0.20.0",
    "kysely@0.28",
    "pg@8",
    "typescript@5",
    "@rmp135/sql-ts@2.2.0",
    "pg-to-ts@4.1.1",
    "kanel@4.0.4",
]


@dataclass
class Command:
    name: str
    output: str
    argv: Callable[[Path], list[str]]  # output folder -> argv
    cwd: Callable[[Path], Path] | None = None
    prepare: Callable[[Path], None] | None = None  # before each timed run
    fresh_output: bool = True
    times: list[float] = field(default_factory=list)
    files: int = 0


def install_peers(folder: Path) -> Path:
    (folder / "package.json").write_text('{"private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", *PEER_PACKAGES],
        cwd=folder, check=True,
    )
    return folder / "node_modules"


def versions(modules: Path) -> dict[str, str]:
    out = {}
    for name in ("kysely-codegen", "@rmp135/sql-ts", "pg-to-ts", "kanel", "typescript"):
        out[name] = json.loads((modules / name / "package.json").read_text())["version"]
    return out


def install_wheel(work: Path) -> str:
    """This checkout built as a wheel and installed into a new venv, as a user installs it
    (no editable install's finder in its start-up, ~12 ms here), its dependencies taken from
    this venv (a ``.pth`` line); the path of its ``rrperf`` command."""
    import sysconfig

    wheels, venv = work / "wheel", work / "venv"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                    str(ROOT)], check=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    *map(str, wheels.glob("rrperf-*.whl"))], check=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True)
    Path(site.stdout.strip(), "zz-bench-deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    return str(venv / "bin" / "rrperf")


def make_commands(
    modules: Path, url: str, schema_rb: Path, work: Path, rrperf: str | None = None
) -> tuple[list[Command], dict[str, str]]:
    """The commands to time (all reach the server over TCP) and their extra environment;
    ``rrperf``: the command to run (default: this venv's)."""
    tcp_url = rrperf_url = url
    node = shutil.which("node") or "node"
    rrperf = rrperf or str(Path(sys.executable).parent / "rrperf")
    bin_ = modules / ".bin"
    cache = work / "rrperf-cache"

    def sqlts(out: Path) -> list[str]:
        config = out / "sql-ts.json"
        config.write_text(json.dumps(
            {"client": "pg", "connection": tcp_url, "filename": str(out / "Database")}
        ))
        return [node, str(bin_ / "sql-ts"), "-c", str(config)]

    def kanel(out: Path) -> list[str]:
        (out / "kanel.config.js").write_text(
            "module.exports = " + json.dumps(
                {"connection": tcp_url, "outputPath": str(out / "models"),
                 "preDeleteOutputFolder": True}
            ) + ";\n"
        )
        return [node, str(bin_ / "kanel"), "-c", "kanel.config.js"]

    warm_out = work / "rrperf-warm-out"
    default_warm_out = work / "rrperf-default-warm-out"
    return [
        Command("kysely-codegen", "1 file of row types",
                lambda out: [node, str(bin_ / "kysely-codegen"), "--url", tcp_url,
                             "--dialect", "postgres", "--out-file", str(out / "db.d.ts")]),
        Command("@rmp135/sql-ts", "1 file of row interfaces", sqlts),
        Command("pg-to-ts", "row and input types, a foreign-key map",
                lambda out: [node, str(bin_ / "pg-to-ts"), "generate", "-c", tcp_url,
                             "-o", str(out / "db.ts")]),
        Command("kanel", "a file per table and type", kanel, cwd=lambda out: out),
        Command("rrperf generate postgresql://... (default)",
                "models, reactive models, types, relationships",
                lambda out: [rrperf, "generate", rrperf_url, "--out", str(out / "models")]),
        Command("rrperf generate postgresql://... --strategy cache_heavy, warm",
                "the same",
                lambda out: [rrperf, "generate", rrperf_url, "--out", str(warm_out),
                             "--strategy", "cache_heavy"],
                fresh_output=False),
        Command("rrperf generate postgresql://... (default), warm", "the same",
                lambda out: [rrperf, "generate", rrperf_url, "--out", str(default_warm_out)],
                fresh_output=False),
        Command("rrperf generate schema.rb (reference)", "the same",
                lambda out: [rrperf, "generate", str(schema_rb), "--out", str(out / "models")]),
    ], {"RRPERF_CACHE_DIR": str(cache)}


def run_once(cmd: Command, work: Path, env: dict[str, str], round_no: int) -> float:
    out = work / f"out-{len(cmd.times)}-{round_no}-{abs(hash(cmd.name)) % 10**8}"
    out.mkdir(parents=True)
    argv = cmd.argv(out)
    cwd = cmd.cwd(out) if cmd.cwd else work
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd.name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    cmd.files = sum(1 for p in out.rglob("*") if p.is_file() and not p.name.startswith(
        ("sql-ts.json", "kanel.config.js")))
    shutil.rmtree(out, ignore_errors=True)
    return elapsed


def in_process(url: str, work: Path, repeats: int) -> dict[str, list[float]]:
    """In one process, interleaved: the default run (fresh output folder), a warm
    ``cache_heavy`` run as the command makes it (no context: answered from the output
    manifest after one fingerprint query), one with a new context (the cached schema and
    files of its disk tier, as a new process has them) and one with the context kept from
    the previous runs (memory tier warm too)."""
    import warnings

    from rrperf.engine.strategies import get_strategy
    from rrperf.generator.api import generate

    cache = work / "in-process-cache"
    warm_out = work / "in-process-warm"
    kept = get_strategy("cache_heavy").make_context(cache_dir=cache)
    manifest_out = work / "in-process-manifest"
    times: dict[str, list[float]] = {"default": [], "warm, as the command": [],
                                     "warm, new context": [], "warm, kept context": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unknown column types (inet, vector)
        generate(url, warm_out, strategy="cache_heavy", context=kept)
        for _ in range(2):  # the second verifies the new files by content once
            generate(url, manifest_out, strategy="cache_heavy", cache_dir=cache)
        for r in range(repeats):
            out = work / f"in-process-{r}"
            start = time.perf_counter()
            generate(url, out)
            times["default"].append(time.perf_counter() - start)
            shutil.rmtree(out)
            start = time.perf_counter()
            generate(url, manifest_out, strategy="cache_heavy", cache_dir=cache)
            times["warm, as the command"].append(time.perf_counter() - start)
            fresh = get_strategy("cache_heavy").make_context(cache_dir=cache)
            start = time.perf_counter()
            generate(url, warm_out, strategy="cache_heavy", context=fresh)
            times["warm, new context"].append(time.perf_counter() - start)
            start = time.perf_counter()
            generate(url, warm_out, strategy="cache_heavy", context=kept)
            times["warm, kept context"].append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    parser.add_argument("--json", type=Path, default=None, help="write the timings here")
    parser.add_argument("--peers", type=Path, default=None,
                        help="reuse an npm folder holding the peers (default: install into "
                             "a temporary folder)")
    parser.add_argument("--installed", action="store_true",
                        help="run rrperf from a wheel of this checkout installed into a new "
                             "venv (as a user has it) instead of this venv's editable install")
    args = parser.parse_args(argv)

    # Byte-compile rrperf as an installed package is: with PYTHONDONTWRITEBYTECODE set (this
    # machine sets it), every rrperf command would otherwise compile its modules again.
    import compileall

    compileall.compile_dir(str(ROOT / "rrperf"), quiet=1)
    from rrperf.schema.ddl import postgres_ddl
    from rrperf.schema.pgserver import LocalPostgres
    from rrperf.schema.rails import load_schema_rb

    with tempfile.TemporaryDirectory(prefix="bench-db-peers-") as tmp:
        work = Path(tmp)
        if args.peers is None:
            print("installing the peers from npm ...", file=sys.stderr)
            modules = install_peers(work)
        else:
            modules = args.peers / "node_modules"
        schema = load_schema_rb(args.schema)
        ddl = postgres_ddl(schema, extensions=["uuid-ossp"], stand_ins={"vector": "real[]"})
        with LocalPostgres(tcp=True) as server:
            server.create_database("bench", ddl)
            tcp_url = server.url("bench", driver="", tcp=True)
            rrperf = install_wheel(work) if args.installed else None
            commands, extra_env = make_commands(modules, tcp_url, args.schema, work, rrperf)
            env = {**os.environ, **extra_env}
            # Warm the warm runs' caches and output folders (not timed); the second run
            # verifies the just-written files by content once, as a first repeat does. In
            # the folder the timed runs start in: the configuration files the search finds
            # from there are part of the output manifest's key.
            for warm in (c for c in commands if not c.fresh_output):
                for _ in range(2):
                    subprocess.run(warm.argv(work), env=env, check=True, capture_output=True,
                                   cwd=work)
            print(f"{len(schema.tables)} tables, {len(schema.foreign_keys)} foreign keys; "
                  f"load {os.getloadavg()[0]:.1f}", file=sys.stderr)
            for r in range(args.repeats):
                # Interleaved, starting one later each round.
                for i in range(len(commands)):
                    cmd = commands[(i + r) % len(commands)]
                    cmd.times.append(run_once(cmd, work, env, r))
                print(f"round {r + 1}/{args.repeats} done, load {os.getloadavg()[0]:.1f}",
                      file=sys.stderr)
            inproc = in_process(tcp_url, work, args.repeats)
        peer_versions = versions(modules)

    default = next(c for c in commands if c.name.endswith("(default)"))
    kysely = commands[0]
    print(f"\npeers: {peer_versions}; {args.repeats} interleaved rounds, whole commands\n")
    print("| tool | output | files | median | min - max | / kysely-codegen |")
    print("|---|---|---|---|---|---|")
    for cmd in commands:
        med = statistics.median(cmd.times)
        print(f"| {cmd.name} | {cmd.output} | {cmd.files if cmd.fresh_output else '-'} | "
              f"{med:.2f} s | {min(cmd.times):.2f} - {max(cmd.times):.2f} | "
              f"{med / statistics.median(kysely.times):.2f} |")
    print()
    for warm_cmd in (c for c in commands if not c.fresh_output):
        paired_warm = [w / d for w, d in zip(warm_cmd.times, default.times, strict=True)]
        print(f"{warm_cmd.name} / default: "
              f"{statistics.median(warm_cmd.times) / statistics.median(default.times):.2f} "
              f"(per round {', '.join(f'{p:.2f}' for p in paired_warm)})")
    paired = [d / k for d, k in zip(default.times, kysely.times, strict=True)]
    print(f"rrperf default / kysely-codegen per round: "
          f"{', '.join(f'{p:.2f}' for p in paired)}")
    base = statistics.median(inproc["default"])
    print("\nin one process (generate(url, ...)), interleaved:\n")
    print("| run | median | min - max | / default |")
    print("|---|---|---|---|")
    for name, values in inproc.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.3f} s | {min(values):.3f} - {max(values):.3f} | "
              f"{med / base:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(
            {"versions": peer_versions, "repeats": args.repeats,
             "times": {c.name: c.times for c in commands}, "in_process": inproc}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
