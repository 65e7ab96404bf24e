"""The Alembic migrations: they build the schema from empty, match the models, and go back down."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from agency.extensions import db
from tests import support


def _head(app) -> str:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        return ScriptDirectory.from_config(config).get_current_head()


def _schema_diff(engine) -> list:
    """What `flask db migrate` would generate: empty when the migrations match the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "render_as_batch": conn.dialect.name == "sqlite"})
        return compare_metadata(context, db.metadata)


def _revision(engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_sqlite_upgrade_from_empty_matches_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = support.make_app(url, tmp_path)
    with app.app_context():
        assert _tables(db.engine) == set()
        upgrade()
        assert _revision(db.engine) == _head(app)
        assert _tables(db.engine) == set(db.metadata.tables) | {"alembic_version"}
        assert _schema_diff(db.engine) == []
        db.engine.dispose()


def test_sqlite_downgrade_to_base_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    app = support.make_app(url, tmp_path)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert _revision(db.engine) is None
        assert _tables(db.engine) <= {"alembic_version"}
        upgrade()  # and up again from base
        assert _revision(db.engine) == _head(app)
        assert _schema_diff(db.engine) == []
        db.engine.dispose()


@pytest.mark.postgres
def test_postgres_test_database_is_at_head_without_diff(pg_url, tmp_path):
    app = support.make_app(pg_url, tmp_path)
    engine = create_engine(pg_url)
    try:
        assert _revision(engine) == _head(app)
        assert _schema_diff(engine) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_from_empty_database(pg_url, tmp_path):
    base = pg_url.rpartition("/")[0]
    name = f"agency_migrate_check_{os.getpid()}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{base}/{name}"
    engine = create_engine(url)
    try:
        assert _tables(engine) == set()
        support.migrate(url)
        app = support.make_app(url, tmp_path)
        assert _revision(engine) == _head(app)
        assert _tables(engine) == set(db.metadata.tables) | {"alembic_version"}
        assert _schema_diff(engine) == []
        with app.app_context():
            db.engine.dispose()
    finally:
        engine.dispose()
        drop()
        admin.dispose()
