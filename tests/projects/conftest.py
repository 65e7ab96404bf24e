import pytest

from tests.support import ENTRUST, build_hall


@pytest.fixture
def hall(session, now):
    """People of a small hall: a director, two agents, two enterprises, liaisons of every sample department."""
    return build_hall(session, now)


@pytest.fixture
def entrust_body():
    return dict(ENTRUST)
