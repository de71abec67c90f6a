"""A campaign's messages sent in one batch (`publish_prepared`, what `send_chunks` does on
Redis) are the messages and task-sent events Celery's `send_task` sends (`publish`), on the
embedded Valkey broker: same queues, headers, properties, bodies and event fields, only their
IDs, delivery tags, clocks and timestamps differ."""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contentfab.core.settings import Settings, embedded_socket
from contentfab.db.models import ContentKind
from contentfab.tasks.app import QUEUES, sending_app
from contentfab.tasks.embedded_broker import broker_for, ensure_running, stop
from contentfab.tasks.sending import ROUTES, publish, publish_prepared, send_chunks

CHUNKS = [
    (ContentKind.COPY, [1, 2, 3]),
    (ContentKind.COPY, [4, 5]),
    (ContentKind.COPY, [6, 7, 8, 9]),
    (ContentKind.RECOMMENDATION, [10, 11]),
    (ContentKind.IMAGE, [12]),
    (ContentKind.IMAGE, [13, 14]),
]


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    data = tmp_path / "data"
    broker = broker_for(data, embedded_socket(data))
    ensure_running(broker)
    yield Settings(data_dir=data)
    stop(broker)


def _client(settings: Settings) -> Any:
    import redis

    return redis.Redis(unix_socket_path=str(embedded_socket(settings.data_dir)))


def _drain(client: Any, events: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The queues' messages (oldest first) and the task-sent events received, decoded."""
    messages = []
    for queue in QUEUES:
        for raw in reversed(client.lrange(queue, 0, -1)):  # LPUSH: the newest is first
            messages.append({"queue": queue, **json.loads(raw)})
        client.delete(queue)
    received = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        item = events.get_message(timeout=0.2)
        if item is None:
            if len(received) >= len(messages):
                break
            continue
        if item["type"] in ("message", "pmessage"):
            received.append({"channel": item["channel"].decode(), **json.loads(item["data"])})
    return messages, received


def _decoded(envelope: dict[str, Any]) -> dict[str, Any]:
    envelope = copy.deepcopy(envelope)
    body = base64.b64decode(envelope.pop("body"))
    envelope["body"] = json.loads(body)
    return envelope


def _normalised_message(envelope: dict[str, Any]) -> dict[str, Any]:
    message = _decoded(envelope)
    task_id = message["headers"]["id"]
    assert message["headers"]["root_id"] == task_id == message["properties"]["correlation_id"]
    for key in ("id", "root_id"):
        message["headers"][key] = "ID"
    message["properties"]["correlation_id"] = "ID"
    message["properties"]["delivery_tag"] = "TAG"
    message["properties"]["reply_to"] = "APP"  # the sending app's own (one app per run)
    return message


def _normalised_event(event: dict[str, Any]) -> dict[str, Any]:
    event = _decoded(event)
    body = event["body"]
    assert body["type"] == "task-sent" and body["uuid"] == body["root_id"]
    assert isinstance(body["clock"], int) and isinstance(body["timestamp"], float)
    body.update(uuid="ID", root_id="ID", clock="CLOCK", timestamp="TIME")
    event["properties"]["delivery_tag"] = "TAG"
    return event


def _sent(settings: Settings, send: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    client = _client(settings)
    events = client.pubsub()
    events.psubscribe("*celeryev*")
    events.get_message(timeout=1)  # the subscription's confirmation
    try:
        with sending_app(settings) as app:
            send(app)
        return _drain(client, events)
    finally:
        events.close()
        client.close()


def test_prepared_messages_are_the_messages_send_task_sends(settings: Settings) -> None:
    def reference(app: Any) -> None:
        with app.producer_or_acquire() as producer:
            publish(app, producer, 7, "Spring 'launch'", CHUNKS)

    def prepared(app: Any) -> None:
        with app.producer_or_acquire() as producer:
            assert publish_prepared(app, producer, 7, "Spring 'launch'", CHUNKS)

    expected_messages, expected_events = _sent(settings, reference)
    messages, events = _sent(settings, prepared)

    assert len(expected_messages) == len(CHUNKS) == len(expected_events)
    for run in (messages, expected_messages):
        assert len({m["properties"]["reply_to"] for m in run}) == 1
    by_args = lambda m: m["headers"]["argsrepr"]  # noqa: E731
    assert sorted(map(_normalised_message, messages), key=by_args) == sorted(
        map(_normalised_message, expected_messages), key=by_args
    )
    by_args = lambda e: e["body"]["args"]  # noqa: E731
    assert sorted(map(_normalised_event, events), key=by_args) == sorted(
        map(_normalised_event, expected_events), key=by_args
    )
    # Each queue keeps the order of its chunks, and each task has its event.
    assert [(m["queue"], _decoded(m)["body"][0][1]) for m in messages] == [
        (queue, ids) for queue in QUEUES for kind, ids in CHUNKS if ROUTES[kind][1] == queue
    ]
    assert {m["headers"]["id"] for m in messages} == {_decoded(e)["body"]["uuid"] for e in events}


def test_send_chunks_sends_each_chunk_once_in_order(settings: Settings) -> None:
    messages, events = _sent(settings, lambda app: send_chunks(app, 3, "c", CHUNKS))
    assert [(m["queue"], _decoded(m)["body"][0]) for m in messages] == [
        ("copy", [3, [1, 2, 3]]),
        ("copy", [3, [4, 5]]),
        ("copy", [3, [6, 7, 8, 9]]),
        ("images", [3, [12]]),
        ("images", [3, [13, 14]]),
        ("recs", [3, [10, 11]]),
    ]
    assert len(events) == len(CHUNKS)
