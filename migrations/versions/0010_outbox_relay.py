"""outbox relay: committed outbox rows wake the relay (NOTIFY agency_outbox) on PostgreSQL (#14)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 13:00:00

Requests no longer push their jobs to RQ after commit; the relay (``workers.relay``) takes the rows
not yet put on RQ (``enqueued_at`` empty) and marks them.  On PostgreSQL a row trigger on
``outbox_jobs`` notifies the relays with the inserting transaction's commit (never before it, never
after a rollback; notices of one transaction on one channel with one payload are folded into one).
The rows written before this revision were pushed by their commits: they are marked as enqueued, so
the first relay does not push them again (the unfinished ones stay ``reconcile``'s, as before).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE outbox_jobs SET enqueued_at = created_at WHERE enqueued_at IS NULL")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION outbox_wake_relay() RETURNS trigger AS $$ "
                   "BEGIN PERFORM pg_notify('agency_outbox', ''); RETURN NULL; END $$ LANGUAGE plpgsql")
        # Per row, not per statement: a statement inserting no row (the notices' CTE when every key
        # was taken) wakes nobody.
        op.execute("CREATE TRIGGER outbox_jobs_wake_relay AFTER INSERT ON outbox_jobs "
                   "FOR EACH ROW EXECUTE FUNCTION outbox_wake_relay()")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_jobs_wake_relay ON outbox_jobs")
        op.execute("DROP FUNCTION IF EXISTS outbox_wake_relay()")
