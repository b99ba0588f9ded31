"""approval limits per role and user (four eyes), a currency per customer, a task's excluded person

Revision ID: 0012_approval_limits
Revises: 0013_conversation
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_approval_limits'
down_revision = '0013_conversation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'approval_limit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint('(role IS NULL) <> (user_id IS NULL)', name='ck_approval_limit_role_or_user'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('role'),
        sa.UniqueConstraint('user_id'),
    )
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False))
    with op.batch_alter_table('human_task') as batch:
        batch.add_column(sa.Column('excluded_user_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            'fk_human_task_excluded_user_id_user', 'user', ['excluded_user_id'], ['id'], ondelete='SET NULL'
        )


def downgrade():
    with op.batch_alter_table('human_task') as batch:
        batch.drop_constraint('fk_human_task_excluded_user_id_user', type_='foreignkey')
        batch.drop_column('excluded_user_id')
    if op.get_bind().dialect.name == 'sqlite':
        # The batch copy of human_task has lost 0002's expression indexes (SQLite reflection
        # skips them): put them back as 0002 made them.
        op.create_index('ix_human_task_team_due_order', 'human_task',
                        [sa.text('team'), sa.text('(due_at IS NULL)'), sa.text('due_at'), sa.text('created_at'), sa.text('id')],
                        if_not_exists=True)
        op.create_index('ix_human_task_due_order', 'human_task',
                        [sa.text('(due_at IS NULL)'), sa.text('due_at'), sa.text('created_at'), sa.text('id')],
                        if_not_exists=True)
    # In place (SQLite 3.35+), not batch mode: a recreated customer table would lose the
    # expression indexes of 0008.
    op.drop_column('customer', 'currency')
    op.drop_table('approval_limit')
