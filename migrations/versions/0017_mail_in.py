"""mail in: inbound messages (dedup by Message-ID, held mails), outbox Message-ID index, users' mail preference

Revision ID: 0017_mail_in
Revises: 0016_mail_out
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_mail_in'
down_revision = '0016_mail_out'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'inbound_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=300), nullable=False),
        sa.Column('sender', sa.String(length=300), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=True),
        sa.Column('raw', sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id'),
    )
    op.create_index('ix_inbound_mail_outcome_id', 'inbound_mail', ['outcome', 'id'])
    op.create_index('ix_outbox_message_id', 'outbox', ['message_id'])
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('mail_notifications', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('user') as batch:
        batch.drop_column('mail_notifications')
    op.drop_index('ix_outbox_message_id', table_name='outbox')
    op.drop_index('ix_inbound_mail_outcome_id', table_name='inbound_mail')
    op.drop_table('inbound_mail')
