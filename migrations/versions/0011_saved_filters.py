"""inbox: saved filters per user, the viewer's time zone, when they last looked, new-task index

Revision ID: 0011_saved_filters
Revises: 0010_alerts
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_saved_filters'
down_revision = '0010_alerts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_filter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('query', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'name', name='uq_saved_filter_user_name'),
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('inbox_seen_at', sa.DateTime(), nullable=True))
    op.create_index('ix_human_task_created', 'human_task', ['created_at'])


def downgrade():
    op.drop_index('ix_human_task_created', table_name='human_task')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('inbox_seen_at')
        batch_op.drop_column('timezone')
    op.drop_table('saved_filter')
