"""inbox ticket filters: human_task copies its ticket's type, status and SLA times and its first response

Revision ID: 0029_inbox_ticket_filters
Revises: 0028_inbox_ticket_sorts
Create Date: 2026-12-04

A task now carries its ticket's type, status, at-risk moment and first-response due time, and the
ticket's first response (ticket_stat.first_response_at), kept in step by
app.engine.runtime.ticket_copies, so the inbox filters a view by type, status and SLA state from
human_task alone instead of joining every task of the view to its ticket and stat. The copies are
filled from the tickets and their stats.
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


def downgrade():
    for name, *_ in reversed(COLUMNS):
        op.drop_column('human_task', name)  # in place (SQLite 3.35+): no table rebuild
