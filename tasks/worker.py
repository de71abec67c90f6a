"""The `celery -A contentfab.tasks.worker` target (same app as `celery -A contentfab.tasks`)."""

from contentfab.tasks.celery import app

__all__ = ["app"]
