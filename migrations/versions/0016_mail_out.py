"""mail out: the outbox's delivery state (state, attempts, next attempt, lease, error, Message-ID)

Rows already in the outbox were never sent: they become `pending` and the worker sends them.

Revision ID: 0016_mail_out
Revises: 0015_dashboard_counts
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_mail_out'
down_revision = '0015_dashboard_counts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('state', sa.String(length=16), server_default='pending', nullable=False))
        batch.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('next_attempt_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch.add_column(sa.Column('message_id', sa.String(length=200), nullable=True))
    op.execute("UPDATE outbox SET state = 'sent' WHERE sent_at IS NOT NULL")
    op.create_index('ix_outbox_state_next_attempt_at', 'outbox', ['state', 'next_attempt_at'])


def downgrade():
    op.drop_index('ix_outbox_state_next_attempt_at', table_name='outbox')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('message_id')
        batch.drop_column('last_error')
        batch.drop_column('lease_until')
        batch.drop_column('next_attempt_at')
        batch.drop_column('attempts')
        batch.drop_column('state')
