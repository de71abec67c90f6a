"""A pseudonymised campaign gets the same recommendation lists as the plain one, under its
shoppers' pseudonyms: the recommender sees an ID as an opaque key. The task runs in-process
(``apply``) with the tiny random-weight encoder."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from bench.recs_data import make_shop, write_shop
from contentfab.campaign import load_campaign
from contentfab.campaign.pseudonyms import pseudonym
from contentfab.core.settings import Settings
from contentfab.db.models import Asset, Job
from contentfab.db.session import transaction
from contentfab.tasks.app import create_app
from contentfab.tasks.campaigns import store_campaign
from contentfab.tasks.recs import generate_recommendations
from tests.tasks.test_recs_pipeline import tiny_bert_store  # noqa: F401  (a fixture)

KEY = "9c2b7e41d05a8f36" * 4


def _campaign(directory: Path, pseudonymize: bool) -> Path:
    write_shop(make_shop(12, 40, seed=4), directory)
    path = directory / "campaign.yaml"
    path.write_text(
        "name: Pseudonyms\ncatalog: catalog.csv\n"
        "recommendations:\n"
        "  interactions: interactions.csv\n"
        "  segments: [{name: coffee, description: coffee lovers who want espresso gear}]\n"
        "  users: all\n"
        "  k: 5\n"
        "  diversity: 0.3\n"
        "  model: tiny-bert\n" + ("  pseudonymize: true\n" if pseudonymize else "")
    )
    return path


def test_pseudonymised_lists_are_the_plain_lists(tmp_path, sessions, database_url, tiny_bert_store):  # noqa: F811
    settings = Settings(
        data_dir=tmp_path / "data",
        model_store=tiny_bert_store.root,
        database_url=database_url,
        pseudonym_key=KEY,
        intra_op_threads=1,
    )
    create_app(settings)  # the current app: the task reads its settings
    lists = []
    for pseudonymize in (False, True):
        directory = tmp_path / str(pseudonymize)
        directory.mkdir()
        with transaction(sessions) as session:
            campaign_id = store_campaign(
                session, load_campaign(_campaign(directory, pseudonymize)), settings
            ).id
        with sessions() as session:
            job_ids = list(session.scalars(select(Job.id).where(Job.campaign_id == campaign_id)))
        generate_recommendations.apply(args=[campaign_id, job_ids]).get()
        with sessions() as session:
            lists.append(
                {
                    (a.channel, a.subject): (a.text, [i["reason"] for i in a.meta["items"]])
                    for a in session.scalars(select(Asset).where(Asset.campaign_id == campaign_id))
                }
            )
    plain, hashed = lists
    assert len(plain) == 13 and all(json.loads(text) for text, _ in plain.values())

    def stored(channel: str, subject: str) -> str:
        return pseudonym(KEY.encode(), subject) if channel == "user" else subject

    assert hashed == {
        (channel, stored(channel, subject)): v for (channel, subject), v in plain.items()
    }
