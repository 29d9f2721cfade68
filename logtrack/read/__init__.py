"""Reading: from the paths a user names to batches of whole lines. No Polars here.

- ``inputs``: what to read (directories, globs, rotated siblings in order,
  ``--nginx-conf``), each file with its format when the config names one;
  the ordered worker pool the jobs share.
- ``files``: the paths expanded (directories, globs) and a log's rotated
  siblings.
- ``twins``: two files that begin with the same requests (a server writing
  each request to two logs), to be said; and copies of one log, to be read
  once.
- ``compressed``: a file (plain, gzip, bz2, xz, zstd, stdin) as decompressed
  chunks, the kind told by content; an early end said, not hidden.
- ``holes``: runs of NUL bytes a crash leaves, each one line of its own, told
  apart from binary junk.
- ``sources``: a file's chunks into batches of whole lines; holes marked,
  not lost; invalid UTF-8 kept and marked.
- ``w3c_sections``: a W3C log's batches cut at each ``#Fields:`` header.

May import: ``errors``, ``config``, ``formats``. Never Polars, never a stage above.
"""
