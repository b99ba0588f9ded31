"""migration batches: bulk moves of running tickets to another version, one item per ticket, and the
claim (unique while the batch is open) that keeps two open batches off the same ticket

Revision ID: 0020_migration_batches
Revises: 0016_mail_out
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0020_migration_batches'
down_revision = '0019_engagement'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'migration_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('process_key', sa.String(length=128), nullable=False),
        sa.Column('source_version', sa.Integer(), nullable=False),
        sa.Column('target_version', sa.Integer(), nullable=False),
        sa.Column('mapping', JSON, nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('moved', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_migration_batch_state_created', 'migration_batch', ['state', 'created_at'])
    op.create_table(
        'migration_batch_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('claim', sa.Integer(), nullable=True),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['migration_batch.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('claim'),
    )
    op.create_index(
        'ix_migration_batch_item_batch_state', 'migration_batch_item', ['batch_id', 'state', 'id']
    )
    op.create_index('ix_migration_batch_item_ticket', 'migration_batch_item', ['ticket_id'])


def downgrade():
    op.drop_index('ix_migration_batch_item_ticket', table_name='migration_batch_item')
    op.drop_index('ix_migration_batch_item_batch_state', table_name='migration_batch_item')
    op.drop_table('migration_batch_item')
    op.drop_index('ix_migration_batch_state_created', table_name='migration_batch')
    op.drop_table('migration_batch')
