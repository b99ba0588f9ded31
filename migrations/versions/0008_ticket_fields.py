"""ticket fields: the start data's scalar fields projected for filters and search, ticket.closed_at,
the indexes of the dashboard's ticket list and of staff search

Revision ID: 0008_ticket_fields
Revises: 0007_studio
Create Date: 2026-12-02

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_ticket_fields'
down_revision = '0007_studio'
branch_labels = None
depends_on = None

# The finished statuses (app.sla.STOPPING) and the normalisation of app.models.field_value, as
# they were when this migration was written (a migration does not import the app).
STOPPING = ('closed', 'resolved', 'rejected', 'denied', 'no_response', 'cancelled')
FIELD_NAME_MAX, FIELD_VALUE_MAX = 64, 200
BATCH = 2000


def _field_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str) and value.strip():
        return value.strip().lower()[:FIELD_VALUE_MAX]
    return None


def upgrade():
    op.create_table(
        'ticket_field',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=FIELD_NAME_MAX), nullable=False),
        sa.Column('value', sa.String(length=FIELD_VALUE_MAX), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('ticket_id', 'name'),
    )
    with op.batch_alter_table('ticket_field', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_field_name_value', ['name', 'value', 'ticket_id'], unique=False)

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_ticket_created', ['created_at', 'id', 'status'], unique=False)
        batch_op.create_index('ix_ticket_type_created', ['type', 'created_at', 'id', 'status'], unique=False)
        batch_op.create_index('ix_ticket_status_created', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_priority_created', ['priority', 'created_at', 'id', 'status'], unique=False)
        batch_op.create_index('ix_ticket_team_created', ['sla_team_key', 'created_at', 'id', 'status'], unique=False)
        batch_op.create_index('ix_ticket_closed', ['closed_at', 'id', 'status'], unique=False)

    # Partial indexes of the SLA filter "breached" (their predicates as the models write them).
    postgresql = op.get_bind().dialect.name == 'postgresql'
    running = sa.text('sla_running_since IS NOT NULL')
    missed = sa.text('sla_met IS false' if postgresql else 'sla_met IS 0')
    op.create_index('ix_ticket_sla_running_due', 'ticket', ['sla_due_at'],
                    sqlite_where=running, postgresql_where=running)
    op.create_index('ix_ticket_sla_missed', 'ticket', ['created_at', 'id'],
                    sqlite_where=missed, postgresql_where=missed)

    # Expression indexes autogenerate cannot compare: written by hand (pattern operators on PostgreSQL).
    ops = ' text_pattern_ops' if postgresql else ''
    op.create_index('ix_customer_name_lower', 'customer', [sa.text(f'lower(name){ops}')])
    op.create_index('ix_customer_email_lower', 'customer', [sa.text(f'lower(email){ops}')])

    _backfill()


def _backfill():
    """Existing tickets: their start fields from ticket.data, closed_at from their last update."""
    bind = op.get_bind()
    ticket = sa.table(
        'ticket', sa.column('id', sa.Integer()), sa.column('data', sa.JSON()), sa.column('status', sa.String())
    )
    field = sa.table('ticket_field', sa.column('ticket_id'), sa.column('name'), sa.column('value'))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(ticket.c.id, ticket.c.data).where(ticket.c.id > last).order_by(ticket.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        values = []
        for ticket_id, data in rows:
            if isinstance(data, str):
                data = json.loads(data)
            for name, raw in (data or {}).items() if isinstance(data, dict) else ():
                value = _field_value(raw)
                if value is not None and len(name) <= FIELD_NAME_MAX:
                    values.append({'ticket_id': ticket_id, 'name': name, 'value': value})
        if values:
            bind.execute(field.insert(), values)
        last = rows[-1][0]
    bind.execute(sa.text(
        'UPDATE ticket SET closed_at = updated_at WHERE closed_at IS NULL AND status IN :stopping'
    ).bindparams(sa.bindparam('stopping', expanding=True)), {'stopping': list(STOPPING)})


def downgrade():
    op.drop_index('ix_customer_email_lower', table_name='customer', if_exists=True)
    op.drop_index('ix_customer_name_lower', table_name='customer', if_exists=True)
    op.drop_index('ix_ticket_sla_missed', table_name='ticket')
    op.drop_index('ix_ticket_sla_running_due', table_name='ticket')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_closed')
        batch_op.drop_index('ix_ticket_team_created')
        batch_op.drop_index('ix_ticket_priority_created')
        batch_op.drop_index('ix_ticket_status_created')
        batch_op.drop_index('ix_ticket_type_created')
        batch_op.drop_index('ix_ticket_created')
        batch_op.drop_column('closed_at')
    with op.batch_alter_table('ticket_field', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_field_name_value')
    op.drop_table('ticket_field')
