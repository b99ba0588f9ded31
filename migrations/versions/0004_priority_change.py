"""priority changes of escalations, keyed by the job

Revision ID: 0004_priority_change
Revises: 0003_deployments
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_priority_change'
down_revision = '0003_deployments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('priority_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('previous', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_priority_change_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_priority_change')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_priority_change_idempotency_key'))
    )
    with op.batch_alter_table('priority_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_priority_change_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    with op.batch_alter_table('priority_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_priority_change_ticket_id'))

    op.drop_table('priority_change')
