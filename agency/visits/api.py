"""Visits over JSON (R18)."""
from marshmallow import Schema, fields, validate

from agency import clock
from agency.api import Blueprint, current_user, roles
from agency.api.fields import BoundedDate
from agency.extensions import db
from agency.people.access import get_project
from agency.people.scope import scope_of
from agency.visits import services

blp = Blueprint("visits_api", __name__, description="Visits to the hall (跑动次数, 最多跑一次)")


class VisitInput(Schema):
    on = BoundedDate(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class VisitSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    on = fields.Date()
    reason = fields.String()


@blp.post("/projects/<int:project_id>/visits")
@roles("agent")
@blp.arguments(VisitInput)
@blp.response(201, VisitSchema)
def record(data, project_id):
    """Record a visit of the enterprise to the hall (date, reason)."""
    project = get_project(db.session, current_user(), project_id)
    visit = services.record_visit(db.session, clock.now(), current_user(), project, data["on"], data["reason"])
    db.session.commit()
    return visit


@blp.get("/projects/<int:project_id>/visits")
@blp.response(200, VisitSchema(many=True))
def visits(project_id):
    """The enterprise's visits to the hall (none for a liaison)."""
    project = get_project(db.session, current_user(), project_id)
    if not scope_of(db.session, current_user(), project).may_see("visits"):
        return []
    return services.visits_of(db.session, project)
