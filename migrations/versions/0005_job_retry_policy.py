"""job: the rest of the retry policy (initial and maximum interval, non-retryable error kinds)

Revision ID: 0005_job_retry_policy
Revises: 0004_priority_change
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0005_job_retry_policy'
down_revision = '0004_priority_change'
branch_labels = None
depends_on = None


def upgrade():
    # Rows written before this revision keep their attempts and base and get the defaults
    # (2 s first wait, at most an hour), which is the wait they had: base ** attempt with base 2.
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('initial_interval', sa.Double(), server_default='2', nullable=False))
        batch_op.add_column(sa.Column('max_interval', sa.Double(), server_default='3600', nullable=False))
        batch_op.add_column(sa.Column('non_retryable', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('non_retryable')
        batch_op.drop_column('max_interval')
        batch_op.drop_column('initial_interval')
