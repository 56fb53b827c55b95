"""Project configuration: ``rrperf.toml`` or ``[tool.rrperf]`` in ``pyproject.toml``.

One frozen :class:`RrperfConfig` carries everything a run needs to know about the project
being measured. It is built by :func:`load_config`, which merges four layers; the last one
wins, key by key:

1. defaults (the dataclass defaults: nothing excluded, no systems, empty sections),
2. the configuration file (``rrperf.toml``, else ``pyproject.toml`` ``[tool.rrperf]``),
3. environment variables: ``RRPERF_EXCLUDE_TABLES`` (comma separated),
   ``RRPERF_CACHE_DIR`` (``cache.dir``) and ``RRPERF_MAX_WORKERS`` (``executor.max_workers``),
4. keyword overrides passed to :func:`load_config` (what the CLI flags become).

Every key and its effect: README, "Configuration: rrperf.toml".

The ``cache``, ``executor`` and ``monitor`` sections are kept as read-only mappings holding
only the keys that were set (each component applies its own defaults for the others). This
module is the one validator of every section: keys and value types are checked here, so a
typo fails at load time with a did-you-mean hint; the engine's components take the checked
values (:class:`rrperf.engine.strategies.ExecutionContext` applies ``[cache]``,
``[executor]`` and ``[monitor]``; :func:`rrperf.schema.sources.load_schema` applies
``exclude_tables`` and ``polymorphic_types``). Nothing is read at import time, and the library
reads no file unless asked: the command line finds the file and passes the configuration on
(``config=``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rrperf._util import is_number
from rrperf.engine.categories import CATEGORIES
from rrperf.errors import ConfigError

__all__ = [
    "CONFIG_FILE_NAMES",
    "ENV_VARS",
    "RrperfConfig",
    "Section",
    "SystemConfig",
    "load_config",
]

logger = logging.getLogger(__name__)

#: File names looked for, in this order, in each directory from ``start_dir`` upwards.
CONFIG_FILE_NAMES: tuple[str, ...] = ("rrperf.toml", "pyproject.toml")

#: Environment variables read by :func:`load_config` and the key each one sets.
ENV_VARS: Mapping[str, str] = {
    "RRPERF_EXCLUDE_TABLES": "exclude_tables",
    "RRPERF_CACHE_DIR": "cache.dir",
    "RRPERF_MAX_WORKERS": "executor.max_workers",
}

_EXECUTOR_BACKENDS = ("process", "thread", "serial")


class Section(Mapping[str, Any]):
    """A read-only, hashable, picklable mapping (one validated config section).

    Parameters
    ----------
    data : mapping
        The keys and values; copied.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._data.items())))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Section({self._data!r})"

    def __getstate__(self) -> dict[str, Any]:
        return self._data

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._data = state


@dataclass(frozen=True)
class SystemConfig:
    """A system measured through a shell command.

    Parameters
    ----------
    command : str
        The command line, run through the shell.
    cwd : str or None
        Working directory for the command; ``None`` means the current directory.

    Raises
    ------
    ConfigError
        If ``command`` is not a non-empty string or ``cwd`` is not a string or None.
    """

    command: str
    cwd: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.command, str) or not self.command.strip():
            raise ConfigError(
                f"system command: expected a non-empty string, got {self.command!r}"
            )
        if self.cwd is not None and not isinstance(self.cwd, str):
            raise ConfigError(f"system cwd: expected a string, got {_type_name(self.cwd)}")


# --- key specifications ----------------------------------------------------------------------
# Each section key maps to (expected type description, checker) where the checker returns the
# normalised value or raises ValueError with the constraint that failed.


def _check_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _number_check(*, integer: bool, low: int, strict: bool = False) -> Callable[[Any], Any]:
    """A checker of an integer (or of any number) ``>= low`` (``> low`` when ``strict``)."""

    def check(value: Any) -> Any:
        if not is_number(value) or (integer and not isinstance(value, int)):
            raise TypeError
        if value < low or (strict and value == low):
            raise ValueError(f"must be {'>' if strict else '>='} {low}")
        return int(value) if integer else float(value)

    return check


def _check_backend(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    if value not in _EXECUTOR_BACKENDS:
        raise ValueError(f"must be one of {', '.join(_EXECUTOR_BACKENDS)}")
    return value


_SECTION_KEYS: dict[str, dict[str, tuple[str, Any]]] = {
    "cache": {
        "dir": ("a string", _check_str),
        "memory_size": ("an integer", _number_check(integer=True, low=0)),
        **{f"ttl_{name}": ("a number of seconds", _number_check(integer=False, low=0))
           for name in CATEGORIES},
    },
    "executor": {
        "max_workers": ("an integer", _number_check(integer=True, low=1)),
        "backend": ("a string", _check_backend),
    },
    "monitor": {
        "interval_s": ("a number of seconds", _number_check(integer=False, low=0, strict=True)),
    },
}

_TOP_KEYS: tuple[str, ...] = (
    "polymorphic_types",
    "exclude_tables",
    "systems",
    "cache",
    "executor",
    "monitor",
)
_SYSTEM_KEYS: tuple[str, ...] = ("command", "cwd")


def _type_name(value: Any) -> str:
    return type(value).__name__


def _unknown_key(key: str, known: tuple[str, ...] | list[str], where: str) -> ConfigError:
    import difflib

    hint = difflib.get_close_matches(key, list(known), n=1)
    msg = f"{where}: unknown key {key!r}"
    if hint:
        msg += f"; did you mean {hint[0]!r}?"
    msg += f" (known keys: {', '.join(known)})"
    return ConfigError(msg)


def _wrong_type(key: str, expected: str, value: Any, where: str) -> ConfigError:
    return ConfigError(f"{where}: {key} must be {expected}, got {_type_name(value)} {value!r}")


def _norm_str_tuple(key: str, value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _wrong_type(key, "a list of strings", value, where)
    for item in value:
        if not isinstance(item, str):
            raise _wrong_type(f"{key} item", "a string", item, where)
    return tuple(value)


def _norm_polymorphic(value: Any, where: str) -> Section:
    if not isinstance(value, Mapping):
        raise _wrong_type("polymorphic_types", "a table of lists", value, where)
    out: dict[str, tuple[str, ...]] = {}
    for name, tables in value.items():
        out[str(name)] = _norm_str_tuple(f"polymorphic_types.{name}", tables, where)
    return Section(out)


def _norm_systems(value: Any, where: str) -> Section:
    if not isinstance(value, Mapping):
        raise _wrong_type("systems", "a table of system tables", value, where)
    out: dict[str, SystemConfig] = {}
    for name, spec in value.items():
        key = f"systems.{name}"
        if isinstance(spec, SystemConfig):
            out[str(name)] = spec
            continue
        if not isinstance(spec, Mapping):
            raise _wrong_type(key, "a table with 'command' (and optional 'cwd')", spec, where)
        for sub in spec:
            if sub not in _SYSTEM_KEYS:
                raise _unknown_key(f"{key}.{sub}", [f"{key}.{k}" for k in _SYSTEM_KEYS], where)
        if "command" not in spec:
            raise ConfigError(f"{where}: {key} needs a 'command' string")
        command, cwd = spec["command"], spec.get("cwd")
        if not isinstance(command, str) or not command.strip():
            raise _wrong_type(f"{key}.command", "a non-empty string", command, where)
        if cwd is not None and not isinstance(cwd, str):
            raise _wrong_type(f"{key}.cwd", "a string", cwd, where)
        out[str(name)] = SystemConfig(command=command, cwd=cwd)
    return Section(out)


def _norm_section(section: str, value: Any, where: str) -> Section:
    if not isinstance(value, Mapping):
        raise _wrong_type(section, "a table", value, where)
    spec = _SECTION_KEYS[section]
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in spec:
            raise _unknown_key(f"{section}.{key}", [f"{section}.{k}" for k in spec], where)
        expected, check = spec[key]
        try:
            out[key] = check(item)
        except TypeError:
            raise _wrong_type(f"{section}.{key}", expected, item, where) from None
        except ValueError as err:
            raise ConfigError(f"{where}: {section}.{key} {err}, got {item!r}") from None
    return Section(out)


def _normalise(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check the keys and types of a raw configuration mapping; return dataclass kwargs."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _TOP_KEYS:
            raise _unknown_key(key, _TOP_KEYS, where)
        if key == "polymorphic_types":
            out[key] = _norm_polymorphic(value, where)
        elif key == "exclude_tables":
            out[key] = _norm_str_tuple(key, value, where)
        elif key == "systems":
            out[key] = _norm_systems(value, where)
        else:
            out[key] = _norm_section(key, value, where)
    return out


@dataclass(frozen=True)
class RrperfConfig:
    """The project configuration (immutable; build it with :func:`load_config`).

    Parameters
    ----------
    polymorphic_types : mapping of str to tuple of str
        For a polymorphic association, the tables it may point at. Keys are the association
        name (``"commentable"``) or the owner-qualified ``"comments.commentable"``.
    exclude_tables : tuple of str
        Tables (``fnmatch`` patterns allowed) left out of every schema, on top of the Rails
        internal tables ``schema_migrations`` and ``ar_internal_metadata``.
    systems : mapping of str to SystemConfig
        Systems measured through a shell command, by name.
    cache, executor, monitor : mapping
        The keys set in those sections (see the module docstring for the known keys).
    source : str or None
        The file the configuration was read from, if any (not compared).
    inputs : str or None
        Set by :func:`load_config` when it searched for the file: a digest of what the
        search read (:func:`rrperf._config_files.config_inputs`), which keys a command's
        output manifest. Not compared, and not copied by :func:`dataclasses.replace` (a
        changed configuration is keyed by its values).

    Raises
    ------
    ConfigError
        If a field has the wrong type or value, naming the field.
    """

    polymorphic_types: Mapping[str, tuple[str, ...]] = field(default_factory=Section)
    exclude_tables: tuple[str, ...] = ()
    systems: Mapping[str, SystemConfig] = field(default_factory=Section)
    cache: Mapping[str, Any] = field(default_factory=Section)
    executor: Mapping[str, Any] = field(default_factory=Section)
    monitor: Mapping[str, Any] = field(default_factory=Section)
    source: str | None = field(default=None, compare=False)
    inputs: str | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        fields = {
            "polymorphic_types": self.polymorphic_types,
            "exclude_tables": self.exclude_tables,
            "systems": self.systems,
            "cache": self.cache,
            "executor": self.executor,
            "monitor": self.monitor,
        }
        for key, value in _normalise(fields, "RrperfConfig").items():
            object.__setattr__(self, key, value)

    def cache_ttls(self) -> dict[str, float]:
        """The ``[cache] ttl_<category>`` keys set, as ``{category: seconds}``."""
        return {
            key[len("ttl_"):]: float(value)
            for key, value in self.cache.items()
            if key.startswith("ttl_")
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (TOML/JSON shaped), e.g. for run metadata."""
        return {
            "polymorphic_types": {k: list(v) for k, v in self.polymorphic_types.items()},
            "exclude_tables": list(self.exclude_tables),
            "systems": {
                k: {"command": s.command, **({"cwd": s.cwd} if s.cwd is not None else {})}
                for k, s in self.systems.items()
            },
            "cache": dict(self.cache),
            "executor": dict(self.executor),
            "monitor": dict(self.monitor),
        }


# --- loading -----------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read configuration file {path}: {err.strerror or err}") from err
    return _parse_toml(path, data)


def _parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    """The TOML document ``data`` read from ``path``; a ConfigError naming the file and line."""
    import tomllib  # only when there is a file: a command without one starts sooner

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ConfigError(
            f"{path}: invalid TOML: not UTF-8 text (byte 0x{data[err.start]:02x} at line {line})"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        # The message ends with "(at line L, column C)".
        raise ConfigError(f"{path}: invalid TOML: {err}") from err


def _section_of(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    """The rrperf part of a parsed file: ``[tool.rrperf]`` for pyproject.toml, else all."""
    if path.name != "pyproject.toml":
        return document
    tool = document.get("tool", {})
    section = tool.get("rrperf", {}) if isinstance(tool, dict) else {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.rrperf] must be a table, got {_type_name(section)}")
    return section


def _find_config_file(
    candidates: list[tuple[str, bytes]],
) -> tuple[Path, dict[str, Any]] | None:
    """The file the search uses and its document: among ``candidates``
    (:func:`rrperf._config_files.config_candidates`: every ``rrperf.toml`` and
    ``pyproject.toml`` from the start folder up to the first ``rrperf.toml`` or folder holding
    ``.git``, read once), the first ``rrperf.toml`` or ``pyproject.toml`` with a
    ``[tool.rrperf]`` table."""
    from rrperf._config_files import UNREADABLE

    for name, data in candidates:
        path = Path(name)
        document = _read_toml(path) if data == UNREADABLE else _parse_toml(path, data)
        if path.name == "rrperf.toml":
            return path, document
        tool = document.get("tool", {})
        if isinstance(tool, dict) and "rrperf" in tool:
            return path, document
    return None


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The configuration layer the ``RRPERF_*`` environment variables describe."""
    layer: dict[str, Any] = {}
    raw = env.get("RRPERF_EXCLUDE_TABLES")
    if raw is not None:
        layer["exclude_tables"] = [p.strip() for p in raw.split(",") if p.strip()]
    raw = env.get("RRPERF_CACHE_DIR")
    if raw is not None:
        layer["cache"] = {"dir": raw}
    raw = env.get("RRPERF_MAX_WORKERS")
    if raw is not None:
        try:
            workers = int(raw.strip())
        except ValueError:
            raise ConfigError(
                f"environment: RRPERF_MAX_WORKERS must be an integer, got {raw!r}"
            ) from None
        layer["executor"] = {"max_workers": workers}
    return layer


def _merge(base: dict[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """Overlay ``layer`` on ``base``: sections merge key by key, other keys are replaced."""
    out = dict(base)
    for key, value in layer.items():
        if key in _SECTION_KEYS and isinstance(value, Mapping) and key in out:
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    start_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    search: bool = True,
    **overrides: Any,
) -> RrperfConfig:
    """Load the configuration: defaults < file < environment < keyword overrides.

    Parameters
    ----------
    path : str, path-like or None
        The configuration file. A file named ``pyproject.toml`` contributes its
        ``[tool.rrperf]`` table (empty when absent); any other file is read whole. ``None``
        searches ``start_dir`` and its parents, up to the first folder containing ``.git``,
        for ``rrperf.toml``, then for a ``pyproject.toml`` with a ``[tool.rrperf]`` table;
        when nothing is found the defaults are used.
    start_dir : str, path-like or None
        Where the search starts; the current directory when ``None``.
    env : mapping or None
        The environment to read ``RRPERF_*`` variables from; ``os.environ`` when ``None``
        (pass ``{}`` to ignore the environment).
    search : bool
        With ``path=None``: search for a file (True) or read none (False: defaults,
        environment and overrides only).
    **overrides
        Top-level keys (``exclude_tables=...``, ``cache={"dir": ...}`` ...). Sections merge
        key by key with the lower layers; other keys replace them.

    Returns
    -------
    RrperfConfig

    Raises
    ------
    ConfigError
        If the file is missing or not valid TOML (with its line), a key is unknown (with a
        did-you-mean hint), or a value has the wrong type, naming the key and where it was set.
    """
    environ = os.environ if env is None else env
    inputs = None
    file: Path | None = None
    document: dict[str, Any] | None = None
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"configuration file not found: {file}")
        document = _read_toml(file)
    elif search:
        from rrperf._config_files import config_candidates, config_inputs

        base = (Path(start_dir) if start_dir is not None else Path.cwd()).resolve()
        candidates = config_candidates(str(base))  # each file read once, digested and parsed
        if not overrides:  # what the search reads
            inputs = config_inputs(str(base), environ, candidates)
        found = _find_config_file(candidates)
        if found is not None:
            file, document = found

    merged: dict[str, Any] = {}
    if file is not None:
        assert document is not None
        logger.debug("reading configuration from %s", file)
        merged = _normalise(_section_of(file, document), str(file))
    env_layer = _from_env(environ)
    merged = _merge(merged, _normalise(env_layer, "environment"))
    merged = _merge(merged, _normalise(overrides, "load_config() keyword arguments"))
    config = RrperfConfig(**merged, source=str(file) if file is not None else None)
    object.__setattr__(config, "inputs", inputs)
    return config
