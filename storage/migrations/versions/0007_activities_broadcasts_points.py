"""activities, broadcasts and volunteer points (issue 7)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 13:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'broadcasts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.BigInteger(), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('audience', sa.String(length=255), nullable=False),
        sa.Column('targets', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('media_kind', sa.String(length=16), nullable=True),
        sa.Column('media', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('progress_text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_broadcasts_status', 'broadcasts', ['status'], unique=False)
    op.create_table(
        'activities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('place', sa.String(length=100), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rule', sa.String(length=64), nullable=True),
        sa.Column('audience', sa.String(length=255), nullable=False),
        sa.Column('targets', sa.Text(), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.Column('signup_deadline', sa.DateTime(timezone=True), nullable=True),
        sa.Column('organiser_id', sa.BigInteger(), nullable=False),
        sa.Column('checkin_code', sa.String(length=12), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_notice_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('notices_sent', sa.Integer(), nullable=False),
        sa.Column('shown', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('checkin_code'),
    )
    op.create_index('ix_activities_notice', 'activities', ['status', 'next_notice_at'], unique=False)
    op.create_table(
        'activity_signups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('activity_id', 'user_id'),
    )
    op.create_index('ix_signups_activity', 'activity_signups', ['activity_id', 'status', 'id'], unique=False)
    op.create_table(
        'point_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=True),
        sa.Column('by_user_id', sa.BigInteger(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source'),
    )
    op.create_index('ix_point_entries_user_id', 'point_entries', ['user_id'], unique=False)
    op.create_table(
        'leaderboard_consents',
        sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade() -> None:
    op.drop_table('leaderboard_consents')
    op.drop_index('ix_point_entries_user_id', table_name='point_entries')
    op.drop_table('point_entries')
    op.drop_index('ix_signups_activity', table_name='activity_signups')
    op.drop_table('activity_signups')
    op.drop_index('ix_activities_notice', table_name='activities')
    op.drop_table('activities')
    op.drop_index('ix_broadcasts_status', table_name='broadcasts')
    op.drop_table('broadcasts')
