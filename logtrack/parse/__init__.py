"""Cutting lines into fields, in Polars: whole columns, never a Python loop per line.

- ``lines``: a batch's bytes cut into its lines by Polars' CSV reader.
- ``fields``: a batch's lines, the line regex (and its fast form), W3C
  columns, and ``derive``: request parts, status, instant and day, and
  every line's ``Skip`` verdict.
- ``json_lines``: JSON lines decoded, keys mapped to fields.
- ``times``: a time field -> the instant in UTC and the server's date.
- ``encodings``: a field decoded from how a log encodes it (``#XX``, ``%XX``, ``+``).
- ``split``: the fast path for formats whose free text sits between
  quotes, exact by construction (the same compiler as the line regex).
- ``detect``: ``auto``, scoring every candidate format on a file's first
  lines; the warnings about a named format that reads less than the lines hold.

May import: ``errors``, ``config``, ``formats``, ``read``, ``verdicts``.
"""
