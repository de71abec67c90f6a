"""The `celery -A tasks` target: settings from CONTENTFAB_* at worker boot."""

from contentfab.tasks.app import create_app

app = create_app()
