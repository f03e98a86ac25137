"""task restarts

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 16:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('task_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restarts', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('task_records', schema=None) as batch_op:
        batch_op.drop_column('restarts')
