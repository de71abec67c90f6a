"""The Celery app factory: explicit configuration from :class:`Settings`, nothing global."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from kombu import pools
from kombu.entity import Queue

from contentfab.core.settings import Settings
from contentfab.tasks.broker import embedded_broker_url

#: One queue per content kind, so GPU and CPU workers can subscribe to what they serve.
QUEUES = ("copy", "images", "recs")
TASK_MODULES = ["contentfab.tasks.copy", "contentfab.tasks.recs", "contentfab.tasks.images"]
COPY_TASK = "contentfab.copy.generate"
RECS_TASK = "contentfab.recs.generate"
IMAGES_TASK = "contentfab.images.generate"


def _transport_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_url.startswith(("redis://", "rediss://", "redis+socket://", "sentinel://")):
        # Redis redelivers an unacked message after visibility_timeout; it must outlast the
        # longest task or a healthy slow task would run twice.
        # Workers look for such messages every unacked_restore_interval seconds (kombu's default
        # sweep is every 100 s: 10 s x throttle 10).
        timeout = settings.visibility_timeout
        return {
            "visibility_timeout": timeout,
            "unacked_restore_interval": max(1, min(10, timeout // 4)),
            "unacked_restore_throttle": 1,
        }
    # kombu's SQLAlchemy transport passes these options to create_engine(): keep them empty.
    return {}


def create_app(settings: Settings | None = None) -> Celery:
    settings = settings or Settings()
    app = Celery("contentfab", set_as_current=True)
    app.conf.update(
        broker_url=embedded_broker_url(settings.broker_url),
        result_backend=settings.result_backend,
        task_ignore_result=settings.result_backend is None,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        event_serializer="json",
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_track_started=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=settings.worker_concurrency,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="copy",
        task_annotations={"*": {"max_retries": settings.max_retries}},
        task_routes={
            "contentfab.copy.*": {"queue": "copy"},
            "contentfab.recs.*": {"queue": "recs"},
            "contentfab.images.*": {"queue": "images"},
        },
        broker_transport_options=_transport_options(settings),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        include=TASK_MODULES,
    )
    # Tasks reach their settings through the app that runs them, never through the environment.
    app.contentfab_settings = settings
    return app


def settings_of(app: Celery) -> Settings:
    settings = getattr(app, "contentfab_settings", None)
    if settings is None:  # an app not built by create_app (e.g. a bare `celery -A` of ours)
        settings = Settings()
        app.contentfab_settings = settings
    return settings


@contextmanager
def sending_app(settings: Settings) -> Iterator[Celery]:
    """An app for a command that sends tasks, its broker connections closed afterwards.

    Celery's ``app.close()`` only forgets its connection pool; the pooled connections stay
    open until the process exits, and `run` must see no connection of its own when it asks
    whether anyone else still uses the embedded broker. For commands, not for long-lived
    processes that send tasks from several threads.
    """
    app = create_app(settings)
    try:
        yield app
    finally:
        app.pool.force_close_all()
        app.close()
        # Its producers come from kombu's pools, kept per broker URL for the whole process:
        # closing one pool would hand the next app of the same URL a closed one.
        pools.reset()
