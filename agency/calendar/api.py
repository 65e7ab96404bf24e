"""GET /api/v1/calendar/working-days."""
from agency.api import Blueprint
from agency.calendar.schemas import WorkingDaysAnswer, WorkingDaysQuery
from agency.calendar.services import get_calendar
from agency.extensions import db

blp = Blueprint("calendar_api", __name__, description="Working-day calendar (R1)")


@blp.get("/calendar/working-days")
@blp.arguments(WorkingDaysQuery, location="query")
@blp.response(200, WorkingDaysAnswer)
def working_days(query):
    """The date N working days after ``start`` (the start day does not count)."""
    calendar = get_calendar(db.session)
    result = calendar.add_working_days(query["start"], query["days"])
    return {"date": result, "confirmed": calendar.is_confirmed(result.year)}
