"""The package version: written here only (``pyproject.toml`` reads it, ``dynamic``), so
that a command asking for it (every cache key holds it) does not search the installed
distributions' metadata with ``importlib.metadata`` (~10 ms of a command's start-up).
Imported on demand: ``rrperf.__version__`` loads it lazily."""

__version__ = "0.1.0"
