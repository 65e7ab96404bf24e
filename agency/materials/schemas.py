from marshmallow import Schema, fields, validate

from agency.api.fields import BoundedDate, LocalDateTime
from agency.materials.models import CHECKLIST_STATUSES


class EntrySchema(Schema):
    """One line of the checklist (one per distinct material name)."""

    name = fields.String()
    items = fields.List(fields.String(), metadata={"description": "codes of the items that need it"})
    optional = fields.Boolean()
    status = fields.String(validate=validate.OneOf(CHECKLIST_STATUSES))
    sha256 = fields.String(allow_none=True)
    uploaded_at = LocalDateTime(allow_none=True)
    filename = fields.Function(lambda e: e.file.filename if e.file else None)
    download_url = fields.Function(lambda e: f"/api/v1/materials/{e.file.id}" if e.file else None)
    reason = fields.String(metadata={"description": "why the pre-review returned it"})
    deferred_until = LocalDateTime(allow_none=True)
    from_task_id = fields.Integer(allow_none=True)
    issued_by = fields.List(fields.String(), attribute="issuers",
                            metadata={"description": "items of the project whose result fills it"})


class Decision(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    accepted = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class PrereviewInput(Schema):
    decisions = fields.List(fields.Nested(Decision), required=True, validate=validate.Length(min=1, max=200))


class DeferredChoice(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    until = BoundedDate(load_default=None, metadata={"description": "promised date; default 5 working days on"})


class DeferralSchema(Schema):
    name = fields.String()
    until = LocalDateTime()
    supplied_at = LocalDateTime(allow_none=True)
    awaiting_task_id = fields.Integer(allow_none=True)
