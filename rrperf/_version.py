"""The package version, read once from the installed package's metadata (``pyproject.toml``
is the only place it is written). Imported on demand: ``rrperf.__version__`` loads it lazily."""

from importlib.metadata import version

__version__ = version("rrperf")
