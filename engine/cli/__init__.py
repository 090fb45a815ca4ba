"""The ``flowspec`` command line: one module per command, parsing kept apart from doing."""
