"""outbox media and priority, dialogue step and data, the person a case is handed to (派单)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 13:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offered_to_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('offered_to_name', sa.String(length=255), nullable=True))

    with op.batch_alter_table('dialogues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step', sa.String(length=32), server_default='', nullable=False))
        batch_op.add_column(sa.Column('data', sa.Text(), server_default='{}', nullable=False))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('media', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_index(batch_op.f('ix_outbox_pending'))
        batch_op.create_index('ix_outbox_pending', ['status', 'priority', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')
        batch_op.create_index('ix_outbox_pending', ['status', 'id'], unique=False)
        batch_op.drop_column('priority')
        batch_op.drop_column('media')
        batch_op.drop_column('media_kind')

    with op.batch_alter_table('dialogues', schema=None) as batch_op:
        batch_op.drop_column('data')
        batch_op.drop_column('step')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('offered_to_name')
        batch_op.drop_column('offered_to_id')
