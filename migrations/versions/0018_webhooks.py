"""webhooks: subscriptions of URLs to events, and their deliveries (state, attempts, lease, outcome)

Revision ID: 0018_webhooks
Revises: 0016_mail_out
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0018_webhooks'
down_revision = '0017_mail_in'
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'webhook_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=True),
        sa.Column('events', _json(), nullable=True),
        sa.Column('secret', sa.String(length=128), nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_subscription_active', 'webhook_subscription', ['active'])
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('payload', _json(), nullable=True),
        sa.Column('dedup_key', sa.String(length=120), nullable=True),
        sa.Column('state', sa.String(length=16), server_default='pending', nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('response_ms', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscription.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_webhook_delivery_state_next_attempt_at', 'webhook_delivery', ['state', 'next_attempt_at']
    )
    op.create_index(
        'ix_webhook_delivery_subscription_state_id', 'webhook_delivery', ['subscription_id', 'state', 'id']
    )
    op.create_index('ix_webhook_delivery_subscription_id', 'webhook_delivery', ['subscription_id', 'id'])
    op.create_index(
        'ux_webhook_delivery_dedup', 'webhook_delivery', ['subscription_id', 'dedup_key'], unique=True
    )


def downgrade():
    op.drop_table('webhook_delivery')
    op.drop_table('webhook_subscription')
