"""edit overrides: which gates a reviewer's forced edit overrode (who and why are on the row)

Revision ID: 0006_edit_overrides
Revises: 0005_campaign_interactions
Create Date: 2026-11-26 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_edit_overrides"
down_revision = "0005_campaign_interactions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding a nullable column needs no table rebuild on SQLite: batch mode alters in place.
    with op.batch_alter_table("asset_review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overridden_gates", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("asset_review", schema=None) as batch_op:
        batch_op.drop_column("overridden_gates")
