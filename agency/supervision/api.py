"""GET /api/v1/supervision/cards: the yellow and red cards (director: all; liaison: its department)."""
from sqlalchemy import select

from agency import clock
from agency.api import Blueprint, current_user, roles
from agency.catalog.models import Department
from agency.errors import NotFound
from agency.extensions import db
from agency.supervision.board import card_query
from agency.supervision.figures import Period
from agency.supervision.schemas import CardQuery, CardSchema

blp = Blueprint("supervision_api", __name__, description="Electronic supervision: yellow and red cards (R11)")


@blp.get("/supervision/cards")
@roles("director", "liaison")
@blp.arguments(CardQuery, location="query")
@blp.response(200, CardSchema(many=True))
def cards(query):
    """Newest first.  A liaison sees only its own department's cards; naming another department is a 404."""
    user = current_user()
    department_id = None
    if query.get("department"):
        department = db.session.scalar(select(Department).where(Department.code == query["department"]))
        if department is None or (user.role == "liaison" and department.id != user.department_id):
            raise NotFound(f"department {query['department']} not found")
        department_id = department.id
    if user.role == "liaison":
        if user.department_id is None:
            return []
        department_id = user.department_id
    period = None
    if query.get("start") or query.get("end"):
        today = clock.local(clock.now()).date()
        start, end = query.get("start") or query.get("end") or today, query.get("end") or today
        period = Period(min(start, end), end)
    statement = card_query(query.get("color"), department_id, period, clock.hall_tz()).limit(query["limit"])
    return db.session.scalars(statement).unique().all()
