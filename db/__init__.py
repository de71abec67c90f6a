"""The asset database: models, engine/session factory, migrations and asset queries.

Imports neither Celery nor onnxruntime.
"""
