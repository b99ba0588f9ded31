"""expression indexes: put back on SQLite the human_task indexes that 0012's table rebuild lost

Revision ID: 0023_expression_indexes
Revises: 0022_dashboard_speed
Create Date: 2026-12-03

0002 made two expression indexes on human_task (undated tasks last: the inbox's sort). On SQLite,
0012 added a foreign key in batch mode, which rebuilds the table from its reflection, and SQLite's
reflection skips expression indexes: every SQLite database migrated past 0012 lost them, and the
inbox sorted without an index. PostgreSQL alters in place and kept them; this is a no-op there.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_expression_indexes'
down_revision = '0022_dashboard_speed'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.create_index('ix_human_task_team_due_order', 'human_task',
                    [sa.text('team'), sa.text('(due_at IS NULL)'), sa.text('due_at'), sa.text('created_at'), sa.text('id')],
                    if_not_exists=True)
    op.create_index('ix_human_task_due_order', 'human_task',
                    [sa.text('(due_at IS NULL)'), sa.text('due_at'), sa.text('created_at'), sa.text('id')],
                    if_not_exists=True)


def downgrade():
    pass  # the indexes belong to 0002: they stay
