"""The generator's cache categories, registered with the engine (:mod:`rrperf.engine.categories`).

Entries per category: one schema per source; templates, mappings and relationships scale with
tables x files (coursemology: 176 tables x 3 files), and a strategy's context holds one entry
per table for schemas of tens of thousands of tables. Parsed schemas are what "standard
caching" keeps on disk, so a new process re-parses nothing that did not change.
"""

from __future__ import annotations

from rrperf.engine.categories import Category, register_category

register_category("schema_introspection", Category(7200.0, 16, 16, standard_disk=True))
register_category("template_render", Category(3600.0, 4096, 65_536))
register_category("type_mapping", Category(14400.0, 4096, 65_536))
register_category("relationships", Category(3600.0, 2048, 65_536))
