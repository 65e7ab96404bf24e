"""create once: one open task per item of a stage (#11)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:00:00

A stage is dispatched once (agency.projects.services.open_stage, a conditional UPDATE);
this partial unique index is the database's last word on it.  It covers open tasks only,
so a refused item resubmitted in the same stage (a new task beside the closed one) is
allowed.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0005'
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('pending', 'accepted', 'supplement')")


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('uq_tasks_open_item', ['stage_id', 'item_id'], unique=True,
                              postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('uq_tasks_open_item', postgresql_where=OPEN, sqlite_where=OPEN)
