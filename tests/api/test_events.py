"""The campaign live feed (server-sent events): against a real campaign whose jobs finish while
the stream is open (a real Celery worker, the tiny model on the embedded SQLite default), and
on a finished campaign on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import httpx
from typer.testing import CliRunner

from contentfab.api import create_api
from contentfab.cli import app as cli
from contentfab.core.settings import Settings
from contentfab.db.session import configure
from tests.api.server import running
from tests.pipeline import environment, start_worker, stop_worker, write_campaign


def read_events(response: httpx.Response) -> list[tuple[str, dict, str | None]]:
    """(event, data, id) for every event until the server ends the stream."""
    events: list[tuple[str, dict, str | None]] = []
    name, data, event_id = "message", "", None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line.startswith("id: "):
            event_id = line.removeprefix("id: ")
        elif line == "" and data:
            events.append((name, json.loads(data), event_id))
            name, data, event_id = "message", "", None
    return events


def test_the_feed_follows_a_campaign_while_its_jobs_finish(tmp_path, tiny_model_store):
    db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    campaign = write_campaign(tmp_path, channels=["email_subject"], variants=1, products=4)
    env = environment(tmp_path, tiny_model_store.root, db_url, broker)
    enqueued = CliRunner().invoke(cli, ["enqueue", str(campaign)], env=env)
    assert enqueued.exit_code == 0, enqueued.output

    sessions = configure(db_url)
    api = create_api(Settings(data_dir=tmp_path / "data", database_url=db_url), sessions)
    api.state.event_interval = 0.2
    with (
        running(api) as base,
        httpx.Client(base_url=base, timeout=60) as client,
        client.stream("GET", "/api/campaigns/1/events") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        # The worker starts only once the stream is open: every job finishes during it.
        worker = start_worker(env)
        try:
            events = read_events(response)
        finally:
            stop_worker(worker)
    sessions.kw["bind"].dispose()

    progress = [data for name, data, _ in events if name == "progress"]
    first, last = progress[0], progress[-1]
    assert first["total_jobs"] == 4 and first["done_jobs"] + first["failed_jobs"] == 0
    assert not first["finished"]
    # The tiny random model's text never passes the gates: every job ends failed.
    assert last["failed_jobs"] == 4 and last["finished"] and last["status"] == "failed"
    finished = [p["done_jobs"] + p["failed_jobs"] for p in progress]
    assert finished == sorted(finished) and len(set(finished)) >= 2  # seen moving
    assert events[-1][0] == "done" and events[-1][1] == last


def test_the_feed_of_a_finished_campaign_ends_and_replays_assets(client, seeded):
    with client.stream("GET", f"/api/campaigns/{seeded.campaign_id}/events") as response:
        events = read_events(response)
    # Default: only assets made after connecting, so none here; then done.
    assert [name for name, _, _ in events] == ["progress", "done"]
    assert events[0][1]["done_jobs"] == 29 and events[0][1]["assets"]["image"] == {"generated": 6}

    after = seeded.copy_ids[-1]
    with client.stream(
        "GET", f"/api/campaigns/{seeded.campaign_id}/events", params={"after": after}
    ) as response:
        events = read_events(response)
    replayed = [(int(i), data["id"]) for name, data, i in events if name == "asset"]
    expected = sorted(i for i in seeded.image_ids + seeded.rec_ids if i > after)
    assert [i for i, _ in replayed] == [d for _, d in replayed] == expected
    # A reconnecting EventSource resumes after the last id it saw.
    with client.stream(
        "GET",
        f"/api/campaigns/{seeded.campaign_id}/events",
        headers={"Last-Event-ID": str(expected[-2])},
    ) as response:
        events = read_events(response)
    assert [data["id"] for name, data, _ in events if name == "asset"] == expected[-1:]
    assert client.get("/api/campaigns/999/events").status_code == 404
