"""The references of bench_inbox: a bare Flask app (no extension, no hook), served like ``wsgi:app``.

- ``/``: a constant JSON;
- ``/page``: floor (b) of issue #14: the inbox page's own statement, exactly as the agency app sends
  it (``BENCH_PAGE_SQL``, its parameters as JSON in ``BENCH_PAGE_PARAMS``: bench_inbox captures both),
  through SQLAlchemy Core (``exec_driver_sql`` on a pooled connection, one transaction ended by
  COMMIT, as the agency app ends a read), its rows written by ``jsonify``.  No token, no user, no
  calendar, no per-task computation: what any Flask app serving this page has to pay.
"""
import json
import os

from flask import Flask, jsonify
from sqlalchemy import create_engine


def create(database_url: str | None, sql: str, parameters: dict) -> Flask:
    app = Flask(__name__)
    engine = create_engine(database_url) if database_url else None

    @app.get("/")
    def constant():
        return jsonify({"ok": True})

    @app.get("/page")
    def page():
        with engine.begin() as conn:
            rows = conn.exec_driver_sql(sql, parameters).mappings().all()
        return jsonify([dict(row) for row in rows])

    return app


app = create(os.environ.get("DATABASE_URL"), os.environ.get("BENCH_PAGE_SQL", ""),
             json.loads(os.environ.get("BENCH_PAGE_PARAMS", "{}")))
