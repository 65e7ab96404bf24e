"""API bodies are written by orjson (agency/json_provider.py) and read as Flask's own encoder wrote them."""
import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from agency.json_provider import OrjsonProvider


@dataclasses.dataclass
class Point:
    x: int
    label: str


VALUE = {"zeta": 1, "alpha": [1.5, "建设项目", None, True, 10 ** 15], "at": datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
         "day": date(2026, 11, 23), "fee": Decimal("12.50"), "id": UUID(int=7), "point": Point(3, "北"),
         "nested": {"b": 2, "a": 1}}


@pytest.fixture
def providers():
    app = Flask(__name__)
    with app.app_context():
        yield OrjsonProvider(app), DefaultJSONProvider(app)


def test_a_body_reads_as_the_standard_encoder_wrote_it(providers):
    fast, standard = providers
    body = fast.response(VALUE).get_data()
    assert json.loads(body) == json.loads(standard.response(VALUE).get_data())
    # byte for byte the standard library's compact, key-sorted output with a final newline, but in UTF-8
    assert body.decode() == standard.dumps(VALUE, separators=(",", ":"), ensure_ascii=False) + "\n"
    assert json.loads(body)["at"] == "Mon, 23 Nov 2026 01:00:00 GMT"  # Flask's HTTP date, not orjson's ISO
    assert "建设项目".encode() in body  # UTF-8, not \\u escapes


def test_what_orjson_refuses_is_written_by_the_standard_library(providers):
    fast, standard = providers
    lone = {"text": "\ud800"}  # a lone surrogate: the standard library escapes it
    assert fast.dumps(lone) == standard.dumps(lone)
    assert json.loads(fast.response(lone).get_data()) == lone
    with pytest.raises(TypeError):  # and what neither can write still fails
        fast.response({"x": object()})


def test_the_app_writes_its_bodies_with_it(app):
    assert isinstance(app.json, OrjsonProvider)
