"""engagement: the onboarding's verdict on a customer (engaged / not engaged) and their last engagement

Revision ID: 0019_engagement
Revises: 0016_mail_out
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_engagement'
down_revision = '0018_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('engagement', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('last_engaged_at', sa.DateTime(), nullable=True))


def downgrade():
    # Not batch mode: on SQLite it would recreate the table, and the copy loses the expression
    # indexes of 0008 (lower(name), lower(email)); SQLite 3.35+ drops a plain column in place.
    op.drop_column('customer', 'last_engaged_at')
    op.drop_column('customer', 'engagement')
