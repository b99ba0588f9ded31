"""dashboard filters: ticket_field_count (tickets per start field value, type and status) and
ticket_day_count (tickets per UTC day of creation, type and status), kept in each transaction that
creates a ticket or changes its status, for the counts of a business-field filter and of a
creation range; ix_ticket_unfinished ends with the type (the KPI backlog's breaches of a type
read from the index alone)

Revision ID: 0024_dashboard_filters
Revises: 0023_expression_indexes
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_dashboard_filters'
down_revision = '0023_expression_indexes'
branch_labels = None
depends_on = None

FINISHED = "('cancelled', 'closed', 'denied', 'no_response', 'rejected', 'resolved')"
UNFINISHED_COLUMNS = "created_at, id, status, sla_met, sla_running_since, sla_due_at"


def _unfinished_index(columns: str) -> None:
    op.drop_index('ix_ticket_unfinished', table_name='ticket')
    op.execute(f"CREATE INDEX ix_ticket_unfinished ON ticket ({columns}) WHERE (status NOT IN {FINISHED})")
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        # SQLite plans by sqlite_stat1 when the database was analysed: give the new index its row.
        analysed = bind.execute(
            sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        ).scalar()
        if analysed:
            op.execute("ANALYZE ix_ticket_unfinished")


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
    _unfinished_index(UNFINISHED_COLUMNS + ", type")


def downgrade():
    _unfinished_index(UNFINISHED_COLUMNS)
    op.drop_table('ticket_day_count')
    op.drop_table('ticket_field_count')
