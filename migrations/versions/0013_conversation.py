"""conversation: unread customer messages on tickets (ticket.customer_unread_since), canned replies

Revision ID: 0013_conversation
Revises: 0011_saved_filters
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_conversation'
down_revision = '0011_saved_filters'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('ticket', sa.Column('customer_unread_since', sa.DateTime(), nullable=True))
    op.create_index('ix_ticket_customer_unread', 'ticket', ['customer_unread_since', 'id'])
    op.create_table(
        'canned_reply',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('team_key', sa.String(length=64), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_index('ix_canned_reply_team_key', 'canned_reply', ['team_key'])


def downgrade():
    op.drop_index('ix_canned_reply_team_key', table_name='canned_reply')
    op.drop_table('canned_reply')
    op.drop_index('ix_ticket_customer_unread', table_name='ticket')
    op.drop_column('ticket', 'customer_unread_since')
