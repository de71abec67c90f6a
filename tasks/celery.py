"""The `celery -A tasks` target: settings from CONTENTFAB_* at worker boot."""

from tasks.app import create_app

app = create_app()
