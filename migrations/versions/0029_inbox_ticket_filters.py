"""inbox ticket filters: human_task copies its ticket's type, customer, status, SLA times, first response

Revision ID: 0029_inbox_ticket_filters
Revises: 0028_inbox_ticket_sorts
Create Date: 2026-12-04

A task now carries its ticket's type, customer, status, at-risk moment and first-response due
time, and the ticket's first response (ticket_stat.first_response_at), kept in step by
app.engine.runtime.ticket_copies, so the inbox filters a view by type, customer, status and SLA state from
human_task alone instead of joining every task of the view to its ticket and stat. The copies are
filled from the tickets and their stats. Two indexes take the copies: ix_human_task_team_customer
replaces ix_human_task_team_ticket (the counts with a customer, priority, status or type filter
from the index alone; no count joins the ticket any more) and ix_human_task_team_due_order ends
with the status (a team's page with a status filter from the index alone).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029_inbox_ticket_filters'
down_revision = '0028_inbox_ticket_sorts'
branch_labels = None
depends_on = None

COLUMNS = (
    ('ticket_type', sa.String(length=64), 'ticket', 'type'),
    ('customer_id', sa.Integer(), 'ticket', 'customer_id'),
    ('ticket_status', sa.String(length=32), 'ticket', 'status'),
    ('sla_at_risk_at', sa.DateTime(), 'ticket', 'sla_at_risk_at'),
    ('first_response_due_at', sa.DateTime(), 'ticket', 'first_response_due_at'),
    ('first_responded_at', sa.DateTime(), 'ticket_stat', 'first_response_at'),
)


def upgrade():
    for name, type_, _table, _column in COLUMNS:
        op.add_column('human_task', sa.Column(name, type_, nullable=True))
    of = {'ticket': 'ticket.id', 'ticket_stat': 'ticket_stat.ticket_id'}
    values = ', '.join(
        f'{name} = (SELECT {table}.{column} FROM {table} WHERE {of[table]} = human_task.ticket_id)'
        for name, _type, table, column in COLUMNS
    )
    op.execute(f'UPDATE human_task SET {values} WHERE ticket_id IS NOT NULL')
    op.drop_index('ix_human_task_team_ticket', table_name='human_task')
    op.create_index('ix_human_task_team_customer', 'human_task',
                    ['team', 'assignee_id', 'customer_id', 'priority_rank', 'ticket_status', 'ticket_type'])
    _due_order(['ticket_status'])


def _due_order(extra: list[str]) -> None:
    op.drop_index('ix_human_task_team_due_order', table_name='human_task')
    op.create_index('ix_human_task_team_due_order', 'human_task', [sa.text(c) for c in DUE_ORDER + extra])


DUE_ORDER = ['team', '(due_at IS NULL)', 'due_at', 'created_at', 'id']


def downgrade():
    _due_order([])
    op.drop_index('ix_human_task_team_customer', table_name='human_task')
    op.create_index('ix_human_task_team_ticket', 'human_task', ['team', 'assignee_id', 'ticket_id', 'priority'])
    for name, *_ in reversed(COLUMNS):
        op.drop_column('human_task', name)  # in place (SQLite 3.35+): no table rebuild
