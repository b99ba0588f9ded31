"""inbox ticket sorts: human_task.priority_rank and sla_due_at, copies of the ticket's, with indexes

Revision ID: 0028_inbox_ticket_sorts
Revises: 0027_inbox_ranges
Create Date: 2026-12-03

A task now carries its ticket's SLA due time and priority rank (urgent 0 ... low 3), kept in step
by app.engine.runtime.ticket_copies, so the inbox sorts a team lead's whole team or everything by
SLA due or priority from an index of human_task (a page read in index order) instead of joining
every task of the view to its ticket and sorting them all. The copies are filled from the tickets;
`priority`, which a task took when it opened, is brought up to the ticket's current priority too
(an escalation that raised it did not reach the tasks already open).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028_inbox_ticket_sorts'
down_revision = '0027_inbox_ranges'
branch_labels = None
depends_on = None

THEN_DUE = [sa.text('(due_at IS NULL)'), sa.text('due_at'), sa.text('created_at'), sa.text('id')]
BY_SLA = [sa.text('(sla_due_at IS NULL)'), sa.text('sla_due_at'), *THEN_DUE]
BY_PRIORITY = [sa.text('priority_rank'), *THEN_DUE]


def upgrade():
    op.add_column('human_task', sa.Column('priority_rank', sa.SmallInteger(), nullable=False, server_default='2'))
    op.add_column('human_task', sa.Column('sla_due_at', sa.DateTime(), nullable=True))
    ticket = "SELECT {} FROM ticket WHERE ticket.id = human_task.ticket_id"
    op.execute(
        f"UPDATE human_task SET priority = coalesce(({ticket.format('priority')}), priority), "
        f"sla_due_at = ({ticket.format('sla_due_at')}) WHERE ticket_id IS NOT NULL"
    )
    op.execute(
        "UPDATE human_task SET priority_rank = CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 "
        "WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"
    )
    op.create_index('ix_human_task_priority_order', 'human_task', BY_PRIORITY)
    op.create_index('ix_human_task_team_priority_order', 'human_task', [sa.text('team'), *BY_PRIORITY])
    op.create_index('ix_human_task_sla_order', 'human_task', BY_SLA)
    op.create_index('ix_human_task_team_sla_order', 'human_task', [sa.text('team'), *BY_SLA])


def downgrade():
    for name in ('team_sla', 'sla', 'team_priority', 'priority'):
        op.drop_index(f'ix_human_task_{name}_order', table_name='human_task')
    op.drop_column('human_task', 'sla_due_at')  # in place (SQLite 3.35+): no table rebuild
    op.drop_column('human_task', 'priority_rank')
