"""flexmls: ViewTracking XML (with its XSD, in ``schema/``), the upload, the tracker tag, a local sandbox.

- ``viewtracking``: the document per day and supplier, validated.
- ``upload``: posting it (retries, the API key kept out of every message).
- ``sandbox``: a stand-in flexmls endpoint on loopback for tests and trials.

May import: ``errors``, ``config``, ``output``.
"""
