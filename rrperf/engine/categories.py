"""The cache categories the engine's clients register; the engine itself names none.

A category is one kind of cached value with its own default time to live and memory-tier
size. :class:`~rrperf.engine.cache.CacheConfig`, the strategies
(:mod:`rrperf.engine.strategies`) and the ``[cache] ttl_<category>`` keys of
:mod:`rrperf.config` read :data:`CATEGORIES`; the generator registers its four
(:mod:`rrperf.generator.categories`, imported by :mod:`rrperf`, so before any of those).
A named tuple rather than a dataclass: ``import rrperf`` loads this module, and
:mod:`dataclasses` would add its ``inspect`` import (~8 ms).
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False  # not typing's: a warm command imports no typing (rrperf.cli._warm)
if TYPE_CHECKING:
    from typing import NamedTuple

    class Category(NamedTuple):
        """Defaults of one cache category.

        Parameters
        ----------
        ttl_s : float
            Time to live in seconds.
        memory_size : int
            Memory-tier entries of a :class:`~rrperf.engine.cache.CacheOptimizer`.
        context_memory_size : int
            Memory-tier entries of a strategy's context (sized for the largest inputs).
        standard_disk : bool
            Whether "standard caching" keeps it on disk too (values worth keeping across runs).
        """

        ttl_s: float
        memory_size: int
        context_memory_size: int
        standard_disk: bool = False

else:  # the same named tuple without typing's import (~4 ms of a warm command)
    Category = collections.namedtuple(
        "Category", ("ttl_s", "memory_size", "context_memory_size", "standard_disk"),
        defaults=(False,), module=__name__,
    )
    Category.__doc__ = (
        "Defaults of one cache category: ttl_s, memory_size, context_memory_size, "
        "standard_disk (see the type-checked definition above)."
    )


#: Every registered category by name, in registration order.
CATEGORIES: dict[str, Category] = {}


def register_category(name: str, category: Category) -> None:
    """Add (or redefine) the category ``name``."""
    CATEGORIES[name] = category
