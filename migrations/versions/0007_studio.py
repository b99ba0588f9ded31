"""studio: drafts per analyst and type, retired types, a comment on each deployment

Revision ID: 0007_studio
Revises: 0006_security
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0007_studio'
down_revision = '0006_security'
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    op.create_table(
        'studio_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('files', json_type, nullable=True),
        sa.Column('base_version', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'key', name='uq_studio_draft_user_key'),
    )
    op.create_table(
        'process_type',
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('retired_at', sa.DateTime(), nullable=True),
        sa.Column('retired_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['retired_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.drop_column('comment')
    op.drop_table('process_type')
    op.drop_table('studio_draft')
