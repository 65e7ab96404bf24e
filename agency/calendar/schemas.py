from marshmallow import Schema, fields, validate


class WorkingDaysQuery(Schema):
    start = fields.Date(required=True)
    days = fields.Integer(required=True, validate=validate.Range(min=0, max=3650))


class WorkingDaysAnswer(Schema):
    date = fields.Date()
    confirmed = fields.Boolean(metadata={"description": "false while the year's official arrangement is not imported"})
