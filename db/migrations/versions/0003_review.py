"""review: who approved or rejected an asset, when and why; edited copy keeps the original

Revision ID: 0003_review
Revises: 0002_recs
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_review"
down_revision = "0002_recs"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reject_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("original_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("edited_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_asset_campaign_status", ["campaign_id", "status"], unique=False)

    op.create_table(
        "asset_review",
        sa.Column("id", ID, nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("text_before", sa.Text(), nullable=True),
        sa.Column("text_after", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["asset.id"],
            name=op.f("fk_asset_review_asset_id_asset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_review")),
    )
    with op.batch_alter_table("asset_review", schema=None) as batch_op:
        batch_op.create_index("ix_asset_review_asset", ["asset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("asset_review", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_review_asset")
    op.drop_table("asset_review")

    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_campaign_status")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("edited_by")
        batch_op.drop_column("original_text")
        batch_op.drop_column("reject_reason")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
