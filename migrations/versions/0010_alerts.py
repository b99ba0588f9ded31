"""alerts: thresholds per ticket type and team (alert_rule), each firing (alert_event), SLA breach indexes

Revision ID: 0010_alerts
Revises: 0009_dashboard_stats
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_alerts'
down_revision = '0009_dashboard_stats'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'alert_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('metric', sa.String(length=32), nullable=False),
        sa.Column('ticket_type', sa.String(length=64), nullable=True),
        sa.Column('team_key', sa.String(length=64), nullable=True),
        sa.Column('threshold', sa.Double(), nullable=False),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('last_value', sa.Double(), nullable=True),
        sa.Column('evaluated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'alert_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=True),
        sa.Column('metric', sa.String(length=32), nullable=False),
        sa.Column('description', sa.String(length=300), nullable=False),
        sa.Column('value', sa.Double(), nullable=False),
        sa.Column('threshold', sa.Double(), nullable=False),
        sa.Column('fired_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['rule_id'], ['alert_rule.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alert_event_rule_resolved', 'alert_event', ['rule_id', 'resolved_at'])
    op.create_index('ix_alert_event_fired_at', 'alert_event', ['fired_at'])
    op.create_index('ix_ticket_sla_met_type', 'ticket', ['sla_met', 'type'])
    op.create_index('ix_ticket_sla_clock_due', 'ticket', ['sla_running_since', 'sla_due_at', 'type', 'sla_met'])


def downgrade():
    op.drop_index('ix_ticket_sla_clock_due', table_name='ticket')
    op.drop_index('ix_ticket_sla_met_type', table_name='ticket')
    op.drop_index('ix_alert_event_fired_at', table_name='alert_event')
    op.drop_index('ix_alert_event_rule_resolved', table_name='alert_event')
    op.drop_table('alert_event')
    op.drop_table('alert_rule')
