"""campaign interactions: the whole checked interactions file as one columnar blob per campaign

A recommendation campaign's events used to go in as one ``interaction`` row each (1.65 M rows
for 100,000 users) and every worker process read them all back; now they are stored once as a
blob (:mod:`db.interaction_log`). The ``interaction`` table stays for campaigns stored before.

Revision ID: 0005_campaign_interactions
Revises: 0004_text_search
Create Date: 2026-11-26 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_campaign_interactions"
down_revision = "0004_text_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_interactions_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_interactions")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_campaign_interactions_campaign_id")),
    )


def downgrade() -> None:
    op.drop_table("campaign_interactions")
