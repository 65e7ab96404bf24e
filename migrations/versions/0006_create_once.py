"""create once: one valid contact card per project, a shipment and a meeting recorded once (#11)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:00:00

A double submit (two clicks, two tabs, a retry) racing past the checks in Python meets
the database: a partial unique index on the project's valid card, a unique
(project, waybill) for shipments, and a partial unique index on a meeting's
(project, kind, start) while it is not cancelled.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

VALID_CARD = "NOT void"
LIVE_MEETING = "status <> 'cancelled'"


def upgrade():
    with op.batch_alter_table('contact_cards', schema=None) as batch_op:
        batch_op.create_index('uq_contact_cards_project_valid', ['project_id'], unique=True,
                              postgresql_where=sa.text(VALID_CARD), sqlite_where=sa.text(VALID_CARD))
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_shipments_project_waybill', ['project_id', 'waybill'])
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('uq_meetings_project_kind_starts', ['project_id', 'kind', 'starts_at'], unique=True,
                              postgresql_where=sa.text(LIVE_MEETING), sqlite_where=sa.text(LIVE_MEETING))


def downgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('uq_meetings_project_kind_starts', postgresql_where=sa.text(LIVE_MEETING),
                            sqlite_where=sa.text(LIVE_MEETING))
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_shipments_project_waybill', type_='unique')
    with op.batch_alter_table('contact_cards', schema=None) as batch_op:
        batch_op.drop_index('uq_contact_cards_project_valid', postgresql_where=sa.text(VALID_CARD),
                            sqlite_where=sa.text(VALID_CARD))
