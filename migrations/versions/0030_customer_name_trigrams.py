"""customer name trigrams: a GIN trigram index on customer.name on PostgreSQL (pg_trgm)

Revision ID: 0030_customer_name_trigrams
Revises: 0029_inbox_ticket_filters
Create Date: 2026-12-05

The inbox's customer filter finds the customers whose name contains a text (ILIKE '%berg%'),
a scan of every customer in each request. On PostgreSQL a GIN index of the name's trigrams
reads the matching rows instead. It needs the pg_trgm extension (PostgreSQL's contrib, trusted:
a database owner may create it): created here when the server has it; without it, or on SQLite,
nothing changes and the same query scans.
"""
import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030_customer_name_trigrams'
down_revision = '0029_inbox_ticket_filters'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    if not _trigrams(bind):
        log.warning('pg_trgm is not available: the customer name filter scans the customers')
        return
    op.create_index('ix_customer_name_trgm', 'customer', ['name'],
                    postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})


def _trigrams(bind) -> bool:
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    if not bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first():
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text('CREATE EXTENSION IF NOT EXISTS pg_trgm'))
    except sa.exc.DBAPIError:
        return False
    return True


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_customer_name_trgm')
