"""The state: what was read of which file, the counts per day, the uploads.

- ``interface``: ``Store``, what the jobs ask of a state (the narrow
  interface a second backend implements; the jobs never see SQL).
- ``store``: ``State``, the SQLite one: its lock, its numbered migrations,
  its queries.

**A new state column**: in ``store``, a migration at the end of
``MIGRATIONS`` and the reads and writes that use it, behind a ``Store``
method the jobs call.

May import: ``errors``, ``config``.
"""
