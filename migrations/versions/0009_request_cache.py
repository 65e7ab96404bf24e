"""request cache: generation counters bumped by triggers, read once per API request (#14)

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 22:00:00

Each process caches a request's fixed cost (token -> user, the working calendar).  One row of
``cache_generations`` counts the changes to what those caches hold; triggers bump its counters
in the transaction that changes ``users``/``api_tokens`` (``people``) or ``calendar_overrides``/
``calendar_years`` (``calendar``), whoever writes.  Inserting a user or a token changes nothing
cached (a new token is not in any cache yet), so only updates and deletes count for people.
The triggers upsert the row: it comes back after a TRUNCATE (the tests empty every table).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

# (table, counter, events)
WATCHED = (
    ("users", "people", ("UPDATE", "DELETE")),
    ("api_tokens", "people", ("UPDATE", "DELETE")),
    ("calendar_overrides", "calendar", ("INSERT", "UPDATE", "DELETE")),
    ("calendar_years", "calendar", ("INSERT", "UPDATE", "DELETE")),
)


def _bump(counter: str) -> str:
    first = {"people": "1, 0", "calendar": "0, 1"}[counter]
    return (f"INSERT INTO cache_generations (id, people, calendar) VALUES (1, {first}) "
            f"ON CONFLICT (id) DO UPDATE SET {counter} = cache_generations.{counter} + 1")


def upgrade():
    op.create_table(
        'cache_generations',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('people', sa.BigInteger(), nullable=False),
        sa.Column('calendar', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cache_generations')),
    )
    op.execute("INSERT INTO cache_generations (id, people, calendar) VALUES (1, 0, 0)")
    postgres = op.get_bind().dialect.name == "postgresql"
    for counter in ("people", "calendar"):
        if postgres:
            op.execute(f"CREATE OR REPLACE FUNCTION bump_{counter}_generation() RETURNS trigger AS $$ "
                       f"BEGIN {_bump(counter)}; RETURN NULL; END $$ LANGUAGE plpgsql")
    for table, counter, events in WATCHED:
        for event in events:
            name = f"{table}_{event.lower()}_generation"
            if postgres:
                # Per statement: a bulk change bumps once.  (An UPDATE of no row bumps too: harmless.)
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                           f"FOR EACH STATEMENT EXECUTE FUNCTION bump_{counter}_generation()")
            else:
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {_bump(counter)}; END")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, _counter, events in WATCHED:
        for event in events:
            name = f"{table}_{event.lower()}_generation"
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgres else f"DROP TRIGGER IF EXISTS {name}")
    if postgres:
        for counter in ("people", "calendar"):
            op.execute(f"DROP FUNCTION IF EXISTS bump_{counter}_generation()")
    op.drop_table('cache_generations')
