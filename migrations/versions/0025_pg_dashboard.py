"""pg dashboard: ix_process_instance_status_definition (status, definition_id, id), a version's
open instances from the index alone, for the tokens of the heatmap and the statistics API;
ix_ticket_stat_ticket_type_team (ticket_id, type, team), a ticket's type and team from the index
alone, for the KPI page's tests of each open task and backlog breach against a type and team

Revision ID: 0025_pg_dashboard
Revises: 0024_dashboard_filters
Create Date: 2026-12-03

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025_pg_dashboard'
down_revision = '0024_dashboard_filters'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_process_instance_status_definition',
        'process_instance',
        ['status', 'definition_id', 'id'],
        unique=False,
    )
    op.create_index(
        'ix_ticket_stat_ticket_type_team', 'ticket_stat', ['ticket_id', 'type', 'team'], unique=False
    )


def downgrade():
    op.drop_index('ix_ticket_stat_ticket_type_team', table_name='ticket_stat')
    op.drop_index('ix_process_instance_status_definition', table_name='process_instance')
