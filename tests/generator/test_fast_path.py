"""A repeat without a context (a new process) is answered from the output manifest before any
parsing, and falls back to the full run on any change."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from rrperf.errors import SchemaWarning
from rrperf.generator import manifest as manifest_mod
from rrperf.generator.api import generate
from rrperf.generator.digest import output_digest


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    import rrperf.schema.sources as sources

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the schema was loaded")

    monkeypatch.setattr(sources, "load_schema", refuse)


def _age(out: Path, seconds: float = 10.0) -> None:
    """Make every output file clearly older than its manifest (not racily clean)."""
    for path in out.rglob("*.ts"):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


@pytest.fixture
def schema_rb(tmp_path: Path) -> Path:
    from rrperf.schema.scenarios import get_scenario

    src = get_scenario("small").path
    assert src is not None
    copy = tmp_path / "schema.rb"
    shutil.copyfile(src, copy)
    return copy


def test_repeat_is_answered_without_parsing(
    tmp_path: Path, schema_rb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    cold = generate(schema_rb, out, strategy="sequential", cache_dir=cache)
    assert cold.files_written == cold.files_total > 1
    _no_parsing(monkeypatch)
    warm = generate(schema_rb, out, strategy="cache_heavy", cache_dir=cache)
    assert (warm.files_written, warm.files_unchanged) == (0, cold.files_total)
    assert warm.unchanged == tuple(sorted((*cold.written, *cold.unchanged)))
    assert (warm.output_digest, warm.n_tables) == (cold.output_digest, cold.n_tables)
    assert (warm.cache_hits, warm.strategy) == (1, "cache_heavy")
    assert warm.output_digest == output_digest(out)


def test_racy_files_are_hashed_then_recorded_again(
    tmp_path: Path, schema_rb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    generate(schema_rb, out, strategy="sequential", cache_dir=cache)
    real_out = os.path.realpath(out)
    state = cache / "state"
    m = manifest_mod.load_manifest(state, real_out)
    assert m is not None and m.run_key is not None
    # as if recorded before every file was written: each one is read and hashed once
    m.recorded_ns = 0
    manifest_mod.save_manifest(state, real_out, m)
    opened: list[str] = []
    real_sha = manifest_mod._sha256_of
    monkeypatch.setattr(manifest_mod, "_sha256_of", lambda p: opened.append(p) or real_sha(p))
    _no_parsing(monkeypatch)
    assert generate(schema_rb, out, strategy="sequential", cache_dir=cache).files_written == 0
    again = manifest_mod.load_manifest(state, real_out)
    assert again is not None and again.recorded_ns > 0


def test_files_written_within_the_racy_margin_are_recorded_by_content_then_by_stat(
    tmp_path: Path, schema_rb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    state, real_out = cache / "state", os.path.realpath(out)
    margin = manifest_mod.RACY_NS
    monkeypatch.setattr(manifest_mod, "RACY_NS", 10**12)  # every file is written "just now"
    cold = generate(schema_rb, out, strategy="sequential", cache_dir=cache)
    m = manifest_mod.load_manifest(state, real_out)
    assert m is not None and sorted(m.entries) == sorted(cold.written)
    assert {entry[1:] for entry in m.entries.values()} == {(-1, -1, -1, -1)}  # no stat
    monkeypatch.setattr(manifest_mod, "RACY_NS", margin)
    _age(out)
    first = sorted(cold.written)[0]
    path = out / first
    st = path.stat()
    path.write_bytes(path.read_bytes().upper())  # same size, same mtime: the content tells
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = generate(schema_rb, out, strategy="sequential", cache_dir=cache)
    assert again.written == (first,)
    _no_parsing(monkeypatch)
    warm = generate(schema_rb, out, strategy="sequential", cache_dir=cache)
    assert (warm.files_written, warm.output_digest) == (0, cold.output_digest)
    m = manifest_mod.load_manifest(state, real_out)
    assert m is not None
    for rel, entry in m.entries.items():  # the one rewritten is verified, then stat'ed too
        st = (out / rel).stat()
        assert entry == (entry[0], st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@pytest.mark.parametrize("change", ["edit", "delete", "schema", "filter", "other_out"])
def test_any_change_falls_back_to_the_full_run(
    change: str, tmp_path: Path, schema_rb: Path
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    cold = generate(schema_rb, out, strategy="sequential", cache_dir=cache)
    _age(out)
    first = sorted(cold.written)[0]
    kws: dict[str, Any] = {}
    target = out
    if change == "edit":
        path = out / first
        st = path.stat()
        path.write_bytes(path.read_bytes().upper())  # same size, same mtime
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "delete":
        (out / first).unlink()
    elif change == "schema":
        schema_rb.write_text(schema_rb.read_text() + "\n")
    elif change == "filter":
        from rrperf.schema.sources import load_schema

        kws["exclude_tables"] = [load_schema(schema_rb).tables[0].name]
    else:
        target = tmp_path / "out2"
    again = generate(schema_rb, target, strategy="sequential", cache_dir=cache, **kws)
    legacy_out = tmp_path / f"legacy-{change}"
    legacy = generate(schema_rb, legacy_out, impl="legacy", **kws)
    assert again.output_digest == legacy.output_digest == output_digest(legacy_out)
    if change in ("edit", "delete"):
        assert again.written == (first,)
    if change == "filter":
        assert again.n_tables == cold.n_tables - 1
    if change == "other_out":
        assert again.files_written == again.files_total


def test_minimal_and_force_and_dry_run_always_run_in_full(
    tmp_path: Path, schema_rb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    generate(schema_rb, out, strategy="cache_heavy", cache_dir=cache)
    _age(out)
    forced = generate(schema_rb, out, strategy="cache_heavy", cache_dir=cache, force=True)
    assert forced.files_written == forced.files_total
    _no_parsing(monkeypatch)
    with pytest.raises(AssertionError, match="the schema was loaded"):
        generate(schema_rb, out, strategy="minimal", cache_dir=cache)
    # a dry run renders (from the cached schema): the fast path never answers one
    dry = generate(schema_rb, out, strategy="cache_heavy", cache_dir=cache, dry_run=True)
    assert dry.dry_run and dry.files_total == forced.files_total


def test_the_warnings_of_the_recorded_run_are_issued_again(tmp_path: Path) -> None:
    source = tmp_path / "virtual.rb"
    source.write_text(
        'ActiveRecord::Schema[7.1].define(version: 1) do\n'
        '  create_table "posts", force: :cascade do |t|\n'
        '    t.string "title"\n'
        '  end\n'
        '  create_virtual_table "search", "fts5", ["title"]\n'
        'end\n'
    )
    out, cache = tmp_path / "out", tmp_path / "cache"
    with pytest.warns(SchemaWarning, match="skipped create_virtual_table"):
        generate(source, out, strategy="sequential", cache_dir=cache)
    _age(out)
    with pytest.warns(SchemaWarning, match="skipped create_virtual_table"):
        warm = generate(source, out, strategy="sequential", cache_dir=cache)
    assert warm.cache_hits == 1
    # and from the schema cache of a context, when the run is not answered whole
    (out / "index.ts").unlink()
    with pytest.warns(SchemaWarning, match="skipped create_virtual_table"):
        assert generate(source, out, strategy="sequential", cache_dir=cache).written == (
            "index.ts",
        )


@pytest.mark.parametrize("strategy", ["auto", "sequential"])
def test_the_run_key_is_that_of_the_bytes_parsed(
    tmp_path: Path, schema_rb: Path, monkeypatch: pytest.MonkeyPatch, strategy: str
) -> None:
    # The schema file edited after the run read it: the recorded key is the parsed bytes'
    # sha256 (not the file's at the end of the run), so the next run sees the edit.
    import hashlib

    import rrperf.schema.rails as rails

    out, cache = tmp_path / "out", tmp_path / "cache"
    parsed = schema_rb.read_bytes()
    parse = rails._parse

    def parse_then_edit(text: str, name: str, stacklevel: int = 2) -> Any:
        schema_rb.write_text(text.replace('t.string "author_ip"', 't.string "author_host"'))
        return parse(text, name, stacklevel=stacklevel + 1)

    monkeypatch.setattr(rails, "_parse", parse_then_edit)
    opened: list[str] = []
    real_sha = manifest_mod._sha256_of
    monkeypatch.setattr(manifest_mod, "_sha256_of", lambda p: opened.append(p) or real_sha(p))
    cold = generate(schema_rb, out, strategy=strategy, cache_dir=cache)
    assert opened == []  # not read again for the run key
    m = manifest_mod.load_manifest(cache / "state", os.path.realpath(out))
    as_parsed = tmp_path / "as-parsed.rb"
    as_parsed.write_bytes(parsed)
    assert hashlib.sha256(parsed).hexdigest() != hashlib.sha256(schema_rb.read_bytes()).hexdigest()
    assert m is not None and m.run_key == manifest_mod.run_key(
        as_parsed, os.path.realpath(out), impl="pipeline", tables=None, exclude_tables=None,
    )
    monkeypatch.setattr(rails, "_parse", parse)
    again = generate(schema_rb, out, strategy=strategy, cache_dir=cache)
    assert again.written == ("types/comment-data.ts",)  # the edit, not a fast-path answer
    assert again.output_digest != cold.output_digest


def test_a_new_manifest_is_created_in_place_and_an_existing_one_replaced(
    tmp_path: Path, schema_rb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rrperf.atomic as atomic

    out, cache = tmp_path / "out", tmp_path / "cache"
    replaced: list[str] = []
    write_bytes = atomic.write_bytes
    monkeypatch.setattr(atomic, "write_bytes", lambda p, d, **k: replaced.append(os.fspath(p))
                        or write_bytes(p, d, **k))
    generate(schema_rb, out, strategy="auto", cache_dir=cache)
    path = manifest_mod.manifest_file(cache / "state", os.path.realpath(out))
    assert [p for p in replaced if p == path] == []  # created in place (the state folder too)
    assert sorted(os.listdir(cache / "state")) == [os.path.basename(path)]  # no temporary
    with open(path, "rb") as f:
        f.read()
    (out / "post.ts").write_text("// edited\n")
    generate(schema_rb, out, strategy="auto", cache_dir=cache)
    assert [p for p in replaced if p == path] == [path]  # an existing one: replaced atomically
    # a truncated manifest (a reader racing the first write, or a crash) is ignored
    with open(path, "rb") as f:
        data = f.read()
    for cut in (0, 1, len(data) // 2, len(data) - 1):
        with open(path, "wb") as f:
            f.write(data[:cut])
        assert manifest_mod.load_manifest(cache / "state", os.path.realpath(out)) is None
