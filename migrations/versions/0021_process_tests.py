"""process tests: what the studio's deploy found when it ran a version's process tests

`deployment.tests` holds {passed, failed, failing: [scenario names], overridden, by} when the
studio ran the draft's tests before deploying it; an analyst who deployed despite a failing test
is recorded there (and in the history).

Revision ID: 0021_process_tests
Revises: 0016_mail_out
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0021_process_tests'
down_revision = '0020_migration_batches'
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    with op.batch_alter_table('deployment') as batch:
        batch.add_column(sa.Column('tests', json_type, nullable=True))


def downgrade():
    with op.batch_alter_table('deployment') as batch:
        batch.drop_column('tests')
