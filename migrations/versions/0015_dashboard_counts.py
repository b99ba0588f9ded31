"""dashboard counts: ticket_count (tickets per type, SLA team, priority, status and SLA miss, kept in
each transaction that changes a ticket), an index of a ticket's open incidents

Revision ID: 0015_dashboard_counts
Revises: 0012_approval_limits
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_dashboard_counts'
down_revision = '0012_approval_limits'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ticket_count',
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('team', sa.String(length=64), nullable=False),
        sa.Column('priority', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('missed', sa.Boolean(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('type', 'team', 'priority', 'status', 'missed'),
    )
    # Every existing ticket, counted once (the same GROUP BY as app.stats.counts.rebuild_counts).
    op.execute(
        "INSERT INTO ticket_count (type, team, priority, status, missed, n) "
        "SELECT coalesce(type, ''), coalesce(sla_team_key, ''), coalesce(priority, ''), "
        "coalesce(status, ''), coalesce(sla_met = false, false), count(*) FROM ticket "
        "GROUP BY coalesce(type, ''), coalesce(sla_team_key, ''), coalesce(priority, ''), "
        "coalesce(status, ''), coalesce(sla_met = false, false)"
    )
    op.create_index('ix_incident_ticket_resolved', 'incident', ['ticket_id', 'resolved_at'])


def downgrade():
    op.drop_index('ix_incident_ticket_resolved', table_name='incident')
    op.drop_table('ticket_count')
