"""Every strategy produces legacy's bytes, cold and warm; caches are never stale; manifest."""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rrperf.generator.cached as cached
from rrperf.cli import main
from rrperf.engine.strategies import STRATEGIES, ExecutionContext, Strategy, get_strategy
from rrperf.errors import ConfigError, SchemaWarning, UnsafePathError
from rrperf.generator import render
from rrperf.generator.api import generate
from rrperf.generator.digest import output_digest
from rrperf.schema.model import Column, Schema, Table
from rrperf.schema.scenarios import REAL_SCHEMA_DIR, get_scenario

SCHEMAS = REAL_SCHEMA_DIR
REAL = tuple(sorted(SCHEMAS.glob("*.rb")))
SOURCES = ("small", "medium", "large", "polymorphic_heavy", "synthetic:60", *map(str, REAL))
SMALL_RB = get_scenario("small").path


@pytest.fixture(autouse=True)
def _quiet_schema_warnings() -> Iterator[None]:
    # The real schemas have column types without a TypeScript mapping (a SchemaWarning each).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        yield


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ExecutionContext]]:
    """One context per strategy for the whole module (the process pool starts once)."""
    root = tmp_path_factory.mktemp("caches")
    made = {name: s.make_context(cache_dir=root / name) for name, s in STRATEGIES.items()}
    yield made
    for ctx in made.values():
        ctx.close()


_LEGACY: dict[str, str] = {}


def distinct_columns(columns: list[Column]) -> int:
    """How many columns the packers keep: one per distinct value, except that a column with
    an unhashable default (a JSON array or object) is never shared."""
    hashable: set[Column] = set()
    unhashable = 0
    for col in columns:
        try:
            hashable.add(col)
        except TypeError:
            unhashable += 1
    return len(hashable) + unhashable


def legacy_digest(source: str, tmp: Path) -> str:
    if source not in _LEGACY:
        _LEGACY[source] = generate(source, tmp / "legacy", impl="legacy").output_digest
    return _LEGACY[source]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: Path(s).name[:24])
def test_every_strategy_matches_legacy_cold_and_warm(
    source: str, contexts: dict[str, ExecutionContext], tmp_path: Path
) -> None:
    expected = legacy_digest(source, tmp_path)
    for name, ctx in contexts.items():
        ctx.clear()
        out = tmp_path / name
        cold = generate(source, out, strategy=name, context=ctx)
        assert (cold.strategy, cold.output_digest) == (name, expected)
        assert output_digest(out) == expected
        assert cold.files_written == cold.files_total
        assert cold.cache_hits == 0
        assert (cold.cache_misses > 0) == ctx.strategy.caching
        warm = generate(source, out, strategy=name, context=ctx)
        assert warm.output_digest == expected
        assert (warm.files_written, warm.files_unchanged) == (0, warm.files_total)
        assert output_digest(out) == expected
        if name == "minimal":
            assert (warm.cache_hits, warm.cache_misses) == (0, 0)
        elif not ctx.strategy.caching:  # auto: the whole run answered from its manifest
            assert (warm.cache_hits, warm.cache_misses) == (1, 0)
        else:
            # the schema (for strategies that cache it), the analysis and every render
            schema = "schema_introspection" in ctx.strategy.cache_memory
            assert (warm.cache_hits, warm.cache_misses) == (cold.n_tables + 1 + schema, 0)


def test_parallel_runs_batches_on_worker_processes_and_close_ends_them(
    tmp_path: Path,
) -> None:
    strategy = Strategy(
        "two_processes", "process", 2, cache_memory=frozenset({"template_render"}),
        cache_disk=frozenset(), batch_size=25,
    )
    ctx = strategy.make_context(cache_dir=tmp_path / "cache")
    import tempfile

    def leftovers() -> list[Path]:  # batch packs and abort markers of this process
        tmp = Path(tempfile.gettempdir())
        pid = os.getpid()
        return [*tmp.glob(f"rrperf-batches-{pid}-*.pickle"), *tmp.glob(f"rrperf-abort-{pid}-*")]

    before = set(leftovers())
    # 60 tables do not pay for starting a pool (POOL_START_MIN_TABLES): rendered here
    serial = generate("synthetic:60", tmp_path / "serial", context=ctx)
    assert ctx.executor.stage_timings().empty and not ctx.executor.pool_started
    ctx.clear()
    ctx.executor.start_pool()  # once the pool runs, a batch pays off from 16 tables
    assert ctx.executor.pool_started
    result = generate("synthetic:60", tmp_path / "out", context=ctx)
    assert result.output_digest == serial.output_digest
    assert result.output_digest == legacy_digest("synthetic:60", tmp_path)
    assert set(leftovers()) == before  # the packs' file is removed after the run
    timings = ctx.executor.stage_timings()
    assert sorted(timings["stage"]) == ["batch:0", "batch:1", "batch:2"]
    pids = set(timings["pid"])
    # every table's render was stored as its batch came back: a second run hits them all
    warm = generate("synthetic:60", tmp_path / "out", context=ctx)
    assert (warm.files_written, warm.cache_hits, warm.cache_misses) == (0, 61, 0)
    assert warm.output_digest == result.output_digest
    assert os.getpid() not in pids
    ctx.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert ctx.closed
    with pytest.raises(ConfigError, match="is closed; make a new one"):
        generate("small", tmp_path / "out", context=ctx)


@pytest.mark.parametrize(
    ("n", "workers", "sizes"),
    [
        (18, 2, [5, 4, 3, 2, 2, 2]),
        (2000, 2, [500, 375, 282, 211, 158, 119, 89, 67, 50, 38, 28, 24, 24, 24, 11]),
        (100, 4, [13, 11, 10, 9, 8, 7, 6, 6, 6, 6, 6, 6, 6]),
        (3, 1, [2, 1]),
    ],
)
def test_guided_batches_exact(n: int, workers: int, sizes: list[int]) -> None:
    assert cached.guided_sizes(n, workers) == sizes
    assert sum(sizes) == n
    assert cached.guided_sizes(n, workers, 7)[:1] == [min(7, n)]
    # the plan a run uses: the same batches once a pool pays off, none below that
    expected = sizes if workers > 1 and n >= max(cached.POOL_MIN_TABLES, 2 * workers) else []
    assert cached.plan_batches(n, workers) == expected
    started = n >= cached.POOL_START_MIN_TABLES and workers > 1
    assert cached.plan_batches(n, workers, pool_started=False) == (sizes if started else [])


def test_thread_backend_strategy_matches_legacy(tmp_path: Path) -> None:
    strategy = Strategy(
        "threads", "thread", 2, cache_memory=frozenset(), cache_disk=frozenset(),
        monitoring=False,
    )
    with strategy.make_context(cache_dir=tmp_path / "cache") as ctx:
        result = generate("large", tmp_path / "out", context=ctx)
        assert result.output_digest == legacy_digest("large", tmp_path)
        stages = sorted(ctx.executor.stage_timings()["stage"])
        assert stages == [f"batch:{i}" for i in range(6)]  # 18 tables: 5, 4, 3, 2, 2, 2
        assert ctx.executor._thread_pool is not None
    assert ctx.executor._thread_pool is None


def test_new_context_reads_the_schema_from_disk_without_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "campfire.rb"
    shutil.copy(SCHEMAS / "basecamp__once-campfire__schema.rb", source)
    cache_dir = tmp_path / "cache"
    with get_strategy("sequential").make_context(cache_dir=cache_dir) as first:
        expected = generate(source, tmp_path / "a", context=first).output_digest

    import rrperf.schema.rails

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("schema.rb parsed again")

    monkeypatch.setattr(rrperf.schema.rails, "load_schema_rb", no_parsing)
    with get_strategy("sequential").make_context(cache_dir=cache_dir) as second:
        result = generate(source, tmp_path / "b", context=second)
        assert result.output_digest == expected
        assert second.cache is not None
        disk = second.cache.stats().get("schema_introspection", "disk")
        assert (disk.hits, disk.misses) == (1, 0)
    # a changed file is parsed again (and the parser is the one patched out)
    source.write_text(source.read_text() + "\n# changed\n")
    with get_strategy("sequential").make_context(cache_dir=cache_dir) as third:
        with pytest.raises(AssertionError, match="parsed again"):
            generate(source, tmp_path / "c", context=third)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.ts")}


def _changed(before: dict[str, bytes], after: dict[str, bytes]) -> tuple[str, ...]:
    return tuple(sorted(k for k in after if before.get(k) != after[k]))


def test_changed_schema_file_is_never_served_stale(tmp_path: Path) -> None:
    source = tmp_path / "schema.rb"
    text = SMALL_RB.read_text()
    source.write_text(text)
    with get_strategy("cache_heavy").make_context(cache_dir=tmp_path / "cache") as ctx:
        generate(source, tmp_path / "out", context=ctx)
        generate(source, tmp_path / "legacy-before", impl="legacy")
        edited = text.replace('t.string "slug", null: false', 't.integer "slug", null: false')
        assert edited != text
        source.write_text(edited)
        result = generate(source, tmp_path / "out", context=ctx)
    legacy = generate(source, tmp_path / "legacy-after", impl="legacy")
    assert result.output_digest == legacy.output_digest == output_digest(tmp_path / "out")
    # exactly the files whose bytes legacy changes are written
    expected = _changed(_files(tmp_path / "legacy-before"), _files(tmp_path / "legacy-after"))
    assert expected == ("types/post-data.ts",)
    assert result.written == expected


def test_changed_column_in_a_schema_object_rewrites_only_its_table(tmp_path: Path) -> None:
    from rrperf.schema.sources import load_schema

    schema = load_schema("small")
    with get_strategy("sequential").make_context(cache_dir=tmp_path / "cache") as ctx:
        generate(schema, tmp_path / "out", context=ctx)
        posts = schema.table("posts")
        columns = tuple(
            Column("title", "text", null=True) if c.name == "title" else c for c in posts.columns
        )
        changed = Schema(
            tables=tuple(
                Table(t.name, columns, t.primary_key, t.indexes) if t.name == "posts" else t
                for t in schema.tables
            ),
            foreign_keys=schema.foreign_keys,
            enums=schema.enums,
            associations=schema.associations,
            version=schema.version,
        )
        result = generate(changed, tmp_path / "out", context=ctx)
        assert result.written == ("types/post-data.ts",)
        # hits: the other three tables' renders and the posts relationships; misses: the
        # analysis, the posts render and the posts types
        assert (result.cache_hits, result.cache_misses) == (4, 3)
    assert result.output_digest == generate(changed, tmp_path / "l", impl="legacy").output_digest


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the templates that render reads from."""
    folder = tmp_path / "templates"
    shutil.copytree(render._TEMPLATES, folder)
    monkeypatch.setattr(render, "_TEMPLATES", folder)
    render._environment.cache_clear()
    render._template.cache_clear()
    yield folder
    render._environment.cache_clear()
    render._template.cache_clear()


def test_changed_template_rewrites_exactly_its_files(templates: Path, tmp_path: Path) -> None:
    with get_strategy("cache_heavy").make_context(cache_dir=tmp_path / "cache") as ctx:
        before = generate("small", tmp_path / "out", context=ctx)
        reactive = templates / "reactive.ts.j2"
        reactive.write_text(reactive.read_text() + "// reactive template v2\n")
        render._environment.cache_clear()
        render._template.cache_clear()
        after = generate("small", tmp_path / "out", context=ctx)
    assert after.written == (
        "reactive-comment.ts", "reactive-post.ts", "reactive-profile.ts", "reactive-user.ts",
    )
    assert after.output_digest != before.output_digest
    legacy = generate("small", tmp_path / "legacy", impl="legacy")
    assert after.output_digest == legacy.output_digest == output_digest(tmp_path / "out")


class _Spy:
    """Records the files each write_if_changed call is given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, ...]] = []
        real = cached.write_if_changed

        def spy(out_dir: Any, files: Any, **kws: Any) -> Any:
            self.calls.append(tuple(sorted(files)))
            return real(out_dir, files, **kws)

        monkeypatch.setattr(cached, "write_if_changed", spy)


def test_manifest_skips_reading_and_detects_edited_and_deleted_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    clock = {"ns": 0}
    # each run "starts" 10 s after the real clock: every file on disk is clearly older
    monkeypatch.setattr(cached, "_now_ns", lambda: clock["ns"])
    spy = _Spy(monkeypatch)
    with get_strategy("cache_heavy").make_context(cache_dir=tmp_path / "cache") as ctx:
        clock["ns"] = os.stat(tmp_path).st_mtime_ns + 10**10
        cold = generate("small", out, context=ctx)
        assert spy.calls[-1] == cold.written and len(cold.written) == 14
        clock["ns"] += 10**10
        fast = generate("small", out, context=ctx)
        assert spy.calls[-1] == ()  # nothing read, nothing written
        assert (fast.files_written, fast.files_unchanged) == (0, 14)

        (out / "post.ts").write_text("// edited by hand\n")
        (out / "types" / "user-data.ts").unlink()
        profile = out / "profile.ts"
        st = profile.stat()
        profile.write_bytes(profile.read_bytes().replace(b"Profile", b"Prophile"))  # same size
        os.utime(profile, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
        clock["ns"] = max(p.stat().st_mtime_ns for p in out.rglob("*.ts")) + 10**10
        repaired = generate("small", out, context=ctx)
        assert repaired.written == ("post.ts", "profile.ts", "types/user-data.ts")
        assert spy.calls[-1] == repaired.written
        assert output_digest(out) == cold.output_digest

    # the manifest of cache_heavy is on disk: a new context trusts it too
    clock["ns"] += 10**10
    with get_strategy("cache_heavy").make_context(cache_dir=tmp_path / "cache") as again:
        generate("small", out, context=again)
        assert spy.calls[-1] == ()
        again.clear()
        generate("small", out, context=again)  # cleared: every file is read again
        assert len(spy.calls[-1]) == 14


def test_racy_files_are_verified_by_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    spy = _Spy(monkeypatch)
    monkeypatch.setattr(cached, "_now_ns", lambda: 0)  # every run "started" before its files
    with get_strategy("sequential").make_context(cache_dir=tmp_path / "cache") as ctx:
        generate("small", out, context=ctx)
        generate("small", out, context=ctx)
        assert len(spy.calls[-1]) == 14


def test_dry_run_and_force(tmp_path: Path) -> None:
    with get_strategy("sequential").make_context(cache_dir=tmp_path / "cache") as ctx:
        dry = generate("small", tmp_path / "out", context=ctx, dry_run=True)
        assert dry.dry_run and dry.files_written == 14
        assert not (tmp_path / "out").exists()
        generate("small", tmp_path / "out", context=ctx)
        forced = generate("small", tmp_path / "out", context=ctx, force=True)
        assert (forced.files_written, forced.files_unchanged) == (14, 0)


def test_tables_filter_with_a_strategy(tmp_path: Path) -> None:
    with get_strategy("cache_heavy").make_context(cache_dir=tmp_path / "cache") as ctx:
        result = generate("small", tmp_path / "out", context=ctx, tables=["posts", "users"])
        expected = generate("small", tmp_path / "l", impl="legacy", tables=["posts", "users"])
        assert result.output_digest == expected.output_digest
        everything = generate("small", tmp_path / "all", context=ctx)
        assert everything.output_digest == legacy_digest("small", tmp_path)


def test_strategy_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="strategies run the staged pipeline; got "
                       "impl='legacy' with strategy='sequential'"):
        generate("small", tmp_path, impl="legacy", strategy="sequential")
    with get_strategy("minimal").make_context(cache_dir=tmp_path / "c") as ctx:
        with pytest.raises(ConfigError, match="strategy='sequential' does not match the "
                           "context's strategy 'minimal'"):
            generate("small", tmp_path, strategy="sequential", context=ctx)
    with pytest.raises(ConfigError, match="context must be an ExecutionContext, got str"):
        generate("small", tmp_path, context="minimal")  # type: ignore[arg-type]


def test_unsafe_table_name_with_a_strategy_writes_nothing(tmp_path: Path) -> None:
    schema = Schema(tables=(Table("../evil", (Column("id", "bigint", null=False),)),))
    with get_strategy("sequential").make_context(cache_dir=tmp_path / "cache") as ctx:
        with pytest.raises(UnsafePathError, match="must stay inside the output folder"):
            generate(schema, tmp_path / "out", context=ctx)
    assert not (tmp_path / "out").exists()


def test_strategy_without_context_uses_the_default_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = generate("small", "out", strategy="sequential")
    assert result.strategy == "sequential"
    assert result.output_digest == legacy_digest("small", tmp_path)
    assert (tmp_path / ".rrperf" / "cache").is_dir()
    data = result.to_dict()
    # the context lives for this call only: no memory-only tier (its keys would be pure
    # cost), so the one lookup is the schema's, in the disk tier (issue 10)
    assert (data["cache_hits"], data["cache_misses"]) == (0, 1)
    with get_strategy("sequential").make_context(cache_dir=tmp_path / "kept") as ctx:
        kept = generate("small", "out2", context=ctx).to_dict()
    assert (kept["cache_hits"], kept["cache_misses"]) == (0, 14)  # schema, analysis, 4 x 3
    assert kept["output_digest"] == data["output_digest"]


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_cli_generate_with_strategy(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "small", "--out", "out", "--strategy", name, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["strategy"] == name
    assert first["output_digest"] == legacy_digest("small", tmp_path)
    assert main(["generate", "small", "--out", "out", "--strategy", name, "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["files_written"] == 0
    # a new process keeps only the disk tier: there, every strategy that caches renders
    # finds the output manifest with the run's key and answers from it (one whole-run hit)
    expected_hits = {"minimal": 0}.get(name, 1)
    assert second["cache_hits"] == expected_hits


def test_generate_fuses_stages_but_names_the_failing_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rrperf.errors import StageError
    from rrperf.generator import cached as cached_mod

    def broken(ctx: object, table: str) -> None:
        raise KeyError(table)

    monkeypatch.setattr(cached_mod, "table_defaults", broken)
    with pytest.raises(StageError, match="stage 'defaults:comments' failed: KeyError") as info:
        generate("small", tmp_path / "out")
    assert isinstance(info.value.__cause__, KeyError)
    assert not (tmp_path / "out").exists()


def test_compiled_singularize_matches_inflection() -> None:
    import random
    import string

    import inflection

    from rrperf.generator.naming import singularize

    rng = random.Random(7)
    words = ["people", "sheep", "CamelOctopi", "news", "equipment", "statuses", "matrices",
             "mice", "kine", "zombies", "analyses", "Fish", "series", "children", "quizzes",
             "user_profiles", "data", "media", ""]
    words += ["".join(rng.choice(string.ascii_letters + "_") for _ in range(rng.randint(1, 10)))
              for _ in range(2000)]
    # endings of every rule, in any case, after a newline-terminated word (``$`` matches
    # before it) and with non-ASCII case folding
    ends = ["zombies", "KINE", "Kine", "oxen", "oxen\n", "axes", "crises", "Quizzes", "ices",
            "MEN", "passersby", "aliases", "buses", "octopi", "ves", "ies", "s\n", "ss",
            "\u017f", "\u0131es", "theses", "news", "ta", "shoes", "person", "ox", "mouse"]
    words += [rng.choice(["", "x", "user_", "Big", "\u00e9"]) + end for end in ends * 20]
    assert [singularize(w) for w in words] == [inflection.singularize(w) for w in words]
    from rrperf.schema.associations import pluralize

    assert [pluralize(w) for w in words] == [inflection.pluralize(w) for w in words]


@pytest.mark.parametrize("source", ["small", "polymorphic_heavy", *map(str, REAL)],
                         ids=lambda s: Path(s).name[:24])
def test_encoded_schema_round_trips_through_json(source: str) -> None:
    from rrperf.schema.sources import load_schema

    schema = load_schema(source)
    data = cached.encode_schema(schema)
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    assert cached.decode_schema(json.loads(text)) == schema
    # each distinct column value once, every table column pointing at an equal one
    assert len(data["columns"]) == distinct_columns([c for t in schema.tables for c in t.columns])
    assert len(text) < len(json.dumps(schema.to_dict(), separators=(",", ":")))
    # the piecewise text (what the disk tier stores) is the same text
    assert cached.encode_schema_text(schema) == text


def test_encoded_schema_exact_layout_and_sharing() -> None:
    from rrperf.schema.model import Default

    id_col = Column("id", "bigint", null=False, primary_key=True)
    created = Column("created_at", "datetime", null=False, default=Default("now()", True))
    schema = Schema(
        tables=(Table("a", (id_col, created)), Table("b", (Column("id", "bigint", null=False,
                                                                   primary_key=True), created))),
        version="1",
    )
    data = json.loads(json.dumps(cached.encode_schema(schema)))
    assert data["format"] == cached.SCHEMA_FORMAT == "schema-columns-1"
    assert data["columns"] == [
        ["id", "bigint", False, None, None, None, None, False, None, None, [], True, False],
        ["created_at", "datetime", False, ["now()", True], None, None, None, False, None, None,
         [], False, False],
    ]
    assert data["tables"] == [["a", [0, 1], ["id"], [], [], None, 0],
                              ["b", [0, 1], ["id"], [], [], None, 0]]
    back = cached.decode_schema(data)
    assert back == schema
    assert back.tables[0].columns[1] is back.tables[1].columns[1]  # built once
    with pytest.raises(ValueError, match="not a 'schema-columns-1' schema"):
        cached.decode_schema(schema.to_dict())


def test_schema_cached_in_an_older_layout_is_rebuilt(tmp_path: Path) -> None:
    # an entry under the schema key that decode_schema cannot read: one warning, reloaded
    from rrperf.errors import FallbackWarning
    from rrperf.schema.sources import source_fingerprint

    out = tmp_path / "out"
    with get_strategy("sequential").make_context(cache_dir=tmp_path / "c") as ctx:
        token = f"source:{source_fingerprint(SMALL_RB)}\0{os.fspath(SMALL_RB)}"
        key = cached.schema_cache_key(token)
        assert ctx.cache is not None
        ctx.cache.store_key("schema_introspection", key, {"format": "schema-columns-0"})
    with get_strategy("sequential").make_context(cache_dir=tmp_path / "c") as ctx:
        with pytest.warns(FallbackWarning, match="schema_introspection entry not decodable"):
            result = generate(SMALL_RB, out, context=ctx)
    assert result.output_digest == legacy_digest("small", tmp_path / "l")


def test_generate_checks_every_path_before_the_first_batch_writes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "types").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="resolves outside the output folder"):
        generate("small", out)
    assert sorted(p.name for p in out.iterdir()) == ["types"]
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("source", ["polymorphic_heavy", *map(str, REAL)],
                         ids=lambda s: Path(s).name[:24])
def test_packed_context_round_trips(source: str) -> None:
    from rrperf.generator.analyze import analyze_schema
    from rrperf.schema.sources import load_schema

    ctx = analyze_schema(load_schema(source))
    back = cached.unpack_context(cached.pack_context(ctx))
    assert back == ctx
    # equal columns arrive as one object (built once in the worker)
    columns = [c for info in back.tables.values() for c in info.table.columns]
    assert len({id(c) for c in columns}) == distinct_columns(columns)


def test_batch_pack_is_the_slice_the_batch_reads() -> None:
    from rrperf.schema.sources import load_schema

    plan = cached._make_plan(load_schema("polymorphic_heavy"), None, None, "base")
    ctx = plan.ctx
    batch = ctx.selected[:3]
    sub = cached.unpack_context(cached._pack_batch(plan, batch))
    assert tuple(sub.tables)[:3] == batch
    pointed = {t for n in batch for t in plan.others[n]} - set(batch)
    assert set(sub.tables) - set(batch) == pointed and pointed
    for name in batch:
        assert sub.tables[name] == ctx.tables[name]
    for name in pointed:  # stubs: names and models only
        info = sub.tables[name]
        assert (info.model, info.kebab, info.table.columns, info.has_many) == (
            ctx.tables[name].model, ctx.tables[name].kebab, (), ())
    assert sub.selected == tuple(n for n in sub.tables if n in ctx.selected_set)


@pytest.mark.parametrize("enabled", [True, False])
def test_gc_paused_restores_the_collector_state(
    enabled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with cached._gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError, match="inside"), cached._gc_paused():
            raise ValueError("inside")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_gc_is_not_paused_beside_threads_of_others(monkeypatch: pytest.MonkeyPatch) -> None:
    # off the main thread, or in a notebook kernel, the process-wide switch is left alone
    import gc
    import threading
    import types

    seen: list[bool] = []

    def run() -> None:
        with cached._gc_paused():
            seen.append(gc.isenabled())

    assert gc.isenabled()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    run()
    assert seen == [True, True]


_CYCLE_CHECK = """
import gc, json, shutil, sys
from pathlib import Path
from rrperf.engine.strategies import get_strategy
from rrperf.generator.api import generate

name, tmp = sys.argv[1], Path(sys.argv[2])
out = tmp / "out"
with get_strategy(name).make_context(cache_dir=tmp / "cache") as ctx:
    generate("synthetic:60", out, context=ctx)  # imports, template compilation
    ctx.clear()
    shutil.rmtree(out)
    gc.collect()
    gc.disable()
    cold = generate("synthetic:60", out, context=ctx)
    still_off = not gc.isenabled()  # the run restores the state it found
    found_cold = gc.collect()
    warm = generate("synthetic:60", out, context=ctx)
    found_warm = gc.collect()
    gc.enable()
print(json.dumps([cold.files_written, warm.files_written, still_off, found_cold, found_warm]))
"""


@pytest.mark.parametrize("name", ["minimal", "sequential", "cache_heavy"])
def test_a_run_leaves_no_cyclic_garbage(tmp_path: Path, name: str) -> None:
    # the cyclic collector is paused during a run: that is only sound if nothing is cyclic.
    # In a process of its own, so that garbage other tests' threads make cannot count.
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _CYCLE_CHECK, name, str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    cold_written, warm_written, still_off, found_cold, found_warm = json.loads(
        proc.stdout.splitlines()[-1]
    )
    assert (cold_written, warm_written, still_off) == (182, 0, True)
    assert (found_cold, found_warm) == (0, 0)


def test_inflection_memo_remembers_within_the_block_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from rrperf.schema import associations

    calls: list[str] = []
    real = associations._singularize

    def counting(word: str) -> str:
        calls.append(word)
        return real(word)

    monkeypatch.setattr(associations, "_singularize", counting)
    with associations.inflection_memo():
        assert [associations.singularize(w) for w in ("people", "people", "users")] == [
            "person", "person", "user"]
        with associations.inflection_memo():  # nested: the same memo
            assert associations.singularize("users") == "user"
        assert associations.pluralize("person") == associations.pluralize("person") == "people"
    assert calls == ["people", "users"]
    assert associations.singularize("people") == "person"  # outside: computed again
    assert calls == ["people", "users", "people"]


@pytest.mark.filterwarnings("ignore:.*has no TypeScript mapping")
def test_pool_batches_name_the_failing_step_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the one staged path names the per-table step whether it renders here or on the pool
    from rrperf.errors import StageError
    from rrperf.generator import cached as cached_mod

    def broken(ctx: object, table: str) -> None:
        raise KeyError(table)

    monkeypatch.setattr(cached_mod, "table_defaults", broken)
    import dataclasses

    parallel = dataclasses.replace(get_strategy("parallel"), workers=2)
    with parallel.make_context(cache_dir=tmp_path / "c") as ctx:
        ctx.executor.start_pool(cached_mod._warm_worker)  # forked after the patch
        with pytest.raises(StageError, match=r"^stage 'defaults:\w+' failed: KeyError") as info:
            generate("synthetic:40", tmp_path / "out", context=ctx)
        assert ctx.executor.pool_started
    assert info.value.stage.startswith("defaults:")
    assert not list((tmp_path / "out").rglob("*.ts"))


# --- workers forked per run (a process strategy whose pool is not running) ----------------------


@pytest.fixture
def forked_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Fork workers from 16 tables (not POOL_START_MIN_TABLES); records each fork_map's items."""
    from rrperf.engine import parallel

    monkeypatch.setattr(cached, "POOL_START_MIN_TABLES", 16)
    calls: list[int] = []
    real = parallel.fork_map

    def spy(work: Any, n_items: int, workers: int, **kws: Any) -> Any:
        calls.append(n_items)
        return real(work, n_items, workers, **kws)

    monkeypatch.setattr(parallel, "fork_map", spy)
    return calls


def _two_workers() -> Strategy:
    import dataclasses

    return dataclasses.replace(get_strategy("parallel"), workers=2)


def test_forked_run_writes_records_and_digests_what_a_serial_run_does(
    tmp_path: Path, forked_runs: list[int]
) -> None:
    from rrperf.generator.manifest import load_manifest

    def run(strategy: Strategy, name: str) -> tuple[Any, dict[str, str], Any]:
        out = tmp_path / name
        with strategy.make_context(cache_dir=tmp_path / f"cache-{name}") as ctx:
            result = generate("synthetic:60", out, context=ctx)
            manifest = load_manifest(ctx.state_dir, os.path.realpath(out))
            assert manifest is not None
            assert ctx.executor.pool_started == (ctx.executor.backend == "serial")  # no pool
            warm = generate("synthetic:60", out, context=ctx)  # from the manifest
        assert (warm.files_written, warm.output_digest) == (0, result.output_digest)
        return result, {rel: e[0] for rel, e in manifest.entries.items()}, manifest.result

    serial, serial_shas, serial_summary = run(get_strategy("sequential"), "serial")
    assert forked_runs == []
    forked, forked_shas, forked_summary = run(_two_workers(), "forked")
    assert forked_runs == [len(cached.plan_batches(60, 2, pool_started=False))]
    assert forked.output_digest == serial.output_digest == legacy_digest("synthetic:60", tmp_path)
    assert output_digest(tmp_path / "forked") == serial.output_digest
    assert forked.written == serial.written and len(forked.written) == 182
    assert forked_shas == serial_shas
    assert forked_summary == serial_summary


def test_forked_run_stores_the_schema_from_a_process_of_its_own(
    tmp_path: Path, forked_runs: list[int], forked: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rrperf.engine import parallel
    from rrperf.errors import CacheError, StageError

    stores: list[int] = []
    real_call = parallel.fork_call

    def spy(task: Any, name: str) -> Any:
        stores.append(1)
        return real_call(task, name)

    monkeypatch.setattr(parallel, "fork_call", spy)
    with _two_workers().make_context(cache_dir=tmp_path / "c") as ctx:
        first = generate("synthetic:60", tmp_path / "out", context=ctx)
        assert ctx.cache is not None
        # counted and remembered here; written to the disk by the forked process
        assert ctx.cache.stats().get("schema_introspection", "disk").entries == 1
    assert stores == [1] and len(forked) == 2  # the store's process and one worker
    assert first.cache_misses >= 1
    # a new context reads the schema the forked process stored
    with get_strategy("sequential").make_context(cache_dir=tmp_path / "c") as ctx:
        again = generate("synthetic:60", tmp_path / "out2", context=ctx)
    assert again.output_digest == first.output_digest
    assert again.cache_hits == 1 and stores == [1]
    # a store that fails fails the run, after its files are written
    monkeypatch.setattr(cached, "_encode_loaded",
                        lambda value: (_ for _ in ()).throw(CacheError("cannot encode")))
    with _two_workers().make_context(cache_dir=tmp_path / "c2") as ctx:
        with pytest.raises(CacheError, match="^cannot encode"):
            generate("synthetic:60", tmp_path / "out3", context=ctx)
    assert stores == [1, 1]
    assert output_digest(tmp_path / "out3") == first.output_digest
    # a store process that dies is named
    monkeypatch.setattr(cached, "_encode_loaded", lambda value: os.kill(os.getpid(), 9))
    with _two_workers().make_context(cache_dir=tmp_path / "c3") as ctx:
        with pytest.raises(StageError, match=r"^stage 'schema cache store' failed: worker "
                                             r"process \d+ was killed by signal 9"):
            generate("synthetic:60", tmp_path / "out4", context=ctx)
    assert output_digest(tmp_path / "out4") == first.output_digest


def test_a_run_lists_each_output_folder_once_and_forked_workers_never(
    tmp_path: Path, forked_runs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rrperf.generator import writer

    parent = os.getpid()
    listed: list[str] = []
    real = writer._listing

    def listing(folder: str) -> frozenset[str]:
        if os.getpid() != parent:
            raise AssertionError(f"a forked worker listed {folder}")
        listed.append(folder)
        return real(folder)

    monkeypatch.setattr(writer, "_listing", listing)
    with _two_workers().make_context(cache_dir=tmp_path / "c") as ctx:
        forked = generate("synthetic:60", tmp_path / "forked", context=ctx, runtime=True)
    assert forked_runs == [len(cached.plan_batches(60, 2, pool_started=False))]
    assert sorted(listed) == [str(tmp_path / "forked"), str(tmp_path / "forked" / "types")]
    assert forked.output_digest == legacy_digest("synthetic:60", tmp_path)
    del listed[:]
    serial = generate("synthetic:200", tmp_path / "serial", strategy="minimal")
    assert len(serial.written) == 602 > cached._WRITE_CHUNK_FILES  # written in two chunks
    # the folder is made by the run: only types/ is looked at, once
    assert listed == [str(tmp_path / "serial" / "types")]


def _temporaries(out: Path) -> list[str]:
    return [name for _, _, names in os.walk(out) for name in names if name.endswith(".tmp")]


@pytest.mark.filterwarnings("ignore:.*has no TypeScript mapping")
def test_forked_worker_failure_names_the_step_and_leaves_no_temporary_file(
    tmp_path: Path, forked_runs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rrperf.errors import StageError

    parent = os.getpid()
    real = cached.table_defaults

    def broken_in_workers(ctx: Any, table: str) -> Any:
        if os.getpid() != parent:
            raise KeyError(table)
        return real(ctx, table)

    monkeypatch.setattr(cached, "table_defaults", broken_in_workers)
    with _two_workers().make_context(cache_dir=tmp_path / "c") as ctx:
        with pytest.raises(StageError, match=r"^stage 'defaults:\w+' failed: KeyError"):
            generate("synthetic:60", tmp_path / "out", context=ctx)
    assert forked_runs == [len(cached.plan_batches(60, 2, pool_started=False))]
    assert _temporaries(tmp_path / "out") == []


def test_forked_worker_killed_while_writing_leaves_only_complete_files(
    tmp_path: Path, forked_runs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rrperf import atomic
    from rrperf.errors import StageError

    expected = tmp_path / "expected"
    generate("synthetic:60", expected)
    parent = os.getpid()
    real_replace = os.replace

    def die_in_workers(src: str, dst: str) -> None:  # the temporary file is written: die
        if os.getpid() != parent:
            os.kill(os.getpid(), 9)
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", die_in_workers)
    out = tmp_path / "out"
    with _two_workers().make_context(cache_dir=tmp_path / "c") as ctx:
        with pytest.raises(StageError, match=r"^stage 'fork_map' failed: worker process \d+ "
                                             r"was killed by signal 9 before sending"):
            generate("synthetic:60", out, context=ctx)
    monkeypatch.undo()
    assert _temporaries(out) == []
    for path in out.rglob("*.ts"):  # what was written is complete
        assert path.read_bytes() == (expected / path.relative_to(out)).read_bytes()
