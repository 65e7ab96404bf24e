from marshmallow import Schema, ValidationError, fields, validate

from agency.api.body import _UNSTORABLE
from agency.api.fields import LocalDateTime
from agency.comments.services import BODY_MAX
from agency.enterprise.uploads import ALLOWED_EXTENSIONS


def _text(text: str) -> None:
    if not text.strip():
        raise ValidationError("write the comment")
    if _UNSTORABLE.search(text):
        raise ValidationError("text may not hold NUL characters or lone surrogates")


class CommentInput(Schema):
    body = fields.String(required=True, validate=[validate.Length(min=1, max=BODY_MAX), _text],
                         metadata={"description": "the text; `@username` tells that person, if they may read it"})
    internal = fields.Boolean(required=True, metadata={
        "description": "true: the hall and the departments only; false: the enterprise reads it too"})


class AttachmentSchema(Schema):
    filename = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    content_type = fields.String()
    download_url = fields.Function(lambda c: f"/api/v1/comments/{c.id}/attachment")


class CommentSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    project_id = fields.Integer()
    author = fields.Function(lambda c: c.author.display_name)
    author_role = fields.Function(lambda c: c.author.role)
    internal = fields.Boolean()
    body = fields.String()
    mentions = fields.List(fields.String(), attribute="mentioned",
                           metadata={"description": "usernames the comment told (those who may read it)"})
    created_at = LocalDateTime()
    attachment = fields.Function(lambda c: AttachmentSchema().dump(c) if c.has_attachment else None,
                                 metadata={"description": "null without one; else {filename, size, sha256, "
                                                          "content_type, download_url}",
                                           "type": "object", "nullable": True})


ATTACHMENT_DOC = f"optional: {', '.join(ALLOWED_EXTENSIONS)} (checked by content, as materials)"
