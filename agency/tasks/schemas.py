from marshmallow import Schema, fields, validate

from agency import clock
from agency.api.fields import LocalDateTime
from agency.calendar.services import get_calendar
from agency.extensions import db
from agency.tasks.models import DECISIONS, TASK_STATUSES


class TaskSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    project_name = fields.Function(lambda t: t.project.name)
    stage = fields.Function(lambda t: t.stage.order)
    department = fields.Function(lambda t: t.department.code, metadata={"description": "department code"})
    department_name = fields.Function(lambda t: t.department.name)
    item = fields.Function(lambda t: t.item.code, metadata={"description": "approval item code"})
    item_name = fields.Function(lambda t: t.item.name)
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))
    outcome = fields.String(allow_none=True)
    outcome_reason = fields.String(allow_none=True, metadata={"description": "timeout or absence when deemed"})
    opinion = fields.String()
    promised_days = fields.Integer()
    started_at = LocalDateTime()
    deadline = LocalDateTime()
    answered_at = LocalDateTime(allow_none=True)
    supplement_count = fields.Integer()
    working_days_left = fields.Function(
        lambda t: t.working_days_left(get_calendar(db.session), clock.now(), clock.hall_tz()),
        metadata={"description": "working days to the deadline; null while the clock is stopped or closed"})
    escalated = fields.Function(lambda t: t.escalated_at is not None)
    materials_requested = fields.Function(lambda t: t.supplements[-1].materials if t.supplements else [])


class TaskQuery(Schema):
    status = fields.String(validate=validate.OneOf((*TASK_STATUSES, "open")),
                           metadata={"description": "a status, or 'open' for pending, accepted and supplement"})
    project_id = fields.Integer()


class SupplementInput(Schema):
    materials = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                            validate=validate.Length(min=1, error="list every missing material (at least one)"))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class AnswerInput(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    opinion = fields.String(load_default="", validate=validate.Length(max=4000))
