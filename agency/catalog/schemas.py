from marshmallow import Schema, fields


class DepartmentSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class ItemSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    department = fields.String(metadata={"description": "department code"})
    statutory_days = fields.Integer()
    promised_days = fields.Integer()
    immediate = fields.Boolean()
    stage = fields.String(allow_none=True, metadata={"description": "name of the template stage it belongs to"})
    deemed_consent_allowed = fields.Boolean()
    materials = fields.List(fields.String())
    star = fields.Integer(metadata={"description": "online service level 1-5"})
    result_name = fields.String(metadata={"description": "the result its consent issues"})
    deferrable_materials = fields.List(fields.String())
    legal_basis = fields.String()
    fee = fields.String()


class ItemQuery(Schema):
    department = fields.String()


class StageTemplateSchema(Schema):
    order = fields.Integer()
    name = fields.String()
    items = fields.List(fields.String(), attribute="item_codes")


class ProjectTypeSchema(Schema):
    code = fields.String()
    name = fields.String()
    target_days = fields.Integer()
    needs_project_code = fields.Boolean()
    stages = fields.List(fields.Nested(StageTemplateSchema))
