"""text search: a GIN index over the copy's English text vector (PostgreSQL)

SQLite has no index for this: its search is the word-by-word fallback in db/review.py (see the
module docstring there for why not FTS5).

Revision ID: 0004_text_search
Revises: 0003_review
Create Date: 2026-11-26 03:45:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004_text_search"
down_revision = "0003_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The same expression db/review.py searches with, so the planner can use the index.
    op.execute(
        "CREATE INDEX ix_asset_text_search ON asset "
        "USING gin (to_tsvector('english', coalesce(text, '')))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_asset_text_search")
