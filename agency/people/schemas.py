from marshmallow import Schema, fields, validate


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)


class TokenResponse(Schema):
    token = fields.String()
    role = fields.String()
    user_id = fields.Integer()
