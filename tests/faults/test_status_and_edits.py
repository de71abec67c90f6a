"""`status --json` lists every failure reason (issue 16, item 7); a reviewer's edit with a
control or invisible character is refused like one over the channel's limit (item 5)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from contentfab.cli import app
from contentfab.core.errors import DoesNotFitError
from contentfab.db.migrate import upgrade
from contentfab.db.models import Asset, Campaign, CampaignStatus, ContentKind, Job, JobStatus
from contentfab.db.session import configure, transaction
from contentfab.services.edits import check_edit, edit_text
from tests.api.seed import seed_campaign
from tests.pipeline import runner


def test_status_json_lists_every_failure_reason(tmp_path):
    url = f"sqlite:///{tmp_path / 'contentfab.db'}"
    upgrade(url)
    sessions = configure(url)
    with transaction(sessions) as session:
        campaign = Campaign(
            name="Fails",
            source_path="c.yaml",
            content_sha256="1" * 64,
            spec={},
            status=CampaignStatus.DONE,
        )
        session.add(campaign)
        session.flush()
        for n in range(25):
            session.add(
                Job(
                    campaign=campaign,
                    kind=ContentKind.COPY,
                    channel="sms",
                    variant=n,
                    status=JobStatus.FAILED,
                    last_error=f"reason number {n}",
                )
            )
        campaign_id = campaign.id
    env = {"CONTENTFAB_DATA_DIR": str(tmp_path), "CONTENTFAB_DATABASE_URL": url}
    result = runner.invoke(app, ["status", str(campaign_id), "--json"], env=env)
    assert result.exit_code == 0, result.output
    reasons = {f["reason"] for f in json.loads(result.output)["failures"]}
    assert reasons == {f"reason number {n}" for n in range(25)}
    text = runner.invoke(app, ["status", str(campaign_id)], env=env, terminal_width=200)
    assert "15 more failure reasons" in " ".join(text.output.split())


FORBIDDEN = ["\x1b[31m", "\x07", "\x7f", "\x9b", "\u202e", "\u200b", "\ufeff", "\u2066"]


@pytest.mark.parametrize("character", FORBIDDEN)
def test_an_edit_with_control_or_invisible_characters_is_refused_even_forced(
    sessions, tmp_path, character
):
    seeded = seed_campaign(sessions, tmp_path / "assets")
    asset_id = seeded.copy_ids[0]
    with sessions() as session:
        before = session.scalars(select(Asset.text).where(Asset.id == asset_id)).one()
        with pytest.raises(DoesNotFitError, match=f"U\\+{ord(character[0]):04X}"):
            check_edit(session, asset_id, f"Trail{character} Thermos")
    with pytest.raises(DoesNotFitError), transaction(sessions) as session:
        edit_text(
            session,
            asset_id,
            actor="sam",
            text=f"Trail{character} Thermos",
            force=True,
            reason="looks fine to me",
        )
    with sessions() as session:
        assert session.scalars(select(Asset.text).where(Asset.id == asset_id)).one() == before
