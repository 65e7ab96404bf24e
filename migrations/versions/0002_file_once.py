"""file once, online: checklist, deferrals, results, shipments, visits, project code (R14-R19)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 18:33:45.114573

"""
from alembic import op
import sqlalchemy as sa

import agency.dbtypes


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')  # GET /projects?q= (ix_projects_name_trgm)
    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('task_ids', sa.JSON(), nullable=False),
    sa.Column('waybill', sa.String(length=60), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('sent_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_shipments_created_by_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_shipments_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_project_id'), ['project_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_visits_project_id_projects')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_visits_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_project_id'), ['project_id'], unique=False)

    op.create_table('deferrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('until', agency.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('awaiting_task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('supplied_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('warned_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['awaiting_task_id'], ['tasks.id'], name=op.f('fk_deferrals_awaiting_task_id_tasks')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_deferrals_project_id_projects')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_deferrals_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deferrals')),
    sa.UniqueConstraint('task_id', 'name', name='uq_deferrals_task_name')
    )
    with op.batch_alter_table('deferrals', schema=None) as batch_op:
        batch_op.create_index('ix_deferrals_owed', ['until'], unique=False, postgresql_where=sa.text('supplied_at IS NULL AND warned_at IS NULL'), sqlite_where=sa.text('supplied_at IS NULL AND warned_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_deferrals_project_id'), ['project_id'], unique=False)

    op.create_table('task_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('storage_key', sa.String(length=100), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('file_attached_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_task_results_project_id_projects')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_results_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_results')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_task_results_storage_key')),
    sa.UniqueConstraint('task_id', name=op.f('uq_task_results_task_id'))
    )
    with op.batch_alter_table('task_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_results_project_id'), ['project_id'], unique=False)

    op.create_table('project_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('from_task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reviewed_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', agency.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['material_files.id'], name=op.f('fk_project_materials_file_id_material_files')),
    sa.ForeignKeyConstraint(['from_task_id'], ['tasks.id'], name=op.f('fk_project_materials_from_task_id_tasks')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_materials_project_id_projects')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_project_materials_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_materials')),
    sa.UniqueConstraint('project_id', 'name', name='uq_project_materials_name')
    )
    with op.batch_alter_table('approval_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('star', sa.Integer(), nullable=False, server_default='3'))
        batch_op.add_column(sa.Column('result_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('deferrable_materials', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('legal_basis', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('fee', sa.String(length=200), nullable=False, server_default='免费'))

    with op.batch_alter_table('material_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.alter_column('task_id',
               existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_material_files_project_id'), ['project_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_material_files_project_id_projects'), 'projects', ['project_id'], ['id'])

    with op.batch_alter_table('project_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_project_code', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreement_method', sa.String(length=10), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('project_code', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('delivery_method', sa.String(length=10), nullable=False, server_default='download'))
        batch_op.add_column(sa.Column('delivery_address', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index('ix_projects_name_trgm', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.create_index(batch_op.f('ix_projects_project_code'), ['project_code'], unique=False)

    # Projects signed before this revision signed online; a supplement's file belongs to its task's project.
    op.execute("UPDATE projects SET agreement_method = 'online' WHERE agreement_accepted_at IS NOT NULL")
    op.execute("UPDATE material_files SET project_id = "
               "(SELECT tasks.project_id FROM tasks WHERE tasks.id = material_files.task_id)")


def downgrade():
    op.drop_table('project_materials')
    op.execute("DELETE FROM material_files WHERE task_id IS NULL")  # checklist files have no task to go back to
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_project_code'))
        batch_op.drop_index('ix_projects_name_trgm', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.drop_column('delivery_address')
        batch_op.drop_column('delivery_method')
        batch_op.drop_column('project_code')
        batch_op.drop_column('agreement_method')

    with op.batch_alter_table('project_types', schema=None) as batch_op:
        batch_op.drop_column('needs_project_code')

    with op.batch_alter_table('material_files', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_material_files_project_id_projects'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_material_files_project_id'))
        batch_op.alter_column('task_id',
               existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
               nullable=False)
        batch_op.drop_column('project_id')

    with op.batch_alter_table('approval_items', schema=None) as batch_op:
        batch_op.drop_column('fee')
        batch_op.drop_column('legal_basis')
        batch_op.drop_column('deferrable_materials')
        batch_op.drop_column('result_name')
        batch_op.drop_column('star')

    with op.batch_alter_table('task_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_results_project_id'))

    op.drop_table('task_results')
    with op.batch_alter_table('deferrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deferrals_project_id'))
        batch_op.drop_index('ix_deferrals_owed', postgresql_where=sa.text('supplied_at IS NULL AND warned_at IS NULL'), sqlite_where=sa.text('supplied_at IS NULL AND warned_at IS NULL'))

    op.drop_table('deferrals')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_project_id'))

    op.drop_table('visits')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_project_id'))

    op.drop_table('shipments')
