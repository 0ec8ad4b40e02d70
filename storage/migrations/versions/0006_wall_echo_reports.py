"""say-it wall, echo board, return visits and reports (issue 6)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 13:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'wall_slots',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('slot_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=True),
        sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'case_followups',
        sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('rating_reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('visit_asked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('visit_answer', sa.String(length=16), nullable=True),
        sa.Column('visit_answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('linked_case_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_table(
        'public_names',
        sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('named', sa.Boolean(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade() -> None:
    op.drop_table('public_names')
    op.drop_table('case_followups')
    op.drop_table('wall_slots')
