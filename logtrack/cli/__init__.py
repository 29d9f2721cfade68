"""The command line: the only package that imports typer or rich's console.

- ``app``: the Typer app, the options commands share, the error boundary
  (``logtrack: error: ...`` and an exit code from ``errors.ExitCode``).
- ``preview`` (xml, explain, validate, init), ``report``, ``unattended``
  (run, export, status, rebuild, tracker-tag, sandbox): one module per group.
- ``main``: registers them and is the console script; ``allocator`` tunes
  the memory allocators before Polars loads.

**A new command** goes in the module of its group (or a new one that
``main`` imports), with ``@app.command()``, its options from ``app``.
May import every stage; nothing outside this package imports it.
"""
