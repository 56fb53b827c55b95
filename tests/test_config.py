from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from rrperf.config import RrperfConfig, Section, SystemConfig, load_config
from rrperf.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


FULL = """
exclude_tables = ["audits", "versions_*"]

[polymorphic_types]
commentable = ["posts", "photos"]
"comments.commentable" = ["posts"]

[systems.rails]
command = "bin/rails generate zero:active_models"
cwd = "../app"

[systems.legacy_py]
command = "python legacy.py"

[cache]
dir = ".cache"
memory_size = 256
ttl_schema_introspection = 60
ttl_template_render = 1.5
ttl_type_mapping = 0
ttl_relationships = 30

[executor]
max_workers = 4
backend = "thread"

[monitor]
interval_s = 0.05
"""


def test_defaults_when_nothing_found(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    cfg = load_config(start_dir=tmp_path, env={})
    assert cfg == RrperfConfig()
    assert cfg.source is None
    assert cfg.exclude_tables == ()
    assert dict(cfg.polymorphic_types) == {}
    assert dict(cfg.cache) == {} and dict(cfg.executor) == {} and dict(cfg.monitor) == {}


def test_full_file_values(tmp_path: Path) -> None:
    path = write(tmp_path / "rrperf.toml", FULL)
    cfg = load_config(path, env={})
    assert cfg.source == str(path)
    assert cfg.exclude_tables == ("audits", "versions_*")
    assert dict(cfg.polymorphic_types) == {
        "commentable": ("posts", "photos"),
        "comments.commentable": ("posts",),
    }
    assert dict(cfg.systems) == {
        "rails": SystemConfig("bin/rails generate zero:active_models", "../app"),
        "legacy_py": SystemConfig("python legacy.py", None),
    }
    assert dict(cfg.cache) == {
        "dir": ".cache",
        "memory_size": 256,
        "ttl_schema_introspection": 60.0,
        "ttl_template_render": 1.5,
        "ttl_type_mapping": 0.0,
        "ttl_relationships": 30.0,
    }
    assert dict(cfg.executor) == {"max_workers": 4, "backend": "thread"}
    assert dict(cfg.monitor) == {"interval_s": 0.05}
    assert cfg.to_dict()["systems"] == {
        "rails": {"command": "bin/rails generate zero:active_models", "cwd": "../app"},
        "legacy_py": {"command": "python legacy.py"},
    }


def test_config_is_frozen_hashable_and_pickles(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path / "rrperf.toml", FULL), env={})
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert hash(cfg) == hash(pickle.loads(pickle.dumps(cfg)))
    with pytest.raises(AttributeError):
        cfg.exclude_tables = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.cache["dir"] = "x"  # type: ignore[index]
    assert RrperfConfig.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_round_trip_to_dict(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path / "rrperf.toml", FULL), env={})
    assert RrperfConfig(**cfg.to_dict()) == cfg


def test_search_prefers_rrperf_toml_and_walks_up(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "pyproject.toml", '[tool.rrperf]\nexclude_tables = ["from_pyproject"]\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert load_config(start_dir=deep, env={}).exclude_tables == ("from_pyproject",)
    write(tmp_path / "a" / "rrperf.toml", 'exclude_tables = ["from_rrperf"]\n')
    cfg = load_config(start_dir=deep, env={})
    assert cfg.exclude_tables == ("from_rrperf",)
    assert cfg.source == str((tmp_path / "a" / "rrperf.toml").resolve())


def test_search_skips_pyproject_without_tool_rrperf(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "pyproject.toml", '[tool.rrperf]\nexclude_tables = ["root"]\n')
    write(tmp_path / "pkg" / "pyproject.toml", '[project]\nname = "x"\n')
    assert load_config(start_dir=tmp_path / "pkg", env={}).exclude_tables == ("root",)


def test_search_stops_at_git_folder(tmp_path: Path) -> None:
    write(tmp_path / "rrperf.toml", 'exclude_tables = ["outside"]\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert load_config(start_dir=repo, env={}) == RrperfConfig()


def test_explicit_pyproject_without_section_gives_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert load_config(path, env={}) == RrperfConfig()


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"configuration file not found: .*nope\.toml"):
        load_config(tmp_path / "nope.toml", env={})


def test_unknown_top_level_key_with_hint(tmp_path: Path) -> None:
    path = write(tmp_path / "rrperf.toml", 'exclude_table = ["a"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}: unknown key 'exclude_table'; ")
    assert "did you mean 'exclude_tables'?" in str(info.value)


def test_unknown_section_key_with_hint(tmp_path: Path) -> None:
    path = write(tmp_path / "rrperf.toml", "[cache]\nmemory_sise = 3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'cache.memory_sise'; did you mean "
                       r"'cache.memory_size'\?"):
        load_config(path, env={})


def test_unknown_system_key_and_missing_command(tmp_path: Path) -> None:
    path = write(tmp_path / "rrperf.toml", '[systems.x]\ncomand = "a"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'systems.x.comand'; did you mean "
                       r"'systems.x.command'\?"):
        load_config(path, env={})
    path = write(tmp_path / "rrperf.toml", '[systems.x]\ncwd = "a"\n')
    with pytest.raises(ConfigError, match=r"systems.x needs a 'command' string"):
        load_config(path, env={})


def test_unknown_key_without_close_match(tmp_path: Path) -> None:
    path = write(tmp_path / "rrperf.toml", "zzz = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "did you mean" not in str(info.value)
    assert "known keys: polymorphic_types, exclude_tables" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('exclude_tables = "a"', r"exclude_tables must be a list of strings, got str 'a'"),
        ("exclude_tables = [1]", r"exclude_tables item must be a string, got int 1"),
        ('[cache]\nmemory_size = "big"', r"cache.memory_size must be an integer, got str 'big'"),
        ("[cache]\nmemory_size = true", r"cache.memory_size must be an integer, got bool True"),
        ("[cache]\nmemory_size = -1", r"cache.memory_size must be >= 0, got -1"),
        ('[executor]\nbackend = "gpu"', r"executor.backend must be one of process, thread, "
         r"serial, got 'gpu'"),
        ("[executor]\nmax_workers = 0", r"executor.max_workers must be >= 1, got 0"),
        ("[executor]\nmax_workers = 1.5", r"executor.max_workers must be an integer, got float"),
        ("[monitor]\ninterval_s = 0", r"monitor.interval_s must be > 0, got 0"),
        ('[polymorphic_types]\ncommentable = "posts"',
         r"polymorphic_types.commentable must be a list of strings"),
        ("cache = 3", r"cache must be a table, got int 3"),
        ('[systems.x]\ncommand = ""', r"systems.x.command must be a non-empty string"),
    ],
)
def test_wrong_types_name_key_and_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "rrperf.toml", text + "\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}: ")


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "rrperf.toml", 'exclude_tables = ["a"]\n\n[cache\n')
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 3") as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}: ")
    assert type(info.value.__cause__).__name__ == "TOMLDecodeError"


@pytest.mark.parametrize("name", ["rrperf.toml", "pyproject.toml"])
def test_file_that_is_not_utf8_names_file_and_line(tmp_path: Path, name: str) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / name
    path.write_bytes(b'[tool.rrperf]\nexclude_tables = ["a"]\ncache = "\xff"\n')
    for call in (lambda: load_config(path, env={}), lambda: load_config(start_dir=tmp_path)):
        with pytest.raises(ConfigError) as info:
            call()
        assert str(info.value) == f"{path}: invalid TOML: not UTF-8 text (byte 0xff at line 3)"


def test_search_reads_each_file_once_and_digests_what_it_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rrperf._config_files import config_inputs

    (tmp_path / ".git").mkdir()
    write(tmp_path / "pyproject.toml", '[tool.rrperf]\nexclude_tables = ["root"]\n')
    write(tmp_path / "pkg" / "pyproject.toml", '[project]\nname = "x"\n')
    start = tmp_path / "pkg" / "src"
    start.mkdir()
    opened: list[str] = []
    real_open = open

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    monkeypatch.setattr("io.open", counting_open)  # what pathlib's read_bytes and open call
    cfg = load_config(start_dir=start, env={})
    monkeypatch.undo()
    assert cfg.exclude_tables == ("root",)
    assert cfg.source == str(tmp_path / "pyproject.toml")
    assert sorted(opened) == sorted([str(tmp_path / "pkg" / "pyproject.toml"),
                                     str(tmp_path / "pyproject.toml")])
    assert cfg.inputs == config_inputs(str(start.resolve()), {})


def test_precedence_defaults_file_env_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rrperf.toml",
        'exclude_tables = ["file"]\n[cache]\ndir = "file-dir"\nmemory_size = 7\n'
        '[executor]\nmax_workers = 2\nbackend = "thread"\n',
    )
    # file only
    cfg = load_config(path, env={})
    assert (cfg.exclude_tables, cfg.cache["dir"], cfg.executor["max_workers"]) == (
        ("file",), "file-dir", 2)
    # env beats file, key by key inside sections
    env = {"RRPERF_EXCLUDE_TABLES": "a, b,,c", "RRPERF_CACHE_DIR": "env-dir",
           "RRPERF_MAX_WORKERS": " 3 ", "UNRELATED": "x"}
    cfg = load_config(path, env=env)
    assert cfg.exclude_tables == ("a", "b", "c")
    assert dict(cfg.cache) == {"dir": "env-dir", "memory_size": 7}
    assert dict(cfg.executor) == {"max_workers": 3, "backend": "thread"}
    # keyword overrides beat env
    cfg = load_config(path, env=env, exclude_tables=["kw"], executor={"max_workers": 8},
                      cache={"memory_size": 9})
    assert cfg.exclude_tables == ("kw",)
    assert dict(cfg.cache) == {"dir": "env-dir", "memory_size": 9}
    assert dict(cfg.executor) == {"max_workers": 8, "backend": "thread"}


def test_env_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.setenv("RRPERF_EXCLUDE_TABLES", "x")
    assert load_config(start_dir=tmp_path).exclude_tables == ("x",)


def test_bad_env_value(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    with pytest.raises(ConfigError, match=r"RRPERF_MAX_WORKERS must be an integer, got 'many'"):
        load_config(start_dir=tmp_path, env={"RRPERF_MAX_WORKERS": "many"})
    with pytest.raises(ConfigError, match=r"^environment: executor.max_workers must be >= 1"):
        load_config(start_dir=tmp_path, env={"RRPERF_MAX_WORKERS": "0"})


def test_unknown_override_keyword(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    with pytest.raises(ConfigError, match=r"^load_config\(\) keyword arguments: unknown key "
                       r"'excludes_tables'; did you mean 'exclude_tables'\?"):
        load_config(start_dir=tmp_path, env={}, excludes_tables=["a"])


def test_direct_construction_is_validated() -> None:
    cfg = RrperfConfig(exclude_tables=["a"], cache={"dir": "d"},  # type: ignore[arg-type]
                       systems={"s": {"command": "run"}})  # type: ignore[dict-item]
    assert cfg.exclude_tables == ("a",)
    assert isinstance(cfg.cache, Section)
    assert cfg.systems["s"] == SystemConfig("run")
    with pytest.raises(ConfigError, match=r"^RrperfConfig: unknown key .executor.bakend.; did you"):
        RrperfConfig(executor={"bakend": "thread"})
    with pytest.raises(ConfigError, match=r"system command: expected a non-empty string"):
        SystemConfig("  ")


def test_errors_pickle() -> None:
    err = ConfigError("x: unknown key 'a'")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is ConfigError and str(again) == str(err)
