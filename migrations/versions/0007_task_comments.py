"""task comments: the conversation on a task, public or internal, with an optional attachment (#13.3)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00
"""
from alembic import op
import sqlalchemy as sa

from agency.dbtypes import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'task_comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('internal', sa.Boolean(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('mentions', sa.String(length=1000), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=True),
        sa.Column('storage_key', sa.String(length=100), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('storage_key'),
    )
    with op.batch_alter_table('task_comments', schema=None) as batch_op:
        batch_op.create_index('ix_task_comments_project', ['project_id', 'id'], unique=False)
        batch_op.create_index('ix_task_comments_task', ['task_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('task_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_task_comments_task')
        batch_op.drop_index('ix_task_comments_project')
    op.drop_table('task_comments')
