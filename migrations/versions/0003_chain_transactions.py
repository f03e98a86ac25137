"""chain transactions and reward claim state

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 18:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'chain_transactions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tx_hash', sa.String(length=80), nullable=False),
        sa.Column('network', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('contract_type', sa.String(length=32), nullable=True),
        sa.Column('method', sa.String(length=64), nullable=True),
        sa.Column('currency', sa.String(length=16), nullable=False),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.Column('amount_units', sa.String(length=80), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=True),
        sa.Column('from_address', sa.String(length=42), nullable=False),
        sa.Column('to_address', sa.String(length=42), nullable=True),
        sa.Column('nonce', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('gas_used', sa.Integer(), nullable=True),
        sa.Column('block_number', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tx_hash'),
    )
    with op.batch_alter_table('chain_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_chain_transactions_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_chain_transactions_currency', ['currency'], unique=False)
        batch_op.create_index('ix_chain_transactions_status', ['status'], unique=False)
        batch_op.create_index('ix_chain_transactions_task_id', ['task_id'], unique=False)
    with op.batch_alter_table('earnings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_earnings_status', ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('earnings', schema=None) as batch_op:
        batch_op.drop_index('ix_earnings_status')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('attempts')
    op.drop_table('chain_transactions')
