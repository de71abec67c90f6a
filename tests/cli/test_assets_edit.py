"""`contentfab edit` on SQLite and PostgreSQL: a failing gate refuses the edit with a non-zero
exit and changes nothing; --force with --reason publishes it and records the override."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from contentfab.cli import app as cli
from contentfab.db.models import Asset, AssetReview
from tests.api.seed import seed_campaign


def test_edit_refuses_a_failing_gate_and_records_a_forced_one(tmp_path, database_url, sessions):
    seeded = seed_campaign(sessions, tmp_path / "assets")
    asset_id = seeded.copy_ids[0]  # Trail Thermos 750 ml at 49.90 USD, a search headline
    env = {"CONTENTFAB_DATA_DIR": str(tmp_path / "data"), "CONTENTFAB_DATABASE_URL": database_url}
    run = CliRunner().invoke
    edit = ["edit", str(asset_id), "Trail Thermos, now $9.99", "--reviewer", "sam"]

    refused = run(cli, edit, env=env)
    assert refused.exit_code == 2
    assert "fact: not in the product data: $9.99" in refused.output
    with sessions() as session:
        assert session.get_one(Asset, asset_id).original_text is None  # never edited

    assert run(cli, [*edit, "--force"], env=env).exit_code == 2  # a forced edit needs a reason
    forced = run(cli, [*edit, "--force", "--reason", "agreed flash price"], env=env)
    assert forced.exit_code == 0, forced.output
    assert "published over failing gates: fact" in forced.output
    with sessions() as session:
        asset = session.get_one(Asset, asset_id)
        review = session.scalars(select(AssetReview).where(AssetReview.asset_id == asset_id)).one()
        assert asset.text == "Trail Thermos, now $9.99"
        assert (review.actor, review.reason) == ("sam", "agreed flash price")
        assert review.overridden_gates == ["fact: not in the product data: $9.99"]

    valid = run(
        cli, ["edit", str(asset_id), "Trail Thermos for the Outdoors", "--reviewer", "sam"], env=env
    )
    assert valid.exit_code == 0, valid.output
    assert "published over" not in valid.output
