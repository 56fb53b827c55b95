"""CacheOptimizer: keys, tiers, TTLs, single flight, JSON-only disk, corruption, statistics."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import diskcache
import pandas as pd
import pytest

from rrperf.engine.cache import (
    MISS,
    REPORT_COLUMNS,
    CacheConfig,
    CacheOptimizer,
    CacheStats,
    TierStats,
    cache_key,
    file_fingerprint,
)
from rrperf.errors import CacheError, ConfigError, FallbackWarning


class Clock:
    """A settable clock."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self) -> Any:
        with self.lock:
            self.calls += 1
        return self.value


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def make(cache_dir: Path, **kw: Any) -> CacheOptimizer:
    clock = kw.pop("clock", Clock())
    wall = kw.pop("wall_clock", Clock(1000.0))
    return CacheOptimizer(CacheConfig(directory=cache_dir, **kw), clock=clock, wall_clock=wall)


# --- keys -----------------------------------------------------------------------------------------


def test_cache_key_exact_sha256() -> None:
    key = cache_key("type_mapping", "string", {"limit": 255}, version="v1")
    canonical = '[1,"v1","type_mapping",["L",["string",["M",[["limit",255]]]]]]'
    assert key == hashlib.sha256(canonical.encode()).hexdigest()
    assert key == "fd10b65caa4e6bc49bd8a4365945da683e866d154ba1ae08dc27a92792769732"


def test_cache_key_parts_are_unambiguous_and_order_free() -> None:
    assert cache_key("c", {"a": 1, "b": 2}) == cache_key("c", {"b": 2, "a": 1})
    assert cache_key("c", {1, 2, 3}) == cache_key("c", frozenset({3, 2, 1}))
    assert cache_key("c", (1, 2)) == cache_key("c", [1, 2])
    assert cache_key("c", "x") != cache_key("d", "x")
    assert cache_key("c", "x", version="1") != cache_key("c", "x", version="2")
    assert cache_key("c", ["B", "x"]) != cache_key("c", b"x")
    assert cache_key("c", 1) != cache_key("c", "1")
    bytes_digest = hashlib.sha256(b"abc").hexdigest()
    expected = f'[1,"v","c",["L",[["B","{bytes_digest}"]]]]'
    assert cache_key("c", b"abc", version="v") == hashlib.sha256(expected.encode()).hexdigest()


def test_cache_key_hashes_path_content_not_name(tmp_path: Path) -> None:
    one, two = tmp_path / "one.rb", tmp_path / "two.rb"
    one.write_bytes(b"create_table users")
    two.write_bytes(b"create_table users")
    assert cache_key("c", one) == cache_key("c", two)
    fp = "sha256:" + hashlib.sha256(b"create_table users").hexdigest()
    assert file_fingerprint(one) == fp
    expected = f'[1,"v","c",["L",["{fp}"]]]'
    assert cache_key("c", one, version="v") == hashlib.sha256(expected.encode()).hexdigest()
    assert cache_key("c", one) == cache_key("c", fp)
    two.write_bytes(b"create_table posts")
    assert cache_key("c", one) != cache_key("c", two)
    # a str is never read as a path
    assert cache_key("c", str(one)) != cache_key("c", one)


def test_cache_key_rejects_unsupported_parts(tmp_path: Path) -> None:
    with pytest.raises(CacheError, match="cannot build a cache key from a object"):
        cache_key("c", object())
    with pytest.raises(CacheError, match="cannot build a cache key from the float nan"):
        cache_key("c", float("nan"))
    with pytest.raises(CacheError, match="cannot fingerprint") as info:
        cache_key("c", tmp_path / "missing.rb")
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_dataclass_and_fingerprint_parts() -> None:
    from rrperf.schema.model import Schema

    schema = Schema(tables=())
    expected = f'[1,"v","c",["L",[["P","Schema","{schema.fingerprint()}"]]]]'
    assert cache_key("c", schema, version="v") == hashlib.sha256(expected.encode()).hexdigest()


# --- configuration ------------------------------------------------------------------------------


def test_config_validation() -> None:
    with pytest.raises(
        ConfigError,
        match="unknown cache category 'template_rendr' \\(did you mean 'template_render'\\?\\)",
    ):
        CacheConfig(ttl={"template_rendr": 10})
    with pytest.raises(
        ConfigError, match=r"ttl\['type_mapping'\] must be a number of seconds >= 0, got -1"
    ):
        CacheConfig(ttl={"type_mapping": -1})
    with pytest.raises(ConfigError, match="ttl_multiplier must be a number > 0, got 0"):
        CacheConfig(ttl_multiplier=0)
    with pytest.raises(ConfigError, match="disk_categories: unknown cache category 'relationship'"):
        CacheConfig(disk_categories=["relationship"])
    cfg = CacheConfig(memory_size=10, ttl={"type_mapping": 5}, ttl_multiplier=2)
    assert cfg.memory_size["relationships"] == 10
    assert cfg.effective_ttl("type_mapping") == 10.0
    assert cfg.effective_ttl("schema_introspection") == 14400.0
    assert cfg.disk_categories == frozenset(cfg.categories)
    custom = CacheConfig(memory_size={"tokens": 5}, ttl={"tokens": 60})
    assert custom.categories[-1] == "tokens"
    # the [cache] section of rrperf.toml is checked by rrperf.config alone (no second validator)
    assert not hasattr(CacheConfig, "from_mapping")


# --- behaviour ----------------------------------------------------------------------------------


def test_hit_miss_and_cached_none_is_a_hit(cache_dir: Path) -> None:
    opt = make(cache_dir)
    compute = Counter(None)
    assert opt.get_or_compute("type_mapping", ("boolean",), compute) is None
    assert opt.get_or_compute("type_mapping", ("boolean",), compute) is None
    assert compute.calls == 1
    mem = opt.stats().get("type_mapping", "memory")
    assert (mem.requests, mem.hits, mem.misses) == (2, 1, 1)
    assert repr(MISS) == "MISS"
    assert pickle.loads(pickle.dumps(MISS)) is MISS
    opt.close()


def test_memory_ttl_expiry_exact(cache_dir: Path) -> None:
    clock = Clock(100.0)
    opt = make(cache_dir, clock=clock, ttl={"type_mapping": 10}, disk_categories=())
    compute = Counter("string")
    opt.get_or_compute("type_mapping", ("string",), compute)
    clock.t = 109.999
    opt.get_or_compute("type_mapping", ("string",), compute)
    assert compute.calls == 1
    clock.t = 110.0  # TTLCache: alive while now < stored + ttl
    opt.get_or_compute("type_mapping", ("string",), compute)
    assert compute.calls == 2
    mem = opt.stats().get("type_mapping", "memory")
    assert (mem.requests, mem.hits, mem.misses, mem.expirations, mem.entries) == (3, 1, 2, 1, 1)


def test_disk_ttl_uses_wall_clock(cache_dir: Path) -> None:
    wall = Clock(1000.0)
    opt = make(
        cache_dir, wall_clock=wall, memory_size={"type_mapping": 0}, ttl={"type_mapping": 60}
    )
    compute = Counter("number")
    opt.get_or_compute("type_mapping", ("integer",), compute)
    wall.t = 1059.9
    opt.get_or_compute("type_mapping", ("integer",), compute)
    assert compute.calls == 1
    wall.t = 1060.0
    opt.get_or_compute("type_mapping", ("integer",), compute)
    assert compute.calls == 2
    disk = opt.stats().get("type_mapping", "disk")
    assert (disk.requests, disk.hits, disk.misses, disk.expirations, disk.entries) == (
        3,
        1,
        2,
        1,
        1,
    )
    with pytest.raises(KeyError):
        opt.stats().get("type_mapping", "memory")
    opt.close()


def test_disk_tier_serves_a_new_process_and_pickles(cache_dir: Path) -> None:
    first = make(cache_dir)
    encode = lambda value: {"columns": list(value)}  # noqa: E731
    decode = lambda data: tuple(data["columns"])  # noqa: E731
    value = first.get_or_compute(
        "relationships",
        ("users", "sha256:abc"),
        lambda: ("id", "name"),
        encode=encode,
        decode=decode,
    )
    assert value == ("id", "name")
    first.close()

    second = pickle.loads(pickle.dumps(first))
    assert second.directory == first.directory
    compute = Counter(("never",))
    again = second.get_or_compute(
        "relationships", ("users", "sha256:abc"), compute, encode=encode, decode=decode
    )
    assert again == ("id", "name") and compute.calls == 0
    stats = second.stats()
    assert stats.get("relationships", "disk").hits == 1
    assert (stats.hits, stats.misses) == (1, 0)
    second.close()


def test_directory_is_owner_only(cache_dir: Path) -> None:
    opt = make(cache_dir)
    opt.get_or_compute("type_mapping", ("x",), lambda: 1)
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    opt.close()


def test_force_refresh_and_disabled_category(cache_dir: Path) -> None:
    opt = make(cache_dir, enabled_categories=["type_mapping"])
    compute = Counter(1)
    opt.get_or_compute("type_mapping", ("a",), compute)
    opt.get_or_compute("type_mapping", ("a",), compute, force_refresh=True)
    assert compute.calls == 2
    opt.get_or_compute("type_mapping", ("a",), compute)
    assert compute.calls == 2
    off = Counter(2)
    opt.get_or_compute("relationships", ("t",), off)
    opt.get_or_compute("relationships", ("t",), off)
    assert off.calls == 2
    with pytest.raises(
        ConfigError,
        match="unknown cache category 'type_maping' \\(did you mean 'type_mapping'\\?\\)",
    ):
        opt.get_or_compute("type_maping", ("a",), compute)
    assert opt.stats().computes["type_mapping"] == 2
    opt.close()


def test_template_change_is_never_served_stale(cache_dir: Path, tmp_path: Path) -> None:
    template = tmp_path / "model.ts.j2"
    template.write_text("export class {{ name }} {}")
    opt = make(cache_dir)
    calls: list[str] = []

    def render() -> str:
        calls.append(template.read_text())
        return template.read_text().replace("{{ name }}", "User")

    def get(source: Any) -> Any:
        return opt.get_or_compute("template_render", (source, {"name": "User"}), render)

    assert get(template) == "export class User {}"
    assert get(template) == "export class User {}"
    assert len(calls) == 1
    template.write_text("export interface {{ name }} {}")
    assert get(template) == "export interface User {}"
    assert len(calls) == 2
    # a precomputed fingerprint instead of the path hits the same entry
    assert get(file_fingerprint(template)) == "export interface User {}"
    assert len(calls) == 2
    opt.close()


def test_keys_follow_their_parts(cache_dir: Path, tmp_path: Path) -> None:
    schema = tmp_path / "schema.rb"
    schema.write_text("ActiveRecord::Schema.define do\nend\n")
    opt = make(cache_dir)
    get = opt.get_or_compute
    assert get("schema_introspection", (schema,), lambda: {"tables": []}) == {"tables": []}
    assert get("schema_introspection", (schema,), lambda: "stale") == {"tables": []}
    assert get("type_mapping", ("string", {"limit": 10}), lambda: "string") == "string"
    assert get("type_mapping", ("string", {"limit": 10}), lambda: "other") == "string"
    assert get("relationships", ("users", "sha256:1"), lambda: ["posts"]) == ["posts"]
    assert get("relationships", ("users", "sha256:2"), lambda: ["comments"]) == ["comments"]
    computes = opt.stats().computes
    assert dict(computes) == {
        "schema_introspection": 1,
        "template_render": 0,
        "type_mapping": 1,
        "relationships": 2,
    }
    opt.close()


def test_value_that_is_not_json_needs_encode(cache_dir: Path) -> None:
    opt = make(cache_dir)
    with pytest.raises(CacheError, match="'type_mapping' value is not JSON data .*pass encode="):
        opt.get_or_compute("type_mapping", ("set",), lambda: {1, 2})
    memory_only = make(cache_dir, disk_categories=())
    assert memory_only.get_or_compute("type_mapping", ("set",), lambda: {1, 2}) == {1, 2}
    opt.close()


def test_single_flight_computes_once(cache_dir: Path) -> None:
    n = 4
    opt = make(cache_dir, disk_categories=())
    barrier = threading.Barrier(n)
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        # hold the computation until every other request waits for it
        with opt._flight_cond:
            assert opt._flight_cond.wait_for(lambda: opt._waiting == n - 1, timeout=30)
        return "value"

    results: list[Any] = []

    def request() -> None:
        barrier.wait()
        results.append(opt.get_or_compute("template_render", ("users",), compute))

    threads = [threading.Thread(target=request) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert results == ["value"] * n
    mem = opt.stats().get("template_render", "memory")
    assert (mem.requests, mem.misses, mem.coalesced) == (n, n, n - 1)
    assert opt.waiting == 0


def test_single_flight_shares_the_error(cache_dir: Path) -> None:
    opt = make(cache_dir, disk_categories=())
    with pytest.raises(ZeroDivisionError):
        opt.get_or_compute("type_mapping", ("x",), lambda: 1 / 0)
    # nothing cached after a failure
    assert opt.get_or_compute("type_mapping", ("x",), lambda: 5) == 5


def test_thread_safety_counts_add_up(cache_dir: Path) -> None:
    opt = make(cache_dir, disk_categories=(), memory_size={"type_mapping": 1000})
    n_threads, n_keys, rounds = 4, 20, 25

    def work() -> None:
        for _ in range(rounds):
            for k in range(n_keys):
                assert opt.get_or_compute("type_mapping", (k,), lambda k=k: k * 2) == k * 2

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = opt.stats()
    mem = stats.get("type_mapping", "memory")
    assert mem.requests == n_threads * n_keys * rounds
    assert mem.hits + mem.misses == mem.requests
    assert stats.computes["type_mapping"] == n_keys
    assert mem.entries == n_keys


# --- the disk tier never runs code ----------------------------------------------------------------


class _Planted:
    """Unpickling this object would create a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def _plant(cache_dir: Path, key: str, mode: int, value: bytes) -> None:
    con = sqlite3.connect(cache_dir / "cache.db")
    with con:
        changed = con.execute(
            "UPDATE Cache SET mode = ?, value = ? WHERE key = ?", (mode, value, key)
        ).rowcount
    con.close()
    assert changed == 1


@pytest.mark.parametrize("mode", [diskcache.core.MODE_PICKLE, diskcache.core.MODE_RAW])
def test_planted_pickle_is_never_loaded(cache_dir: Path, tmp_path: Path, mode: int) -> None:
    marker = tmp_path / "pwned"
    first = make(cache_dir)
    first.get_or_compute("type_mapping", ("string",), lambda: "string")
    first.close()
    key = cache_key("type_mapping", "string")
    _plant(cache_dir, key, mode, pickle.dumps(_Planted(marker)))

    second = make(cache_dir)
    compute = Counter("string")
    with pytest.warns(FallbackWarning, match="unusable disk cache entry") as record:
        assert second.get_or_compute("type_mapping", ("string",), compute) == "string"
        assert second.get_or_compute("type_mapping", ("other",), lambda: "x") == "x"
    assert len(record) == 1
    assert compute.calls == 1
    assert not marker.exists()
    second.close()
    # the bad row was replaced by a good one
    third = make(cache_dir)
    assert third.get_or_compute("type_mapping", ("string",), lambda: "recomputed") == "string"
    third.close()


def test_corrupt_database_warns_once_and_is_rebuilt(cache_dir: Path) -> None:
    cache_dir.mkdir(mode=0o700)
    (cache_dir / "cache.db").write_bytes(b"this is not a sqlite database" * 100)
    opt = make(cache_dir)
    compute = Counter("string")
    with pytest.warns(FallbackWarning, match="unreadable") as record:
        assert opt.get_or_compute("type_mapping", ("string",), compute) == "string"
        assert opt.get_or_compute("type_mapping", ("text",), lambda: "text") == "text"
    assert len(record) == 1
    assert compute.calls == 1
    opt.close()
    again = make(cache_dir)
    assert again.get_or_compute("type_mapping", ("string",), lambda: "recomputed") == "string"
    assert again.stats().get("type_mapping", "disk").hits == 1
    again.close()


def test_unrebuildable_disk_is_disabled_for_the_run(cache_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    opt = make(blocker / "cache")
    with pytest.warns(FallbackWarning, match="unreadable"):
        assert opt.get_or_compute("type_mapping", ("string",), lambda: "string") == "string"
    assert opt.disk_disabled_reason is not None
    assert opt.get_or_compute("type_mapping", ("string",), lambda: "other") == "string"
    assert opt.stats().disk_disabled_reason == opt.disk_disabled_reason


@pytest.mark.parametrize(
    "error",
    [sqlite3.OperationalError("database is locked"), diskcache.Timeout("busy"), OSError(5, "EIO")],
)
def test_disk_errors_translate_to_cache_error(cache_dir: Path, error: Exception) -> None:
    opt = make(cache_dir)
    with pytest.raises(CacheError, match="disk cache read failed in .*cache") as info:
        with opt._disk_errors("read"):
            raise error
    assert info.value.__cause__ is error


# --- maintenance and statistics -------------------------------------------------------------------


def test_invalidate_one_category_and_clear_all(cache_dir: Path) -> None:
    opt = make(cache_dir)
    opt.get_or_compute("type_mapping", ("a",), lambda: 1)
    opt.get_or_compute("relationships", ("t",), lambda: [1])
    opt.invalidate("type_mapping")
    stats = opt.stats()
    assert stats.get("type_mapping", "memory").entries == 0
    assert stats.get("type_mapping", "disk").entries == 0
    assert stats.get("relationships", "disk").entries == 1
    opt.clear_all_caches()
    assert opt.stats().get("relationships", "disk").entries == 0
    assert opt.stats().get("relationships", "memory").entries == 0
    opt.close()


def test_efficiency_report_exact_counts(cache_dir: Path) -> None:
    opt = make(cache_dir, memory_size={"template_render": 1}, disk_categories=["type_mapping"])
    for _ in range(3):
        opt.get_or_compute("type_mapping", ("string",), lambda: "string")
    opt.get_or_compute("template_render", ("a",), lambda: "A")
    opt.get_or_compute("template_render", ("b",), lambda: "B")  # evicts "a"
    opt.get_or_compute("template_render", ("a",), lambda: "A")  # evicts "b"
    report = opt.cache_efficiency_report()
    assert list(report.columns) == list(REPORT_COLUMNS)
    rows = report.set_index(["category", "tier"])
    # expires_at = 1000 + 14400; the entry is '[15400.0,"string"]' (18 bytes)
    assert rows.loc[
        ("type_mapping", "memory"), ["requests", "hits", "misses", "entries", "bytes"]
    ].tolist() == [3, 2, 1, 1, 18]
    assert rows.loc[
        ("type_mapping", "disk"), ["requests", "hits", "misses", "entries", "bytes"]
    ].tolist() == [1, 0, 1, 1, 18]
    assert rows.loc[("type_mapping", "memory"), "hit_rate"] == pytest.approx(2 / 3)
    assert rows.loc[
        ("template_render", "memory"), ["requests", "hits", "misses", "entries", "evictions"]
    ].tolist() == [3, 0, 3, 1, 2]
    assert ("template_render", "disk") not in rows.index
    assert pd.isna(rows.loc[("relationships", "memory"), "hit_rate"])
    assert rows.loc[("type_mapping", "memory"), "mean_hit_latency_us"] > 0
    assert len(opt.latency_samples("type_mapping", "memory", "hit")) == 2
    assert report.attrs["recommendations"] == [
        "template_render: the memory tier evicted 2 entries to stay within memory_size=1; "
        "raise memory_size (e.g. to 2)."
    ]
    opt.reset_stats()
    assert opt.stats().get("type_mapping", "memory").requests == 0
    opt.close()


def test_recommendations_for_expiry_disk_latency_and_no_reuse(cache_dir: Path) -> None:
    opt = make(cache_dir)

    def tier(category: str, tier: str, **kw: Any) -> TierStats:
        base = dict(
            requests=0,
            hits=0,
            misses=0,
            expirations=0,
            evictions=0,
            entries=0,
            bytes=0,
            mean_hit_latency_us=float("nan"),
            mean_miss_latency_us=float("nan"),
        )
        base.update(kw)
        return TierStats(category=category, tier=tier, **base)  # type: ignore[arg-type]

    stats = CacheStats(
        tiers=(
            tier("type_mapping", "memory", requests=20, hits=4, misses=16, expirations=12),
            tier("relationships", "memory", requests=10, hits=0, misses=10),
            tier(
                "relationships",
                "disk",
                requests=10,
                hits=6,
                misses=4,
                mean_hit_latency_us=50.0,
                mean_miss_latency_us=20.0,
            ),
            tier("template_render", "memory", requests=12, misses=12),
            tier("template_render", "disk", requests=12, misses=12),
        ),
        computes={},
        hits=10,
        misses=0,
    )
    assert opt._recommend(stats) == [
        "type_mapping: memory hit rate is 20% with 12 expirations; raise its ttl (now 14400 s) "
        "or ttl_multiplier.",
        "relationships: a disk hit takes 50.0 µs but recomputing takes 20.0 µs; leave "
        "relationships out of disk_categories.",
        "template_render: 12 requests and no hits: its values are never reused; consider "
        "leaving it out of enabled_categories.",
    ]
    assert opt.cache_recommendations() == []


def test_pickled_state_is_the_configuration(cache_dir: Path) -> None:
    opt = make(cache_dir, memory_size=7)
    state = opt.__getstate__()
    assert set(state) == {"config", "clock", "wall_clock"}
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.config == opt.config
    assert Path(clone.config.directory).is_absolute()
    assert json.loads(json.dumps(clone.config.memory_size))["type_mapping"] == 7


def test_lookup_then_store_counts_as_get_or_compute_does(cache_dir: Path) -> None:
    opt = make(cache_dir, disk_categories=["type_mapping"])
    key = cache_key("type_mapping", "string")
    assert opt.lookup_key("type_mapping", key) is MISS
    assert opt.hit_miss_counts() == (0, 0)  # nothing computed yet
    opt.store_key("type_mapping", key, ["string", 1], encode=list)
    assert opt.lookup_key("type_mapping", key) == ["string", 1]
    assert opt.hit_miss_counts() == (1, 1)
    stats = opt.stats()
    mem, disk = stats.get("type_mapping", "memory"), stats.get("type_mapping", "disk")
    assert (mem.requests, mem.hits, mem.misses) == (2, 1, 1)
    assert (disk.requests, disk.hits, disk.misses) == (1, 0, 1)
    # a new process (empty memory) is served by the disk tier through decode
    again = make(cache_dir, disk_categories=["type_mapping"])
    assert again.lookup_key("type_mapping", key, decode=tuple) == ("string", 1)
    disk = again.stats().get("type_mapping", "disk")
    assert (disk.requests, disk.hits, disk.misses) == (1, 1, 0)
    # a disabled category is never cached; an unknown one is an error
    off = make(cache_dir / "off", enabled_categories=["type_mapping"])
    assert off.lookup_key("relationships", key) is MISS
    off.store_key("relationships", key, 1)
    assert off.lookup_key("relationships", key) is MISS
    with pytest.raises(ConfigError, match="unknown cache category 'relationship'"):
        off.lookup_key("relationship", key)
    for o in (opt, again, off):
        o.close()


def test_memory_bytes_are_measured_when_reported(cache_dir: Path) -> None:
    # memory-only entries are sized (as JSON) when a report asks, not when stored
    opt = make(cache_dir, disk_categories=[])
    opt.store_key("template_render", "k1", [["a.ts", "x = 'é'", "00"]])
    opt.get_or_compute_key("template_render", "k2", lambda: "plain")
    entries = opt._memory["template_render"]
    assert [e[1] for e in entries.values()] == [None, None]
    mem = opt.stats().get("template_render", "memory")
    # '[["a.ts","x = \'\\u00e9\'","00"]]' is 30 bytes (json escapes é); '"plain"' is 7
    assert mem.bytes == 30 + 7
    assert sorted(e[1] for e in entries.values()) == [7, 30]
    assert opt.stats().get("template_render", "memory").bytes == 37
    opt.close()


def test_undecodable_disk_entry_is_dropped_with_one_warning(cache_dir: Path) -> None:
    opt = make(cache_dir, disk_categories=["type_mapping"])
    key = cache_key("type_mapping", "string")
    opt.store_key("type_mapping", key, {"shape": "old"})
    opt.close()

    def decode(data: Any) -> Any:
        return data["new"]

    again = make(cache_dir, disk_categories=["type_mapping"])
    message = r"type_mapping entry not decodable \(KeyError: 'new'\)"
    with pytest.warns(FallbackWarning, match=message):
        assert again.lookup_key("type_mapping", key, decode=decode) is MISS
    assert again.get_or_compute_key("type_mapping", key, lambda: "fresh", decode=decode) == "fresh"
    assert again.stats().get("type_mapping", "disk").entries == 1
    third = make(cache_dir, disk_categories=["type_mapping"])
    assert third.lookup_key("type_mapping", key) == "fresh"
    for o in (again, third):
        o.close()


def test_store_many_is_store_key_for_each(cache_dir: Path) -> None:
    opt = make(cache_dir, disk_categories=["template_render"])
    items = [(cache_key("template_render", str(i)), [f"f{i}.ts", "x" * i]) for i in range(5)]
    opt.store_many("template_render", items, encode=list)
    assert opt.hit_miss_counts() == (0, 5)
    for key, value in items:
        assert opt.lookup_key("template_render", key) == value
    stats = opt.stats()
    mem, disk = stats.get("template_render", "memory"), stats.get("template_render", "disk")
    assert (mem.entries, disk.entries) == (5, 5)
    assert mem.bytes == disk.bytes  # the same JSON texts, sized once
    fresh = make(cache_dir, disk_categories=["template_render"])
    assert [fresh.lookup_key("template_render", k) for k, _ in items] == [v for _, v in items]
    opt.store_many("relationships", [])  # nothing to store is fine
    with pytest.raises(CacheError, match="'template_render' value is not JSON data"):
        opt.store_many("template_render", [("k", {1, 2})])
    for o in (opt, fresh):
        o.close()


def test_an_encode_may_return_json_text(cache_dir: Path) -> None:
    from rrperf.engine.cache import JSONText

    opt = make(cache_dir, disk_categories=["schema_introspection"])
    key = cache_key("schema_introspection", "s")
    opt.store_key("schema_introspection", key, ("a", 1),
                  encode=lambda v: JSONText('{"a":1,"b":[2,3.5]}'))
    opt.close()
    fresh = make(cache_dir, disk_categories=["schema_introspection"])
    assert fresh.lookup_key("schema_introspection", key) == {"a": 1, "b": [2, 3.5]}
    # the entry is [expires_at, payload]: the wall clock (1000) + the 7200 s TTL
    assert fresh.stats().get("schema_introspection", "disk").bytes == len(
        '[8200.0,{"a":1,"b":[2,3.5]}]'
    )
    fresh.close()


def test_memory_hits_move_a_key_in_the_lru_order(cache_dir: Path) -> None:
    clock = Clock(100.0)
    opt = make(cache_dir, clock=clock, memory_size={"type_mapping": 2}, disk_categories=())
    a, b, c = (cache_key("type_mapping", x) for x in "abc")
    for key in (a, b):
        opt.get_or_compute_key("type_mapping", key, lambda: "v")
    clock.t = 100.5
    assert opt.get_or_compute_key("type_mapping", a, _never) == "v"  # a is now the most recent
    opt.get_or_compute_key("type_mapping", c, lambda: "v")  # evicts b, the least recent
    assert opt.lookup_key("type_mapping", b) is MISS
    assert opt.lookup_key("type_mapping", a) == "v"
    mem = opt.stats().get("type_mapping", "memory")
    assert (mem.evictions, mem.entries) == (1, 2)
    opt.close()


def _never() -> Any:
    raise AssertionError("computed what should be a hit")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('[1e12,"string"] trailing', "extra data at character 15"),
        ('{"not": "an entry"}', "not a JSON cache entry"),
        ("[1e12", "not a JSON cache entry"),
    ],
)
def test_malformed_disk_entry_is_dropped_and_recomputed(
    cache_dir: Path, text: str, why: str
) -> None:
    first = make(cache_dir)
    first.get_or_compute("type_mapping", ("string",), lambda: "string")
    first.close()
    _plant(cache_dir, cache_key("type_mapping", "string"), diskcache.core.MODE_RAW,
           text.encode())
    second = make(cache_dir)
    with pytest.warns(FallbackWarning, match=why):
        assert second.get_or_compute("type_mapping", ("string",), lambda: "again") == "again"
    second.close()


@pytest.mark.parametrize(("memory_size", "reads"), [(16, 1), (0, 2)])
def test_a_miss_reads_the_disk_once_when_memory_backs_it(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, memory_size: int, reads: int
) -> None:
    # with a memory tier, the leader's re-check in memory covers what another leader stored;
    # without one, the leader reads the disk again before computing
    opt = make(cache_dir, disk_categories=["type_mapping"],
               memory_size={"type_mapping": memory_size})
    calls: list[str] = []
    real = opt._disk_read

    def counting(category: str, key: str, decode: Any = None) -> Any:
        calls.append(key)
        return real(category, key, decode)

    monkeypatch.setattr(opt, "_disk_read", counting)
    key = cache_key("type_mapping", "string")
    assert opt.get_or_compute_key("type_mapping", key, lambda: "string") == "string"
    assert len(calls) == reads
    disk = opt.stats().get("type_mapping", "disk")
    assert (disk.requests, disk.hits, disk.misses, disk.entries) == (1, 0, 1, 1)
    opt.close()


def test_store_key_later_counts_and_remembers_now_and_writes_the_disk_when_called(
    cache_dir: Path, forked: list[int]
) -> None:
    from rrperf.engine.parallel import fork_call

    opt = make(cache_dir, disk_categories=["schema_introspection"])
    key = cache_key("schema_introspection", "s")
    assert opt.lookup_key("schema_introspection", key) is MISS  # opens the database here
    write = opt.store_key_later("schema_introspection", key, {"tables": [1, 2]})
    # counted as a computation and in the memory tier at once; not on the disk yet
    assert opt.lookup_key("schema_introspection", key) == {"tables": [1, 2]}
    assert opt.hit_miss_counts() == (1, 1)
    assert opt.stats().get("schema_introspection", "disk").entries == 0
    # written by a forked process, through its own connection to the database
    assert fork_call(write).wait() is None
    assert len(forked) == 1
    assert opt.stats().get("schema_introspection", "disk").entries == 1
    fresh = make(cache_dir, disk_categories=["schema_introspection"])
    assert fresh.lookup_key("schema_introspection", key) == {"tables": [1, 2]}
    # a category without a disk tier: nothing left to do; a value that is not JSON data
    # fails when written
    memory_only = opt.store_key_later("type_mapping", cache_key("type_mapping", "t"), "x")
    assert memory_only() is None
    assert opt.stats().get("type_mapping", "memory").entries == 1
    bad = opt.store_key_later("schema_introspection", cache_key("schema_introspection", "b"),
                              {1, 2})
    with pytest.raises(CacheError, match="'schema_introspection' value is not JSON data"):
        bad()
    with pytest.raises(ConfigError, match="unknown cache category 'nope'"):
        opt.store_key_later("nope", "k", 1)
    for o in (opt, fresh):
        o.close()


def test_disk_tier_is_opened_and_imported_only_when_first_used(cache_dir: Path) -> None:
    import subprocess
    import sys

    from rrperf.engine import cache as cache_mod

    assert cache_mod._DBNAME == diskcache.core.DBNAME
    # importing the module imports neither diskcache nor sqlite3
    probe = ("import sys, rrperf.engine.cache; "
             "print(sorted(m for m in ('diskcache', 'sqlite3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    # a lookup before anything was stored is a miss that creates nothing
    opt = make(cache_dir, disk_categories=["schema_introspection"])
    key = cache_key("schema_introspection", "s")
    assert opt.lookup_key("schema_introspection", key) is MISS
    assert not cache_dir.exists()
    opt.store_key("schema_introspection", key, [1, 2])  # the first store creates it
    assert opt.hit_miss_counts() == (0, 1)
    assert (cache_dir / diskcache.core.DBNAME).is_file()
    fresh = make(cache_dir, disk_categories=["schema_introspection"])
    assert fresh.lookup_key("schema_introspection", key) == [1, 2]
    for o in (opt, fresh):
        o.close()
