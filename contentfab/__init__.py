"""contentfab: batch content production for marketing teams.

This package holds the cross-cutting pieces — settings, the error tree, the campaign-file
schema and the CLI. The pipeline itself lives in the top-level packages ``db``, ``tasks``,
``workers`` and ``exporters``.
"""

__version__ = "0.1.0"
