"""dashboard stats: history_event.seconds and pre-aggregated figures (ticket_stat, daily_stat, duration_stat, element_stat), backfilled from the history

Revision ID: 0009_dashboard_stats
Revises: 0008_ticket_fields
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session


# revision identifiers, used by Alembic.
revision = '0009_dashboard_stats'
down_revision = '0008_ticket_fields'
branch_labels = None
depends_on = None

DAILY = ('opened', 'resolved', 'cancelled', 'reopened', 'escalated', 'handoffs', 'one_touch', 'sla_met',
         'sla_breached', 'first_responses', 'first_response_met', 'feedback', 'rating_sum', 'rating_1',
         'rating_2', 'rating_3', 'rating_4', 'rating_5', 'follow_ups')


def upgrade():
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seconds', sa.Integer(), nullable=True))
    op.create_table(
        'ticket_stat',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('team', sa.String(length=64), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('is_open', sa.Boolean(), nullable=False),
        sa.Column('first_response_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolution_seconds', sa.Integer(), nullable=True),
        sa.Column('resolved_status', sa.String(length=32), nullable=True),
        sa.Column('sla_met', sa.Boolean(), nullable=True),
        sa.Column('one_touch', sa.Boolean(), nullable=False),
        sa.Column('touches', sa.Integer(), nullable=False),
        sa.Column('handoffs', sa.Integer(), nullable=False),
        sa.Column('reopens', sa.Integer(), nullable=False),
        sa.Column('escalated', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('ticket_id'),
    )
    op.create_index('ix_ticket_stat_open', 'ticket_stat', ['is_open', 'type', 'team', 'opened_at'])
    op.create_table(
        'daily_stat',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('team', sa.String(length=64), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in DAILY],
        sa.PrimaryKeyConstraint('day', 'type', 'team'),
    )
    op.create_index('ix_daily_stat_type_team_day', 'daily_stat', ['type', 'team', 'day'])
    op.create_table(
        'duration_stat',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('team', sa.String(length=64), nullable=False),
        sa.Column('metric', sa.String(length=16), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'type', 'team', 'metric', 'bucket'),
    )
    op.create_table(
        'element_stat',
        sa.Column('process_key', sa.String(length=128), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('element_id', sa.String(length=128), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('completed', sa.Integer(), nullable=False),
        sa.Column('cancelled', sa.Integer(), nullable=False),
        sa.Column('incidents', sa.Integer(), nullable=False),
        sa.Column('duration_sum', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('process_key', 'version', 'element_id', 'day', 'bucket'),
    )
    op.create_index('ix_element_stat_key_version_day', 'element_stat', ['process_key', 'version', 'day'])
    _backfill()


def _backfill():
    """Replay the existing history into the new tables (app/stats/record.py, the engine's own code)."""
    from app.stats.rebuild import calendar_loader, rebuild

    session = Session(bind=op.get_bind())
    try:
        rebuild(session, calendar_loader(session), task_copies=False)  # human_task has no copies yet
        session.flush()
    finally:
        session.close()


def downgrade():
    op.drop_index('ix_element_stat_key_version_day', table_name='element_stat')
    op.drop_table('element_stat')
    op.drop_table('duration_stat')
    op.drop_index('ix_daily_stat_type_team_day', table_name='daily_stat')
    op.drop_table('daily_stat')
    op.drop_index('ix_ticket_stat_open', table_name='ticket_stat')
    op.drop_table('ticket_stat')
    with op.batch_alter_table('history_event', schema=None) as batch_op:
        batch_op.drop_column('seconds')
