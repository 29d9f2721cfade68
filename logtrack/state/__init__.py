"""The state: what was read of which file, the counts per day, the uploads.

- ``store``: the SQLite database, its lock, its schema, and
  the calls the jobs make (files, counts, uploads).

**A new state column**: in ``store``, the schema that adds it (and the upgrade of an older file) and the
reads and writes that use it; the jobs see it through ``State``'s methods.

May import: ``errors``, ``config``.
"""
