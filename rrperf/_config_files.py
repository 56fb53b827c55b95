"""What the configuration search reads, as a digest (standard library only: the warm
command, :mod:`rrperf.cli._warm`, keys its run with it before :mod:`rrperf.config`, TOML or
typing are imported; :func:`rrperf.config.load_config` records it in ``RrperfConfig.inputs``)."""

from __future__ import annotations

import os

from rrperf._util import sha256

TYPE_CHECKING = False  # not typing's: the warm command never imports typing
if TYPE_CHECKING:
    from collections.abc import Mapping


def config_inputs(
    start_dir: str,
    env: Mapping[str, str],
    candidates: list[tuple[str, bytes]] | None = None,
) -> str:
    """A digest of everything :func:`rrperf.config.load_config`'s search reads from
    ``start_dir`` (a real path): every ``rrperf.toml`` and ``pyproject.toml`` it may open, by
    path and content, and the ``RRPERF_*`` variables of ``env``.

    It visits the folders the search does (up to the first ``rrperf.toml`` or the first
    folder holding ``.git``), and every ``pyproject.toml`` on the way, a superset of the
    files the search reads: equal digests mean the search finds the same configuration,
    so the run key of a command (:func:`rrperf.generator.manifest.options_token`) can be
    computed without parsing TOML (the warm command, :mod:`rrperf.cli._warm`).
    ``candidates``: :func:`config_candidates` of ``start_dir`` if the caller has them
    (:func:`rrperf.config.load_config` digests and parses the same bytes).
    """
    parts: list[str] = sorted(f"{k}={v}" for k, v in env.items() if k.startswith("RRPERF_"))
    if candidates is None:
        candidates = config_candidates(start_dir)
    for path, data in candidates:
        parts.append(f"{path}\0{sha256(data).hexdigest()}")
    return sha256("\0".join(parts).encode()).hexdigest()


#: The content :func:`config_candidates` gives a file it cannot read.
UNREADABLE = b"\0unreadable"


def config_candidates(start_dir: str) -> list[tuple[str, bytes]]:
    """``(path, content)`` of each ``rrperf.toml`` / ``pyproject.toml`` from ``start_dir``
    upwards, in search order, up to the first ``rrperf.toml`` or folder holding ``.git``
    (:data:`UNREADABLE` for one that cannot be read)."""
    found: list[tuple[str, bytes]] = []
    folder = start_dir
    while True:
        for name in ("rrperf.toml", "pyproject.toml"):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                try:
                    with open(path, "rb") as f:
                        found.append((path, f.read()))
                except OSError:
                    found.append((path, UNREADABLE))
                if name == "rrperf.toml":
                    return found
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")) or parent == folder:
            return found
        folder = parent
