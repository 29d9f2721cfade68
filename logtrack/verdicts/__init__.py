"""Why a line is not counted: the reasons, and the one ordered table that decides them.

- ``reasons``: ``Skip`` (not a usable record), ``NotCounted`` (a record,
  not a view) and the five outcomes the report groups them in.
- ``decide``: ``ORDER``, the table read by parse, count, ``explain`` and
  ``report`` alike: the first condition that holds names the reason.

**A new skip reason** touches this package only: a member of ``Skip`` or
``NotCounted`` and its condition at its place in ``decide.ORDER`` (and
its row in the README's reason table, which lists them in that order).

Below ``parse``, which gives every line its ``Skip``, and ``count``.
May import: ``errors``, ``formats``, ``read`` (Polars expressions, no I/O).
"""
