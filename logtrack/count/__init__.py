"""From parsed lines to counts: listings, suppliers, bots, and the tally of every line.

- ``batch``: ``count_batch``, one batch as one Polars query, what ``xml``
  and ``run`` both call.
- ``classify``: listing patterns, suppliers (per distinct referrer head and
  virtual host), bot verdicts (per distinct agent, cached for the run).
- ``bots``: crawlerdetect's patterns run by Polars.
- ``aggregate``: per day, supplier and listing; ``tally``: what every line
  became, with a first example of each reason.

**A new supplier rule kind**: its key in ``config.SupplierRule`` (and the
config schema) and its condition in ``classify._rule_matches``.

May import: ``errors``, ``config``, ``formats``, ``read``, ``verdicts``, ``parse``.
"""
