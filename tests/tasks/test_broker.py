"""The embedded broker's transport gives up waiting for a message once the worker is asked to
shut down, instead of at the end of Celery's 2 s wait; otherwise it waits as kombu does."""

from __future__ import annotations

import pytest
from celery.worker import state
from kombu.transport.virtual import base

from contentfab.tasks.broker import STOP_CHECK, Transport


@pytest.fixture
def kombu_waits(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """kombu's own wait, replaced: it records each timeout and finds no message."""
    asked: list[float | None] = []

    def no_message(self: object, connection: object, timeout: float | None = None) -> None:
        asked.append(timeout)
        raise TimeoutError

    monkeypatch.setattr(base.Transport, "drain_events", no_message)
    monkeypatch.setattr(state, "should_stop", None)
    monkeypatch.setattr(state, "should_terminate", None)
    return asked


def transport() -> Transport:
    return Transport.__new__(Transport)  # drain_events needs no connection state here


@pytest.mark.parametrize("flag", ["should_stop", "should_terminate"])
def test_a_requested_shutdown_ends_the_wait_at_the_next_look(kombu_waits, monkeypatch, flag):
    monkeypatch.setattr(state, flag, 0)  # a warm shutdown's exit code: 0, and still a request
    with pytest.raises(TimeoutError):
        transport().drain_events(object(), timeout=2.0)
    assert kombu_waits == [STOP_CHECK]


def test_without_a_shutdown_it_waits_the_whole_timeout_in_short_looks(kombu_waits):
    with pytest.raises(TimeoutError):
        transport().drain_events(object(), timeout=3 * STOP_CHECK)
    assert len(kombu_waits) >= 2 and all(t is not None and t <= STOP_CHECK for t in kombu_waits)


def test_no_timeout_is_kombus_own_blocking_wait(kombu_waits):
    with pytest.raises(TimeoutError):
        transport().drain_events(object())
    assert kombu_waits == [None]
