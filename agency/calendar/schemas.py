from marshmallow import Schema, fields, validate

from agency.api.fields import WorkingDay


class WorkingDaysQuery(Schema):
    start = WorkingDay(required=True)
    days = fields.Integer(required=True, validate=validate.Range(min=0, max=3650))


class WorkingDaysAnswer(Schema):
    date = fields.Date()
    confirmed = fields.Boolean(metadata={"description": "false while the year's official arrangement is not imported"})
