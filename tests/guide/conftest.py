from tests.projects.conftest import entrust_body, hall  # noqa: F401  (fixtures)
from tests.supervision.conftest import build  # noqa: F401  (fixture)
