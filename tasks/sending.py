"""Cutting a campaign's queued jobs into chunks and sending one task message per chunk.

A message carries a chunk of job IDs only, never product data or images; callers send after
the jobs' rows are committed (:mod:`tasks.campaigns`, :mod:`tasks.recovery`), so a worker never
races its own rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any, Protocol

from celery import Celery
from celery.events import Event
from celery.utils import uuid
from celery.utils.time import utcoffset
from kombu.entity import maybe_delivery_mode
from kombu.exceptions import KombuError
from kombu.serialization import dumps
from kombu.utils.url import maybe_sanitize_url
from sqlalchemy import select
from sqlalchemy.orm import Session

from contentfab.core.errors import BrokerUnavailable
from contentfab.db.models import ContentKind, Job, JobStatus
from contentfab.tasks.app import COPY_TASK, IMAGES_TASK, RECS_TASK

#: Which task and queue serve each content kind.
ROUTES = {
    ContentKind.COPY: (COPY_TASK, "copy"),
    ContentKind.RECOMMENDATION: (RECS_TASK, "recs"),
    ContentKind.IMAGE: (IMAGES_TASK, "images"),
}


#: Redis commands per pipeline when sending a campaign's messages (two a message).
PUBLISH_BATCH = 1000


@dataclass(frozen=True)
class Enqueued:
    """What storing a campaign (:func:`tasks.campaigns.enqueue`) or sending its jobs again
    (:mod:`tasks.recovery`) sent."""

    campaign_id: int
    jobs: int
    messages: int
    requeued: int = 0  # running jobs whose delivery was lost, put back to queued
    given_up: int = 0  # ... or failed, having lost max_deliveries deliveries


class ChunkedJob(Protocol):
    """What chunking reads of a job (a ``Job`` or a row of its columns)."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> ContentKind: ...
    @property
    def product_id(self) -> int | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def variant(self) -> int: ...


def chunk_jobs(
    jobs: Sequence[ChunkedJob], chunk_size: int, recs_chunk_size: int | None = None
) -> list[tuple[ContentKind, list[int]]]:
    """Jobs, per kind, in chunks of IDs (one task message each), ordered by channel, product
    and variant.

    A copy chunk never splits a product × channel group: its variants are deduplicated against
    each other inside one ``write_copy`` call, and against committed copy only when a chunk
    starts, so two chunks holding variants of one group and running at once on two workers
    could both deliver near-duplicates. Groups are packed whole into chunks of at most
    ``chunk_size`` jobs; a group larger than ``chunk_size`` is one chunk of its own, over size.
    """
    chunks: list[tuple[ContentKind, list[int]]] = []
    for kind in ROUTES:
        size = chunk_size
        if kind == ContentKind.RECOMMENDATION and recs_chunk_size is not None:
            size = recs_chunk_size
        ordered = sorted(
            (job for job in jobs if job.kind == kind),
            key=lambda j: (j.channel, j.product_id is None, j.product_id or 0, j.variant, j.id),
        )
        if kind != ContentKind.COPY:
            ids = [job.id for job in ordered]
            chunks.extend((kind, ids[i : i + size]) for i in range(0, len(ids), size))
            continue
        groups = groupby(ordered, key=lambda j: (j.channel, j.product_id))
        chunks.extend((kind, ids) for ids in _packed(([j.id for j in g] for _, g in groups), size))
    return chunks


def _packed(groups: Iterable[list[int]], size: int) -> Iterator[list[int]]:
    """Groups of job IDs packed whole, in order, into chunks of at most ``size`` (a larger
    group is a chunk of its own)."""
    chunk: list[int] = []
    for ids in groups:
        if chunk and len(chunk) + len(ids) > size:
            yield chunk
            chunk = []
        chunk.extend(ids)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def queued_chunks(
    session: Session, campaign_id: int, chunk_size: int, recs_chunk_size: int | None = None
) -> list[tuple[ContentKind, list[int]]]:
    """The campaign's queued jobs in chunks of IDs, as :func:`chunk_jobs` cuts them.

    SQL orders each channel's jobs as :func:`chunk_jobs` does; copy jobs are read as (ID,
    product) pairs so that a product's group stays whole, the other kinds as IDs alone: reading
    and sorting 100,000 jobs as rows took ~1.5 s of every `run` and every enqueue.
    """
    queued = (Job.campaign_id == campaign_id, Job.status == JobStatus.QUEUED)
    chunks: list[tuple[ContentKind, list[int]]] = []
    for kind in ROUTES:
        of_kind = (*queued, Job.kind == kind)
        # Channels sorted in Python, as chunk_jobs sorts them: SQL collations differ.
        channels = sorted(session.scalars(select(Job.channel).where(*of_kind).distinct()))
        order = (Job.product_id.is_(None), Job.product_id, Job.variant, Job.id)
        if kind == ContentKind.COPY:
            # Each channel's (id, product) pairs in SQL's order, grouped per product as
            # chunk_jobs groups them (sorting 100,000 row objects in Python took ~1.5 s).
            groups: list[list[int]] = []
            for channel in channels:
                pairs = session.execute(
                    select(Job.id, Job.product_id)
                    .where(*of_kind, Job.channel == channel)
                    .order_by(*order)
                )
                groups += (
                    [id for id, _ in group] for _, group in groupby(pairs, key=itemgetter(1))
                )
            chunks.extend((kind, ids) for ids in _packed(groups, chunk_size))
            continue
        size = chunk_size
        if kind == ContentKind.RECOMMENDATION and recs_chunk_size is not None:
            size = recs_chunk_size
        ids: list[int] = []
        for channel in channels:
            ids += session.scalars(
                select(Job.id).where(*of_kind, Job.channel == channel).order_by(*order)
            )
        chunks.extend((kind, ids[i : i + size]) for i in range(0, len(ids), size))
    return chunks


def _argsrepr(campaign_id: int, campaign_name: str, kind: ContentKind, ids: list[int]) -> str:
    # What Flower shows for a chunk's task: which campaign and how much.
    return f"campaign={campaign_id} {campaign_name!r} {kind.value} jobs={ids[0]}..{ids[-1]} ({len(ids)})"


def publish(
    app: Celery,
    producer: Any,
    campaign_id: int,
    campaign_name: str,
    chunks: Sequence[tuple[ContentKind, list[int]]],
) -> None:
    """Send one task per chunk on ``producer`` (batched or not, as the caller opened it), each
    through Celery's ``send_task``."""
    declared: set[str] = set()
    for kind, ids in chunks:
        task_name, queue = ROUTES[kind]
        # A queue is declared with its first message only: declaring it again with each of
        # 12,500 messages (kombu copies and binds the entity each time) cost ~15% of the send.
        declare: list[Any] | None = None if queue not in declared else []
        declared.add(queue)
        app.send_task(
            task_name,
            args=[campaign_id, ids],
            queue=queue,
            producer=producer,
            declare=declare,
            argsrepr=_argsrepr(campaign_id, campaign_name, kind, ids),
        )


def publish_prepared(
    app: Celery,
    producer: Any,
    campaign_id: int,
    campaign_name: str,
    chunks: Sequence[tuple[ContentKind, list[int]]],
) -> bool:
    """:func:`publish` in one transport batch (a Redis pipeline), each message built as Celery
    builds it (a copy of ``create_task_message``'s for the task, :func:`_task_message`; its
    task-sent ``Event``) and handed to the channel as ``send_task`` would hand it: without
    the per-message routing, declaring and retry wrapping of ``send_task`` and
    ``Producer.publish``, which took ~55% of the send's CPU (2.7 s of 12,500 messages). The
    first message of each queue goes through ``send_task``, so the queue and the events
    exchange are declared as before. Nothing is retried message by message: the batch is
    written, or fails, as a whole (as a Redis pipeline does anyway).

    Returns False, having sent nothing, where that does not hold: a transport without batches,
    or a result backend (``send_task`` registers each task with it).
    tests/tasks/test_sending_publish.py holds the messages and events to ``send_task``'s.
    """
    channel = producer.channel
    create_batch = getattr(channel, "create_publish_batch", None)
    if create_batch is None or not getattr(channel, "supports_batch_publish", False):
        return False
    if not app.conf.task_ignore_result:
        return False
    firsts: dict[str, int] = {}
    for index, (kind, _) in enumerate(chunks):
        firsts.setdefault(ROUTES[kind][1], index)
    publish(app, producer, campaign_id, campaign_name, [chunks[i] for i in firsts.values()])

    events = app.events.Dispatcher(enabled=False)  # what send_task_message sends events as
    sent_events = app.conf.task_send_sent_event
    delivery_mode = maybe_delivery_mode(app.conf.task_default_delivery_mode)
    event_properties = {"delivery_mode": maybe_delivery_mode(events.delivery_mode)}
    templates: dict[str, Any] = {}
    batch = create_batch(max_size=PUBLISH_BATCH)
    try:
        for index, (kind, ids) in enumerate(chunks):
            if index in firsts.values():
                continue
            task_name, queue = ROUTES[kind]
            if (template := templates.get(task_name)) is None:
                template = templates[task_name] = _task_message(app, task_name, sent_events)
            argsrepr = _argsrepr(campaign_id, campaign_name, kind, ids)
            task_id = uuid()
            headers = {**template.headers, "id": task_id, "root_id": task_id, "argsrepr": argsrepr}
            properties = {
                **template.properties,
                "correlation_id": task_id,
                "argsrepr": argsrepr,
                "delivery_mode": delivery_mode,
            }
            body = ([campaign_id, ids], *template.body[1:])
            sent = template.sent_event and {
                **template.sent_event,
                "uuid": task_id,
                "root_id": task_id,
                "args": argsrepr,
            }
            content_type, encoding, payload = dumps(body, serializer="json")
            message = channel.prepare_message(
                payload, 0, content_type, encoding, headers, properties
            )
            batch.publish(message, exchange="", routing_key=queue, mandatory=False, immediate=False)
            if sent is None:
                continue
            sent.update(queue=queue, exchange="", routing_key=queue)
            event = Event(
                "task-sent",
                hostname=events.hostname,
                utcoffset=utcoffset(),
                pid=events.pid,
                clock=events.clock.forward(),
                **sent,
            )
            content_type, encoding, payload = dumps(event, serializer=events.serializer)
            message = channel.prepare_message(
                payload, 0, content_type, encoding, events.headers, dict(event_properties)
            )
            batch.publish(
                message,
                exchange=events.exchange.name,
                routing_key="task.sent",
                mandatory=False,
                immediate=False,
            )
        batch.flush()
    except BaseException:
        batch.discard()
        raise
    finally:
        batch.close()
    return True


def _task_message(app: Celery, task_name: str, sent_event: bool) -> Any:
    """Celery's task message for ``task_name`` with a placeholder ID and arguments: what
    :func:`publish_prepared` copies for each chunk, with the chunk's task ID, root ID,
    arguments and their repr put in. Building each message with Celery instead
    (``create_task_message``) took ~27 µs a message (0.34 s of 12,500), copying it ~5 µs.
    Nothing else in a message depends on the chunk: no ETA, expiry, group or parent here."""
    return app.amqp.create_task_message(
        "",
        task_name,
        [],
        None,
        reply_to=app.thread_oid,
        create_sent_event=sent_event,
        ignore_result=None,
        argsrepr="",
    )


def send_chunks(
    app: Celery,
    campaign_id: int,
    campaign_name: str,
    chunks: Sequence[tuple[ContentKind, list[int]]],
) -> int:
    with app.connection_for_write() as connection:
        broker_errors = (OSError, KombuError, *connection.connection_errors)
        try:
            connection.ensure_connection(max_retries=3)
            with app.producer_or_acquire() as producer:
                if not publish_prepared(app, producer, campaign_id, campaign_name, chunks):
                    # One pipeline (one round trip) per batch where the transport has them,
                    # instead of two round trips a message (its LPUSH and its task-sent event).
                    with producer.batch(PUBLISH_BATCH):
                        publish(app, producer, campaign_id, campaign_name, chunks)
        except broker_errors as exc:
            raise BrokerUnavailable(
                f"could not send tasks to the broker at {_broker(app)}: {exc}. The "
                f"campaign is stored as {campaign_id}; send its queued jobs later with "
                f"`contentfab retry {campaign_id}`."
            ) from exc
    return len(chunks)


def _broker(app: Celery) -> str:
    # Never print a broker password.
    return repr(maybe_sanitize_url(app.conf.broker_url))


def check_broker(app: Celery) -> None:
    """Fail before anything is stored if the broker cannot be reached."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5)
    except Exception as exc:
        raise BrokerUnavailable(
            f"the broker at {_broker(app)} cannot be reached ({exc}); nothing was stored."
        ) from exc
