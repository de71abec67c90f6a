"""The `celery -A contentfab.tasks` target: the app (settings from CONTENTFAB_* at worker boot)
and the worker's signal handlers. They are connected here, where a worker starts, and not where
they are defined: `contentfab enqueue` imports the task modules to plan and send, and creates no
app and connects no worker signal by doing so."""

from celery.signals import worker_process_init, worker_ready

from contentfab.tasks.app import create_app
from contentfab.tasks.chunks import recover_lost_jobs_on_ready
from contentfab.tasks.resources import forget_parent_resources

app = create_app()
worker_process_init.connect(forget_parent_resources, weak=False)
worker_ready.connect(recover_lost_jobs_on_ready, weak=False)
