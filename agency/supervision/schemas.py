from marshmallow import Schema, fields, validate

from agency.api.fields import BoundedDate, LocalDateTime
from agency.supervision.models import CARD_COLORS


class CardQuery(Schema):
    color = fields.String(validate=validate.OneOf(CARD_COLORS))
    department = fields.String(validate=validate.Length(min=1, max=20), metadata={"description": "department code"})
    start = BoundedDate(data_key="from", load_default=None)
    end = BoundedDate(data_key="to", load_default=None)
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))


class CardSchema(Schema):
    id = fields.Integer()
    color = fields.String()
    department = fields.Function(lambda c: c.department.code if c.department else None,
                                 metadata={"description": "department code"})
    task_id = fields.Integer(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    agent_id = fields.Integer(allow_none=True)
    reason = fields.String(metadata={"description": "warning, timeout, second_supplement, notice_overdue, ..."})
    detail = fields.String()
    at = LocalDateTime()
