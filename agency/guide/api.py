"""The public service guide and quarterly disclosure over JSON: no sign-in (agency.api.PUBLIC_ENDPOINTS)."""
from agency import clock
from agency.api import Blueprint
from agency.calendar.services import get_calendar
from agency.extensions import db
from agency.guide import services
from agency.guide.schemas import DisclosureQuery, DisclosureSchema, GuideItemSchema, GuideQuery

blp = Blueprint("guide_api", __name__, description="Public service guide and quarterly disclosure (R19), no sign-in")


@blp.get("/guide/items")
@blp.doc(security=[])
@blp.arguments(GuideQuery, location="query")
@blp.response(200, GuideItemSchema(many=True))
@blp.alt_response(400, description="an unknown department code (error shape, fields.department): never an empty list")
def guide_items(query):
    """The catalog as a service guide, optionally of one department; an unknown department code is 400
    (error shape, ``fields.department``), never an empty list."""
    return [services.guide_view(item) for item in services.guide_items(db.session, query.get("department"))]


@blp.get("/disclosure/quarterly")
@blp.doc(security=[])
@blp.arguments(DisclosureQuery, location="query")
@blp.response(200, DisclosureSchema)
@blp.alt_response(400, description="a quarter not written YYYYQn, or not closed yet (error shape, fields.quarter)")
def quarterly_disclosure(query):
    """Per department, for the quarter ``YYYYQn`` (default: the last closed quarter by the clock): tasks,
    on-time rate, deemed timeouts, red cards, satisfaction.  A malformed quarter, or one not closed yet, is 400."""
    quarter = services.closed_quarter(query.get("quarter"), clock.local(clock.now()).date())
    return services.quarterly_disclosure(db.session, get_calendar(db.session), quarter, clock.hall_tz())
