from marshmallow import Schema, fields, validate


class GuideQuery(Schema):
    department = fields.String(validate=validate.Length(min=1, max=20),
                               metadata={"description": "a department code; an unknown code is 400"})


class GuideItemSchema(Schema):
    code = fields.String()
    name = fields.String()
    department = fields.String(metadata={"description": "department code"})
    department_name = fields.String()
    legal_basis = fields.String()
    materials = fields.List(fields.String(), metadata={"description": "a name ending in (如需) is optional"})
    statutory_days = fields.Integer(metadata={"description": "working days"})
    promised_days = fields.Integer(metadata={"description": "working days"})
    immediate = fields.Boolean()
    fee = fields.String()
    star = fields.Integer(metadata={"description": "online service level 1-5"})
    deemed_consent_allowed = fields.Boolean()
    deferrable_materials = fields.List(fields.String())
    result_name = fields.String()


class DisclosureQuery(Schema):
    quarter = fields.String(validate=validate.Length(max=10),
                            metadata={"description": "YYYYQn; default the last closed quarter; a malformed "
                                                     "or not yet closed quarter is 400"})


class DisclosedDepartment(Schema):
    department = fields.String(metadata={"description": "department code"})
    department_name = fields.String()
    tasks = fields.Integer(metadata={"description": "tasks closed (answered or deemed consent) in the quarter"})
    on_time_rate = fields.Float(allow_none=True)
    deemed_timeout = fields.Integer()
    red = fields.Integer()
    satisfaction = fields.Float(allow_none=True, metadata={"description": "mean rating 1-5; null without ratings"})


class DisclosureSchema(Schema):
    quarter = fields.String(metadata={"description": "YYYYQn"})
    start = fields.Date()
    end = fields.Date()
    departments = fields.List(fields.Nested(DisclosedDepartment))
