"""The `celery -A tasks.worker` target (same app as `celery -A tasks`)."""

from tasks.celery import app

__all__ = ["app"]
