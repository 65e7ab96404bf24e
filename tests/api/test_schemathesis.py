"""Schemathesis against the application's own OpenAPI document (#12.6), in process (WSGI), for every role.

Every operation of /api/v1/openapi.json is called with generated input, valid and invalid, by a director, an
agent, a liaison and an enterprise of a small hall with a project under way; the run fails on any 5xx, and
on any answer that is not what the document says (status code, content type, body schema).  Bounded: a
few derandomized examples per operation and role, so CI stays within a few minutes on two cores.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from tests.api.conftest import ROLES, openapi_document, sqlite_world

pytestmark = pytest.mark.schemathesis

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 8  # per operation and role: about 60 operations x 4 roles


@pytest.fixture(scope="module")
def hall_world(sqlite_template, tmp_path_factory):
    return sqlite_world(sqlite_template, tmp_path_factory)


# The document is read from an application at collection (it needs no database); the calls go to the
# world's application.  (schemathesis.pytest.from_fixture would read it from hall_world, but its lazy
# loader fails on pytest 9: it reads Function._nodeid.)
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_document_says(case, role, hall_world):
    case.call_and_validate(app=hall_world.app, headers={"Authorization": f"Bearer {hall_world.tokens[role]}"},
                           checks=CHECKS)
