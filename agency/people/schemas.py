from marshmallow import Schema, fields, validate

from agency.api.fields import LocalDateTime


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)


class TokenResponse(Schema):
    token = fields.String()
    role = fields.String()
    user_id = fields.Integer()


class PasswordChange(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True,
                             metadata={"description": "at least 12 characters, not one of the common passwords"})


class TokenInfo(Schema):
    """A live token, never its value (only its SHA-256 is stored).  Its last use is not tracked."""
    id = fields.Integer()
    created = LocalDateTime(attribute="created_at")
    expires = LocalDateTime(attribute="expires_at")
    current = fields.Boolean(metadata={"description": "the token of this request"})


class ProjectRef(Schema):
    id = fields.Integer()
    name = fields.String()


class SlotRef(Schema):
    department = fields.String(metadata={"description": "the department's code"})
    slot = fields.String(metadata={"description": "primary or backup"})


class UserStatus(Schema):
    """A user after (de)activation, with what waits for reassignment while it is inactive."""
    id = fields.Integer()
    username = fields.String()
    role = fields.String()
    active = fields.Boolean()
    open_projects = fields.List(fields.Nested(ProjectRef),
                                metadata={"description": "open projects it carries as agent"})
    liaison_slot = fields.Nested(SlotRef, allow_none=True)
