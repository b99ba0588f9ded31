"""dashboard filters: ticket_field_count (tickets per start field value, type and status) and
ticket_day_count (tickets per UTC day of creation, type and status), kept in each transaction that
creates a ticket or changes its status, for the counts of a business-field filter and of a
creation range

Revision ID: 0023_dashboard_filters
Revises: 0022_dashboard_speed
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_dashboard_filters'
down_revision = '0022_dashboard_speed'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ticket_field_count',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'value', 'type', 'status'),
    )
    # Every existing ticket's fields, counted once (the GROUP BY of
    # app.stats.list_counts.rebuild_list_counts).
    op.execute(
        "INSERT INTO ticket_field_count (name, value, type, status, n) "
        "SELECT f.name, f.value, coalesce(t.type, ''), coalesce(t.status, ''), count(*) "
        "FROM ticket_field f JOIN ticket t ON t.id = f.ticket_id "
        "GROUP BY f.name, f.value, coalesce(t.type, ''), coalesce(t.status, '')"
    )
    op.create_table(
        'ticket_day_count',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'type', 'status'),
    )
    op.execute(
        "INSERT INTO ticket_day_count (day, type, status, n) "
        "SELECT date(created_at), coalesce(type, ''), coalesce(status, ''), count(*) FROM ticket "
        "WHERE created_at IS NOT NULL GROUP BY date(created_at), coalesce(type, ''), coalesce(status, '')"
    )


def downgrade():
    op.drop_table('ticket_day_count')
    op.drop_table('ticket_field_count')
