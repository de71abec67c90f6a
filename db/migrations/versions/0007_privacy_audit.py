"""privacy audit: one row per erasure or retention purge (when and how many, never who)

Revision ID: 0007_privacy_audit
Revises: 0006_edit_overrides
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_privacy_audit"
down_revision = "0006_edit_overrides"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=True),
        sa.Column("before", sa.Double(), nullable=True),
        sa.Column("campaigns", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("lists", sa.Integer(), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_audit")),
    )


def downgrade() -> None:
    op.drop_table("privacy_audit")
