"""An interrupted `contentfab run` resumes: running the same file again continues the campaign.

The first `run` is a real process with its own worker. It is stopped mid-campaign either the
way a terminal's Ctrl-C does it (SIGINT to the whole process group: the CLI and its worker) or
the hard way (SIGKILL to all of them, so nothing is cleaned up). The second `run` of the same
file must say it resumed campaign 1, make no second campaign and no second asset for any slot,
and leave the jobs done before the interruption untouched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from contentfab.cli import app
from contentfab.db.models import Campaign, CampaignStatus, Job, JobStatus
from contentfab.db.session import configure
from tests.faults.cards import (
    card_environment,
    embedded_urls,
    job_counts,
    kill_group,
    slot_counts,
    stop,
    write_card_campaign,
)
from tests.pipeline import runner, wait_for

pytestmark = [pytest.mark.slow]


# The embedded broker is the hard case: a message its consumer took dies with it, so only the
# resume brings those jobs back (on Redis the unacked message would come back anyway). Resume on
# PostgreSQL is the same SQL: tests/faults/test_lost_jobs.py runs it there.
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_an_interrupted_run_resumes_the_same_campaign(tmp_path, sig):
    db_url, broker = embedded_urls(tmp_path)
    env = card_environment(tmp_path, db_url, broker)
    campaign = write_card_campaign(tmp_path, products=48, size="640x640")
    log = tmp_path / "first-run.log"
    with log.open("wb") as stream:
        first = subprocess.Popen(
            [sys.executable, "-m", "contentfab", "run", str(campaign)],
            env={**os.environ, **env},
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
            # and Ctrl-C handled as in a terminal, also when this suite runs in the background
            # (a non-interactive shell starts background jobs with SIGINT ignored, and Python
            # then keeps ignoring it instead of raising KeyboardInterrupt)
            preexec_fn=_default_sigint,
        )
    try:
        sessions = wait_for(lambda: _sessions_when_ready(db_url), 120, "the campaign rows")
        wait_for(
            lambda: _mid_chunk(job_counts(sessions)), 120, "some jobs done, a chunk running", 0.02
        )
        kill_group(first, sig)
        first.wait(timeout=60)
    finally:
        stop(first)
    if sig == signal.SIGINT:
        assert first.returncode == 130
        assert "Run the same `contentfab run` command again to resume it" in log.read_text()
    before = job_counts(sessions)
    assert before.get(JobStatus.DONE, 0) < 48, "the interruption must land mid-campaign"
    with sessions() as session:
        done_before = {
            j.id: (j.attempts, j.finished_at)
            for j in session.scalars(select(Job).where(Job.status == JobStatus.DONE))
        }

    second = runner.invoke(app, ["run", str(campaign), "--timeout", "120"], env=env)
    assert second.exit_code == 0, second.output + log.read_text()[-2000:]
    assert "resuming campaign 1" in second.stdout
    print(f"{sig.name}: interrupted at {before}; first run said:")
    print(log.read_text()[-600:])
    print(f"second run said: {second.stdout[:300]}")

    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 1
        assert session.get(Campaign, 1).status == CampaignStatus.DONE
        jobs = {j.id: j for j in session.scalars(select(Job))}
    assert all(j.status == JobStatus.DONE for j in jobs.values())
    for job_id, (attempts, finished_at) in done_before.items():  # not redone
        assert (jobs[job_id].attempts, jobs[job_id].finished_at) == (attempts, finished_at)
    assets, slots, done = slot_counts(sessions)
    assert assets == slots == done == len(jobs) == 48

    # A third run of the same file shows the finished campaign and makes nothing new.
    third = runner.invoke(app, ["run", str(campaign)], env=env)
    assert third.exit_code == 0, third.output
    assert "already run from this file and catalog and finished" in third.stdout
    assert slot_counts(sessions) == (48, 48, 48)
    sessions.kw["bind"].dispose()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _mid_chunk(counts: dict[JobStatus, int]) -> bool:
    return counts.get(JobStatus.DONE, 0) >= 8 and counts.get(JobStatus.RUNNING, 0) > 0


def _sessions_when_ready(db_url: str):
    from sqlalchemy.exc import DBAPIError

    sessions = configure(db_url)
    try:
        if job_counts(sessions):
            return sessions
    except DBAPIError:  # the first run has not created the schema yet
        pass
    sessions.kw["bind"].dispose()
    return None
