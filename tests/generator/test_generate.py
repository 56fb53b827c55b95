"""End-to-end generation: golden files, legacy == pipeline, change detection, safety, API."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from conftest import (
    REAL_SCHEMA_DIR,
    REAL_SCHEMAS,
    SCENARIO_NAMES,
    build_blog_schema,
    build_hostile_schema,
    load_quietly,
)

import rrperf.generator.cached as cached_mod
from rrperf.errors import ConfigError, SchemaWarning, StageError, UnsafePathError
from rrperf.generator import (
    GenerationResult,
    generate,
    generate_legacy,
    output_digest,
    run_pipeline,
)
from rrperf.generator.analyze import analyze_schema
from rrperf.schema.model import Column, Default, Schema, Table

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("RRPERF_UPDATE_GOLDEN") == "1"


def _tree(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _replace_column(schema: Schema, table: str, column: Column) -> Schema:
    tables = []
    for t in schema.tables:
        if t.name == table:
            cols = tuple(column if c.name == column.name else c for c in t.columns)
            t = dataclasses.replace(t, columns=cols)
        tables.append(t)
    return dataclasses.replace(schema, tables=tuple(tables))


# --- golden files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["small", "blog"])
def test_golden_output(name: str, tmp_path: Path) -> None:
    schema = build_blog_schema() if name == "blog" else load_quietly(name)
    result = run_pipeline(schema, tmp_path)
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(tmp_path, golden)
    assert _tree(tmp_path) == _tree(golden), (
        f"output differs from {golden}; if the change is intended, rerun with "
        "RRPERF_UPDATE_GOLDEN=1 and review the diff"
    )
    assert result.output_digest == output_digest(golden)


def test_small_golden_file_list() -> None:
    assert sorted(_tree(GOLDEN / "small")) == [
        "comment.ts", "index.ts", "post.ts", "profile.ts", "reactive-comment.ts",
        "reactive-post.ts", "reactive-profile.ts", "reactive-user.ts", "rrperf-runtime.d.ts",
        "types/comment-data.ts",
        "types/post-data.ts", "types/profile-data.ts", "types/user-data.ts", "user.ts",
    ]


def test_blog_types_file_exact() -> None:
    text = (GOLDEN / "blog" / "types" / "user-data.ts").read_text(encoding="utf-8")
    body = text[text.index("export interface") :]
    assert body == (
        "export interface UserData {\n"
        "  id: number;\n"
        "  email: string;\n"
        "  /** Display name, shown *\\/ publicly */\n"
        "  name?: string;\n"
        "  role: 'member' | 'admin';\n"
        "  settings: Record<string, unknown>;\n"
        "  admin: boolean;\n"
        "  balance?: number;\n"
        "  tags?: string[];\n"
        "  avatar?: Uint8Array;\n"
        "  token?: string;\n"
        "  discarded_at?: string | number;\n"
        "  created_at: string | number;\n"
        "  updated_at: string | number;\n"
        "}\n"
        "\n"
        "/** Attributes accepted when creating a User. */\n"
        "export type CreateUserData = Omit<UserData, 'id' | 'created_at' | 'updated_at'>;\n"
        "\n"
        "/** Attributes accepted when updating a User. */\n"
        "export type UpdateUserData = Partial<CreateUserData>;\n"
    )


def test_blog_model_config_and_relationships_exact() -> None:
    text = (GOLDEN / "blog" / "post.ts").read_text(encoding="utf-8")
    assert "const PostConfig: ModelConfig<PostData> = {\n" in text
    assert (
        "  defaults: {\n    title: 'Untitled',\n    order: 0,\n  },\n" in text
    )
    assert (
        "registerModelRelationships('posts', {\n"
        "  user: { type: 'belongsTo', model: 'User', foreignKey: 'user_id' },\n"
        "  comments: { type: 'hasMany', model: 'Comment', foreignKey: 'commentable_id', "
        "as: 'commentable' },\n"
        "  post_tags: { type: 'hasMany', model: 'PostTag', foreignKey: 'post_id' },\n"
        "  tags: { type: 'hasMany', model: 'Tag', foreignKey: 'post_id', through: 'post_tags', "
        "source: 'tag' },\n"
        "});\n"
    ) in text
    join = (GOLDEN / "blog" / "post-tag.ts").read_text(encoding="utf-8")
    assert "  primaryKey: ['post_id', 'tag_id'],\n" in join
    user = (GOLDEN / "blog" / "user.ts").read_text(encoding="utf-8")
    assert "  supportsDiscard: true,\n" in user
    assert (
        "  defaults: {\n    role: 'member',\n    settings: {},\n    admin: false,\n"
        "    balance: 0,\n    tags: [],\n  },\n"
    ) in user


def test_output_has_no_wall_clock_time_and_names_the_schema_version() -> None:
    index = (GOLDEN / "blog" / "index.ts").read_text(encoding="utf-8")
    assert index.startswith(
        "/**\n * Generated models: 5 tables from schema version 20240501100000.\n"
    )
    for text in _tree(GOLDEN / "blog").values():
        assert b"Generated at" not in text and b"Generated on" not in text


# --- legacy == pipeline ---------------------------------------------------------------------


def _assert_identical(schema: Schema, tmp_path: Path) -> None:
    legacy = generate_legacy(schema, tmp_path / "legacy")
    piped = run_pipeline(schema, tmp_path / "pipeline")
    digest = output_digest(tmp_path / "legacy")
    assert legacy.output_digest == piped.output_digest == digest
    assert output_digest(tmp_path / "pipeline") == digest
    n = len(schema.tables)
    assert (legacy.n_tables, legacy.files_total) == (piped.n_tables, piped.files_total) == (
        n, 3 * n + 2,  # three files per table, index.ts and rrperf-runtime.d.ts
    )


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_legacy_and_pipeline_identical_on_scenarios(name: str, tmp_path: Path) -> None:
    schema = load_quietly(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        _assert_identical(schema, tmp_path)


@pytest.mark.parametrize("name", REAL_SCHEMAS)
def test_legacy_and_pipeline_identical_on_real_schemas(name: str, tmp_path: Path) -> None:
    schema = load_quietly(REAL_SCHEMA_DIR / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        _assert_identical(schema, tmp_path)


@pytest.mark.parametrize("builder", [build_blog_schema, build_hostile_schema])
def test_legacy_and_pipeline_identical_on_hand_built(builder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _assert_identical(builder(), tmp_path)


@pytest.mark.parametrize("name", REAL_SCHEMAS)
def test_real_schemas_have_no_unknown_column_types(name: str, tmp_path: Path) -> None:
    schema = load_quietly(REAL_SCHEMA_DIR / name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        generate_legacy(schema, tmp_path, dry_run=True)
    assert [str(w.message) for w in caught if w.category is SchemaWarning] == []


def test_real_schema_database_types_are_typed(tmp_path: Path) -> None:
    schema = load_quietly(REAL_SCHEMA_DIR / "rubygems__rubygems.org__schema.rb")
    generate_legacy(schema, tmp_path)
    version = (tmp_path / "types" / "version-data.ts").read_text(encoding="utf-8")
    assert "  metadata: Record<string, string | null>;\n" in version
    address = (tmp_path / "types" / "ip-address-data.ts").read_text(encoding="utf-8")
    assert "  ip_address: string;\n" in address
    job = (tmp_path / "types" / "good-job-execution-data.ts").read_text(encoding="utf-8")
    assert "  duration?: number;\n" in job
    model = (tmp_path / "version.ts").read_text(encoding="utf-8")
    assert "    metadata: {},\n" in model


# --- the staged path ----------------------------------------------------------------------


def test_table_called_index_gets_distinct_stage_names(tmp_path: Path) -> None:
    schema = Schema(tables=(Table("index", (Column("id", "bigint", null=False),)),))
    assert cached_mod.stage_name("render", "index") == "render:index (table)"
    assert cached_mod.stage_name("render", "users") == "render:users"
    result = run_pipeline(schema, tmp_path)
    assert sorted(result.written) == [
        "index-2.ts", "index.ts", "reactive-index-2.ts", "rrperf-runtime.d.ts",
        "types/index-2-data.ts",
    ]


def test_unexpected_stage_failure_is_a_stage_error(
    blog_schema: Schema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: object, table: str) -> None:
        raise KeyError(table)

    monkeypatch.setattr(cached_mod, "table_defaults", broken)
    with pytest.raises(StageError, match="stage 'defaults:users' failed: KeyError") as info:
        run_pipeline(blog_schema, tmp_path)
    assert isinstance(info.value.__cause__, KeyError)
    assert _tree(tmp_path) == {}


# --- write-if-changed -----------------------------------------------------------------------


def test_second_run_writes_nothing(blog_schema: Schema, tmp_path: Path) -> None:
    first = run_pipeline(blog_schema, tmp_path)
    assert first.files_written == first.files_total == 17
    second = run_pipeline(blog_schema, tmp_path)
    assert (second.files_written, second.files_unchanged) == (0, 17)
    assert second.written == ()
    assert second.output_digest == first.output_digest == output_digest(tmp_path)


def test_changed_column_rewrites_only_its_files(blog_schema: Schema, tmp_path: Path) -> None:
    run_pipeline(blog_schema, tmp_path)
    typed = _replace_column(
        blog_schema, "posts", Column("order", "bigint", null=True, default=Default(0))
    )
    assert run_pipeline(typed, tmp_path).written == ("types/post-data.ts",)
    defaulted = _replace_column(
        typed, "posts", Column("title", "text", null=True, default=Default("New"))
    )
    result = run_pipeline(defaulted, tmp_path)
    assert result.written == ("post.ts", "reactive-post.ts", "types/post-data.ts")
    assert result.files_unchanged == 14
    assert output_digest(tmp_path) == result.output_digest


def test_new_table_rewrites_index(blog_schema: Schema, tmp_path: Path) -> None:
    run_pipeline(blog_schema, tmp_path)
    grown = dataclasses.replace(
        blog_schema,
        tables=(*blog_schema.tables, Table("notes", (Column("id", "bigint", null=False),))),

    )
    assert run_pipeline(grown, tmp_path).written == (
        "index.ts", "note.ts", "reactive-note.ts", "types/note-data.ts",
    )


def test_old_timestamp_headers_compare_equal(blog_schema: Schema, tmp_path: Path) -> None:
    run_pipeline(blog_schema, tmp_path)
    target = tmp_path / "user.ts"
    text = target.read_text(encoding="utf-8")
    old = "// Generated at 2024-05-01T10:00:00Z\r\n" + text.replace("\n", "  \r\n\r\n")
    target.write_bytes(old.encode())
    result = run_pipeline(blog_schema, tmp_path)
    assert result.files_written == 0
    assert target.read_bytes() == old.encode()
    forced = run_pipeline(blog_schema, tmp_path, force=True)
    assert forced.files_written == 17
    assert target.read_text(encoding="utf-8") == text
    assert output_digest(tmp_path) == forced.output_digest


@pytest.mark.parametrize("impl", ["legacy", "pipeline"])
def test_dry_run_lists_everything_and_writes_nothing(
    impl: str, blog_schema: Schema, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = generate(blog_schema, out, impl=impl, dry_run=True)
    assert result.dry_run is True
    assert result.files_written == 17
    assert result.written[:3] == ("comment.ts", "index.ts", "post-tag.ts")
    assert "rrperf-runtime.d.ts" in result.written
    assert not out.exists()


def test_legacy_always_rewrites(blog_schema: Schema, tmp_path: Path) -> None:
    generate_legacy(blog_schema, tmp_path)
    again = generate_legacy(blog_schema, tmp_path)
    assert (again.files_written, again.files_unchanged) == (17, 0)


@pytest.mark.parametrize("impl", ["legacy", "pipeline"])
@pytest.mark.parametrize("table", ["../x", "/etc/x", "a/../../x"])
def test_unsafe_table_names_are_rejected_before_writing(
    impl: str, table: str, blog_schema: Schema, tmp_path: Path
) -> None:
    schema = dataclasses.replace(
        blog_schema,
        tables=(*blog_schema.tables, Table(table, (Column("id", "bigint", null=False),))),

    )
    out = tmp_path / "out"
    with pytest.raises(UnsafePathError, match="must stay inside the output folder"):
        generate(schema, out, impl=impl)
    assert _tree(tmp_path) == {}


def test_atomic_writes_leave_no_temporary_files(blog_schema: Schema, tmp_path: Path) -> None:
    generate_legacy(blog_schema, tmp_path)
    run_pipeline(blog_schema, tmp_path, force=True)
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


# --- filters and the API ----------------------------------------------------------------------


def test_filtered_tables_skip_relationships_to_missing_models(
    blog_schema: Schema, tmp_path: Path
) -> None:
    result = generate(blog_schema, tmp_path, tables=["posts", "comments"])
    assert result.n_tables == 2
    assert sorted(_tree(tmp_path)) == [
        "comment.ts", "index.ts", "post.ts", "reactive-comment.ts", "reactive-post.ts",
        "rrperf-runtime.d.ts", "types/comment-data.ts", "types/post-data.ts",
    ]
    post = (tmp_path / "post.ts").read_text(encoding="utf-8")
    assert "model: 'User'" not in post and "model: 'Tag'" not in post
    assert "  comments: { type: 'hasMany', model: 'Comment'" in post


def test_exclude_tables(blog_schema: Schema, tmp_path: Path) -> None:
    result = generate(blog_schema, tmp_path, exclude_tables=["post_tags", "tags"], dry_run=True)
    assert result.n_tables == 3


@pytest.mark.parametrize("option", ["tables", "exclude_tables"])
def test_unknown_table_names_are_config_errors(
    option: str, blog_schema: Schema, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=rf"{option}: unknown table 'nope'"):
        generate(blog_schema, tmp_path, **{option: ["users", "nope"]})


def test_generate_rejects_unknown_impl_and_strategy(blog_schema: Schema, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="impl must be one of 'legacy', 'pipeline', got 'fast'"):
        generate(blog_schema, tmp_path, impl="fast")
    with pytest.raises(ConfigError, match="unknown strategy 'turbo'; valid strategies: "
                       "sequential, parallel, cache_heavy, balanced, minimal"):
        generate(blog_schema, tmp_path, strategy="turbo")


def test_generate_from_a_scenario_name(tmp_path: Path) -> None:
    result = generate("small", tmp_path, impl="legacy")
    assert isinstance(result, GenerationResult)
    assert (result.impl, result.strategy, result.n_tables, result.files_total) == (
        "legacy", None, 4, 14,
    )
    assert result.output_digest == output_digest(GOLDEN / "small")
    data = json.loads(json.dumps(result.to_dict()))
    assert data["written"] == list(result.written)
    assert data["output_digest"] == result.output_digest


def test_generation_result_validates_counts() -> None:
    with pytest.raises(ConfigError, match="files_written must equal len\\(written\\), got 2 and 1"):
        GenerationResult("legacy", None, 1, 4, 2, 0, "d", 0.0, written=("a",))


def test_analysis_context_keeps_all_tables(blog_schema: Schema) -> None:
    ctx = analyze_schema(blog_schema, tables=["posts"])
    assert ctx.selected == ("posts",)
    assert list(ctx.tables) == ["users", "posts", "comments", "tags", "post_tags"]
    assert ctx.paths == ("types/post-data.ts", "post.ts", "reactive-post.ts", "index.ts")


def test_import_stays_light() -> None:
    code = (
        "import sys, rrperf.generator; "
        "print([m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_generator_version_is_the_packages() -> None:
    import rrperf

    assert cached_mod.generator_version() == f"rrperf-{rrperf.__version__}"


@pytest.mark.parametrize(
    ("impl", "strategy", "source", "parts"),
    [
        ("legacy", None, "medium", ("legacy",)),
        ("pipeline", "auto", "medium", ("fast", "pipeline", "engine")),
        ("pipeline", "auto", "synthetic:300", ("fast", "pipeline", "engine")),
        ("pipeline", "sequential", "medium", ("fast", "pipeline", "engine", "cache", "monitor")),
    ],
)
def test_wall_s_leaves_out_the_same_imports(
    tmp_path: Path, impl: str, strategy: str | None, source: str, parts: tuple[str, ...]
) -> None:
    # In a new process, the run imports the modules TIMED_IMPORTS names for its path (their
    # import time is left out of wall_s); an ``auto`` run imports no cache machinery
    # (diskcache, sqlite3) nor the monitor, with or without workers. Workers are forked
    # (fork_map): no pool module is imported.
    code = (
        "import sys, json, os\n"
        "from rrperf.generator import api\n"
        "before = set(sys.modules)\n"
        "forks, real_fork = [], os.fork\n"
        "os.fork = lambda: forks.append(1) or real_fork()\n"
        # synthetic:300 with workers: the threshold for a new process lowered to 256
        + ("import rrperf.generator.cached as c\nc.POOL_START_MIN_TABLES = 256\n"
           if source == "synthetic:300" else "")
        + f"r = api.generate({source!r}, 'out', impl={impl!r}, strategy={strategy!r})\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
        "print(json.dumps({k: list(v) for k, v in api.TIMED_IMPORTS.items()}))\n"
        "print(len(forks))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    new_lines = out.stdout.splitlines()
    imported = set(json.loads(new_lines[0]))
    timed = json.loads(new_lines[1])
    expected = {m for part in parts for m in timed[part]}
    assert expected <= imported
    assert "concurrent.futures.process" not in imported
    assert int(new_lines[2]) == (1 if source == "synthetic:300" else 0)  # one worker forked
    if strategy == "auto":
        assert not imported & {"diskcache", "sqlite3", "psutil", "rrperf.engine.cache",
                               "rrperf.engine.monitor"}


def test_unknown_types_warn_once_per_table_and_column(tmp_path: Path) -> None:
    schema = Schema(
        tables=(
            Table(
                "hosts",
                (
                    Column("id", "bigint", null=False),
                    Column("ip", "geometry"),
                    Column("mood", "enum", enum_type="missing"),
                    Column("ok", "string"),
                ),
            ),
            Table("skipped", (Column("ip", "geometry"),)),
        )
    )
    with pytest.warns(SchemaWarning) as record:
        result = run_pipeline(schema, tmp_path, tables=["hosts"])
    assert [str(w.message) for w in record] == [
        "hosts.ip: column type 'geometry' has no TypeScript mapping; typed as unknown",
        "hosts.mood: enum type 'missing' has no known values; typed as unknown",
    ]
    assert result.files_total == 5
    text = (tmp_path / "types" / "host-data.ts").read_text(encoding="utf-8")
    assert "  ip?: unknown;\n  mood?: unknown;\n" in text


def test_second_run_logs_no_changes(
    blog_schema: Schema, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_pipeline(blog_schema, tmp_path)
    with caplog.at_level("INFO", logger="rrperf.generator.cached"):
        run_pipeline(blog_schema, tmp_path)
    assert f"no changes: all 17 files unchanged in {tmp_path}" in caplog.messages


# --- the runtime declaration ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["legacy", "pipeline", "sequential", "parallel"])
def test_runtime_declaration_is_written_by_every_path(
    how: str, blog_schema: Schema, tmp_path: Path
) -> None:
    from rrperf.generator.render import RUNTIME_DTS
    from rrperf.generator.runtime_file import RUNTIME_PATH, runtime_file

    assert runtime_file() == (RUNTIME_PATH, RUNTIME_DTS.read_text(encoding="utf-8"))
    kws = {"strategy": how} if how in ("sequential", "parallel") else {"impl": how}
    with_rt = generate(blog_schema, tmp_path / "with", **kws)  # type: ignore[arg-type]
    assert (tmp_path / "with" / "rrperf-runtime.d.ts").read_bytes() == RUNTIME_DTS.read_bytes()
    assert "rrperf-runtime.d.ts" in with_rt.written
    assert with_rt.output_digest == generate_legacy(blog_schema, tmp_path / "l").output_digest
    without = generate(blog_schema, tmp_path / "without", runtime=False, **kws)  # type: ignore[arg-type]
    assert not (tmp_path / "without" / "rrperf-runtime.d.ts").exists()
    assert without.files_total == with_rt.files_total - 1 == 16
    assert without.output_digest == output_digest(tmp_path / "without")
    assert without.output_digest == generate_legacy(
        blog_schema, tmp_path / "l2", runtime=False).output_digest
    # a second run: legacy rewrites everything, the others leave the declaration alone
    again = generate(blog_schema, tmp_path / "with", **kws)  # type: ignore[arg-type]
    if how == "legacy":
        assert "rrperf-runtime.d.ts" in again.written
    else:
        assert "rrperf-runtime.d.ts" in again.unchanged and again.files_written == 0


def test_runtime_option_is_checked_and_reaches_the_index_stage(
    blog_schema: Schema, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="^runtime must be True or False, got 'no'$"):
        generate(blog_schema, tmp_path, runtime="no")  # type: ignore[arg-type]
    assert not tmp_path.joinpath("index.ts").exists()
    result = run_pipeline(blog_schema, tmp_path, runtime=False)
    assert "index.ts" in result.written and "rrperf-runtime.d.ts" not in result.written


def test_pipeline_without_a_strategy_runs_the_minimal_strategy(
    blog_schema: Schema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one staged path: no strategy is the ``minimal`` strategy, which leaves nothing behind
    # but the output folder (no cache or manifest under the working directory)
    from rrperf.generator.api import PLAIN_STRATEGY

    monkeypatch.chdir(tmp_path)
    plain = generate(blog_schema, "out")
    assert (PLAIN_STRATEGY, plain.impl, plain.strategy) == ("minimal", "pipeline", "minimal")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    named = generate(blog_schema, "named", strategy="minimal")
    assert (named.output_digest, named.written) == (plain.output_digest, plain.written)
    assert run_pipeline(blog_schema, "out").strategy == "minimal"
