"""refusal and suspension: resubmissions, suspension periods, stopped clocks (R2)

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02 10:00:00

A suspended project's running tasks keep their status and carry the working
days they had left (tasks.suspended_days_left): the sweep's partial indexes
leave them out.  A resubmission names the refused task it supersedes, once.
"""
from alembic import op
import sqlalchemy as sa

import agency.dbtypes


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_DUE = "status IN ('pending', 'accepted') AND escalated_at IS NULL"
OLD_WARN = "status IN ('pending', 'accepted') AND warned_at IS NULL"
NEW_DUE = "status IN ('pending', 'accepted') AND suspended_days_left IS NULL AND escalated_at IS NULL"
NEW_WARN = "status IN ('pending', 'accepted') AND suspended_days_left IS NULL AND warned_at IS NULL"


def _sweep_indexes(batch_op, drop_due, drop_warn, due, warn):
    batch_op.drop_index('ix_tasks_warn', postgresql_where=sa.text(drop_warn), sqlite_where=sa.text(drop_warn))
    batch_op.drop_index('ix_tasks_due', postgresql_where=sa.text(drop_due), sqlite_where=sa.text(drop_due))
    batch_op.create_index('ix_tasks_due', ['deadline'], unique=False, postgresql_where=sa.text(due),
                          sqlite_where=sa.text(due))
    batch_op.create_index('ix_tasks_warn', ['warn_at'], unique=False, postgresql_where=sa.text(warn),
                          sqlite_where=sa.text(warn))


def upgrade():
    op.create_table('project_suspensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('started_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_project_suspensions_ended_by_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_suspensions_project_id_projects')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'],
                            name=op.f('fk_project_suspensions_started_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_suspensions'))
    )
    with op.batch_alter_table('project_suspensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_suspensions_project_id'), ['project_id'], unique=False)
        batch_op.create_index('uq_project_suspensions_open', ['project_id'], unique=True,
                              postgresql_where=sa.text('ended_at IS NULL'), sqlite_where=sa.text('ended_at IS NULL'))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('termination_cause', sa.String(length=20), nullable=True))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_days_left', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('supersedes_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_tasks_supersedes_id'), ['supersedes_id'])
        batch_op.create_foreign_key(batch_op.f('fk_tasks_supersedes_id_tasks'), 'tasks', ['supersedes_id'], ['id'])
        _sweep_indexes(batch_op, OLD_DUE, OLD_WARN, NEW_DUE, NEW_WARN)

    op.execute("UPDATE projects SET termination_cause = 'withdrawn' WHERE status = 'terminated'")


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        _sweep_indexes(batch_op, NEW_DUE, NEW_WARN, OLD_DUE, OLD_WARN)
        batch_op.drop_constraint(batch_op.f('fk_tasks_supersedes_id_tasks'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_tasks_supersedes_id'), type_='unique')
        batch_op.drop_column('supersedes_id')
        batch_op.drop_column('suspended_days_left')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('termination_cause')

    with op.batch_alter_table('project_suspensions', schema=None) as batch_op:
        batch_op.drop_index('uq_project_suspensions_open', postgresql_where=sa.text('ended_at IS NULL'),
                            sqlite_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_project_suspensions_project_id'))

    op.drop_table('project_suspensions')
