"""dashboard speed at a million tickets: the ticket's process definition, counted in ticket_count;
indexes that match the ticket list's filters and sorts

- ticket.definition_id: the definition (type and version) its instance runs, filled from the
  instances; ix_ticket_definition_created for the list's version filter;
- ticket_count gains definition_id (in its key): counted again from the tickets;
- ix_ticket_unfinished: the unfinished tickets (a partial index), the list's derived states;
- ticket.priority_rank (kept with the priority by the model) and ix_ticket_priority_rank: the
  priority sort;
- ix_ticket_customer_created gains (id, status), ix_ticket_closed gains created_at: the counts of
  a customer-prefix list and of a closed range read the index alone;
- ix_ticket_id_status: the counts of a business-field list look up each match's status there.

Revision ID: 0022_dashboard_speed
Revises: 0016_mail_out
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_dashboard_speed'
down_revision = '0021_process_tests'
branch_labels = None
depends_on = None

FINISHED = "('cancelled', 'closed', 'denied', 'no_response', 'rejected', 'resolved')"
RANK = (
    "CASE WHEN (priority = 'low') THEN 0 WHEN (priority = 'normal') THEN 1 "
    "WHEN (priority = 'high') THEN 2 WHEN (priority = 'urgent') THEN 3 ELSE -1 END"
)
OLD_KEY = (
    "coalesce(type, ''), coalesce(sla_team_key, ''), coalesce(priority, ''), coalesce(status, ''), "
    "coalesce(sla_met = false, false)"
)
COUNT_KEY = OLD_KEY + ", coalesce(definition_id, 0)"


def _count_table(with_definition: bool):
    columns = [
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('team', sa.String(length=64), nullable=False),
        sa.Column('priority', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('missed', sa.Boolean(), nullable=False),
    ]
    key = ['type', 'team', 'priority', 'status', 'missed']
    if with_definition:
        columns.append(sa.Column('definition_id', sa.Integer(), nullable=False))
        key.append('definition_id')
    op.create_table('ticket_count', *columns, sa.Column('n', sa.Integer(), nullable=False), sa.PrimaryKeyConstraint(*key))


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.add_column('ticket', sa.Column('definition_id', sa.Integer(), nullable=True))
    op.add_column('ticket', sa.Column('priority_rank', sa.SmallInteger(), server_default='1', nullable=False))
    # One pass over the table; every ticket has one instance (the latest wins, were there more).
    op.execute(
        "UPDATE ticket SET definition_id = (SELECT pi.definition_id FROM process_instance pi "
        f"WHERE pi.ticket_id = ticket.id ORDER BY pi.id DESC LIMIT 1), priority_rank = {RANK}"
    )
    op.drop_table('ticket_count')
    _count_table(with_definition=True)
    op.execute(
        "INSERT INTO ticket_count (type, team, priority, status, missed, definition_id, n) "
        f"SELECT {COUNT_KEY}, count(*) FROM ticket GROUP BY {COUNT_KEY}"
    )
    op.create_index('ix_ticket_definition_created', 'ticket', ['definition_id', 'created_at', 'id', 'status'])
    op.drop_index('ix_ticket_customer_created', table_name='ticket')
    op.create_index('ix_ticket_customer_created', 'ticket', ['customer_id', 'created_at', 'id', 'status'])
    op.drop_index('ix_ticket_closed', table_name='ticket')
    op.create_index('ix_ticket_closed', 'ticket', ['closed_at', 'created_at', 'id', 'status'])
    op.execute(
        f"CREATE INDEX ix_ticket_unfinished ON ticket (created_at, id, status, sla_met, sla_running_since, "
        f"sla_due_at) WHERE (status NOT IN {FINISHED})"
    )
    op.create_index('ix_ticket_priority_rank', 'ticket', ['priority_rank', 'id'])
    op.create_index('ix_ticket_id_status', 'ticket', ['id', 'status'])
    if postgresql:
        # The backfill rewrote every row: vacuum, so index-only scans need not visit the table.
        with op.get_context().autocommit_block():
            op.execute("VACUUM ANALYZE ticket")


def downgrade():
    op.drop_index('ix_ticket_id_status', table_name='ticket')
    op.drop_index('ix_ticket_priority_rank', table_name='ticket')
    op.drop_index('ix_ticket_unfinished', table_name='ticket')
    op.drop_index('ix_ticket_closed', table_name='ticket')
    op.create_index('ix_ticket_closed', 'ticket', ['closed_at', 'id', 'status'])
    op.drop_index('ix_ticket_customer_created', table_name='ticket')
    op.create_index('ix_ticket_customer_created', 'ticket', ['customer_id', 'created_at'])
    op.drop_index('ix_ticket_definition_created', table_name='ticket')
    op.drop_table('ticket_count')
    _count_table(with_definition=False)
    op.execute(
        "INSERT INTO ticket_count (type, team, priority, status, missed, n) "
        f"SELECT {OLD_KEY}, count(*) FROM ticket GROUP BY {OLD_KEY}"
    )
    op.drop_column('ticket', 'priority_rank')
    op.drop_column('ticket', 'definition_id')
