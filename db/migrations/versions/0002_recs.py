"""recommendations: subject slots, interactions, cached product embeddings

A recommendation job is for a user or a segment, not a product: ``job``/``asset`` get a
``subject`` column with its own unique slot key and a nullable ``product_id``.

Revision ID: 0002_recs
Revises: 0001
Create Date: 2026-11-23 15:46:44.219687
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_recs"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_embedding",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_embedding")),
        sa.UniqueConstraint("model_sha256", "text_sha256", name="uq_product_embedding_key"),
    )
    op.create_table(
        "interaction",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=10), nullable=False),
        sa.Column("occurred_at", sa.Double(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_interaction_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_interaction_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction")),
    )
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interaction_campaign_user", ["campaign_id", "user_id"], unique=False
        )

    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
        batch_op.alter_column("product_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(
            "uq_asset_subject", ["campaign_id", "kind", "channel", "subject"]
        )

    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
        batch_op.alter_column("product_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(
            "uq_job_subject", ["campaign_id", "kind", "channel", "subject"]
        )


def downgrade() -> None:
    # Rows without a product cannot survive product_id becoming required again.
    op.execute("DELETE FROM asset WHERE product_id IS NULL")
    op.execute("DELETE FROM job WHERE product_id IS NULL")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_constraint("uq_job_subject", type_="unique")
        batch_op.alter_column("product_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("subject")

    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_constraint("uq_asset_subject", type_="unique")
        batch_op.alter_column("product_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("subject")

    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_campaign_user")

    op.drop_table("interaction")
    op.drop_table("product_embedding")
