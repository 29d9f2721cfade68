"""The state: what was read of which file, the counts per day, the uploads; per site, and per host.

- ``interface``: ``Store``, what the jobs ask of a state (the narrow
  interface both backends implement; the jobs never see SQL).
- ``records``: the rows handed to the jobs (``FileRecord``, ``Upload``,
  ``HostRecord``).
- ``sql``: ``SqlStore``, every query, once, in the SQL both engines speak.
- ``store``: ``State``, SQLite (the default, one server): its lock, its
  numbered migrations, its integrity check.
- ``postgres``: ``PgState``, PostgreSQL (a fleet's shared state): its
  advisory locks, its schema, COPY for counts.
- ``locate``: where the state is (a path or a URL) and ``open_state``.

**A new state column**: in ``store``, a migration at the end of
``MIGRATIONS``; in ``postgres``, the column in ``SCHEMA`` (and a version
step); the reads and writes in ``sql``, behind a ``Store`` method the jobs
call.

May import: ``errors``, ``config``.
"""
