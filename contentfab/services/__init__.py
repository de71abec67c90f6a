"""The services layer: use-cases that combine the layers below it (the campaign files, the
database, the workers' gates and models) for the CLI, the HTTP API and the tasks above it.
"""
