"""A run as something to look at: one self-contained HTML page (``flowspec report``, ``flowspec ui``).

``model`` gathers what the page shows from the store into plain JSON data, ``layout`` puts the
DAG into layers, ``render`` writes the page (inline CSS, JS and SVG; no network), ``server``
serves the run list and each run's page, read-only, for ``flowspec ui``.
"""
