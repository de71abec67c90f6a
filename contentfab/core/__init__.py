"""The bottom layer: settings, the error tree, channels and text measures, the model store.

Nothing here imports any other part of contentfab (an import-linter contract checks it), so
every layer above may use it: campaign files, workers, the database, tasks, the CLI and API.
"""
