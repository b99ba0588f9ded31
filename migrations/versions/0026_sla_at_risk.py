"""sla at risk: ticket.sla_at_risk_at, the moment a running SLA clock turns "at risk"

Revision ID: 0026_sla_at_risk
Revises: 0025_pg_dashboard
Create Date: 2026-12-03

app.sla sets it with the due time, in business time (the at-risk window, a quarter of the target
and at least an hour, before the due time), so the inbox's and the ticket list's "at risk" filters
compare a column instead of computing the time left for every ticket, and agree with the badge.
Tickets already running get the wall-clock approximation (the due time minus the window); the
next change of their clock (a pause, a new priority) sets it in business time.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_sla_at_risk'
down_revision = '0025_pg_dashboard'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('ticket', sa.Column('sla_at_risk_at', sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        window = "make_interval(secs => greatest(coalesce(sla_target_seconds, 0) * 0.25, 3600))"
        op.execute(f"UPDATE ticket SET sla_at_risk_at = sla_due_at - {window} WHERE sla_due_at IS NOT NULL")
    else:  # SQLAlchemy's SQLite text format: six digits of microseconds
        shift = "'-' || max(coalesce(sla_target_seconds, 0) * 0.25, 3600) || ' seconds'"
        op.execute(
            f"UPDATE ticket SET sla_at_risk_at = strftime('%Y-%m-%d %H:%M:%f', sla_due_at, {shift}) || '000' "
            "WHERE sla_due_at IS NOT NULL"
        )


def downgrade():
    op.drop_column('ticket', 'sla_at_risk_at')  # in place (SQLite 3.35+): no table rebuild
