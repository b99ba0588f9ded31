"""inbox ranges: the queue's and a person's task indexes in the inbox's order

Revision ID: 0027_inbox_ranges
Revises: 0026_sla_at_risk
Create Date: 2026-12-03

(team, assignee_id, due_at) and (assignee_id, due_at) become (team, assignee_id, due_at IS NULL,
due_at, created_at, id) and (assignee_id, due_at IS NULL, due_at, created_at, id): the inbox's
order (undated tasks last, then arrival). A page of a team's queue or of a person's own tasks is
read in index order and stops at the page, instead of sorting every task of the view; the
equality lookups of assignment (an agent's open tasks) use the leading columns as before.
ix_human_task_team_ticket (team, assignee_id, ticket_id, priority) covers the counts of a view
with a ticket filter, and hands SQLite the tickets in their table's order.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_inbox_ranges'
down_revision = '0026_sla_at_risk'
branch_labels = None
depends_on = None

ORDER = [sa.text('(due_at IS NULL)'), sa.text('due_at'), sa.text('created_at'), sa.text('id')]


def upgrade():
    op.drop_index('ix_human_task_team_assignee_due', table_name='human_task')
    op.drop_index('ix_human_task_assignee_due', table_name='human_task')
    op.create_index('ix_human_task_team_assignee_order', 'human_task',
                    [sa.text('team'), sa.text('assignee_id'), *ORDER])
    op.create_index('ix_human_task_assignee_order', 'human_task', [sa.text('assignee_id'), *ORDER])
    op.create_index('ix_human_task_team_ticket', 'human_task', ['team', 'assignee_id', 'ticket_id', 'priority'])


def downgrade():
    op.drop_index('ix_human_task_team_ticket', table_name='human_task')
    op.drop_index('ix_human_task_assignee_order', table_name='human_task')
    op.drop_index('ix_human_task_team_assignee_order', table_name='human_task')
    op.create_index('ix_human_task_team_assignee_due', 'human_task', ['team', 'assignee_id', 'due_at'])
    op.create_index('ix_human_task_assignee_due', 'human_task', ['assignee_id', 'due_at'])
