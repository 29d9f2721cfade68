"""What a command does, as a library call: the stateless preview and the unattended run.

- ``preview``: ``count`` (every input read and counted, nothing kept: ``xml``,
  ``report``) and ``explain``.
- ``ingest``: new lines of every log into the state, exactly once
  whatever rotation or a crash did; ``runner``: a whole ``run`` (ingest,
  then the posts that are due).
- ``report``, ``report_data``, ``report_html``: the tables, periods and
  the HTML page.

May import every stage but ``cli``.
"""
