from marshmallow import Schema, fields, validate

from agency.api.fields import Id, LocalDateTime
from agency.materials.schemas import EntrySchema
from agency.enterprise.services import LEVEL_NAMES


class ContactCardSchema(Schema):
    card_no = fields.String()
    project_id = fields.Integer()
    enterprise = fields.String()
    contact_name = fields.String()
    agent_name = fields.String()
    agent_phone = fields.String()
    supervision_phone = fields.String()
    tracking_code = fields.String()
    tracking_url = fields.String()
    issued_at = LocalDateTime()
    void = fields.Boolean()


class CardQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "png", "html")))


RATING_COMMENT_MAX = 2000  # characters; the page's form and textarea use the same bound


class RatingInput(Schema):
    level = fields.Integer(required=True, strict=True, validate=validate.Range(
        min=1, max=5, error="level is 1 (very dissatisfied) to 5 (very satisfied)"))
    comment = fields.String(load_default="", validate=validate.Length(
        max=RATING_COMMENT_MAX, error="the comment is too long: at most {max} characters"))
    department_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))


class NoticeSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    project_name = fields.Function(lambda n: n.rating.project.name)
    department = fields.Function(lambda n: n.department.code if n.department else None,
                                 metadata={"description": "department code; null when addressed to the agent"})
    department_name = fields.Function(lambda n: n.department.name if n.department else None)
    agent_id = fields.Integer(allow_none=True)
    rating_id = fields.Integer()
    level = fields.Function(lambda n: n.rating.level)
    comment = fields.Function(lambda n: n.rating.comment)
    created_at = LocalDateTime()
    due = LocalDateTime()
    reply = fields.String()
    replied_at = LocalDateTime(allow_none=True)
    red_carded = fields.Function(lambda n: n.red_carded_at is not None)
    status = fields.Function(lambda n: notice_status(n))


def notice_status(notice) -> str:
    if notice.replied_at is not None:
        return "replied"
    return "overdue" if notice.red_carded_at is not None else "open"


class RatingSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    task_id = fields.Integer(allow_none=True)
    department = fields.Function(lambda r: r.department.code if r.department else None)
    agent_id = fields.Integer(allow_none=True)
    level = fields.Integer()
    level_name = fields.Function(lambda r: LEVEL_NAMES[r.level])
    comment = fields.String()
    created_at = LocalDateTime()
    notice_id = fields.Function(lambda r: r.notice.id if r.notice else None)


class NoticeQuery(Schema):
    status = fields.String(validate=validate.OneOf(("open", "replied", "overdue")))


class ReplyInput(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class ComplaintInput(Schema):
    project_id = Id(required=True, strict=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class ComplaintSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    project_name = fields.Function(lambda c: c.project.name)
    enterprise_id = fields.Integer()
    text = fields.String()
    status = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    due = LocalDateTime(allow_none=True)
    answer = fields.String()
    answered_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()


class ComplaintQuery(Schema):
    status = fields.String(validate=validate.OneOf(("open", "assigned", "answered")))


class AssignComplaintInput(Schema):
    assignee_id = Id(required=True, strict=True)
    due_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=60))


class ComplaintAnswerInput(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class MaterialFileSchema(Schema):
    id = fields.Integer()
    task_id = fields.Integer(allow_none=True, metadata={"description": "null for a file of the project's checklist"})
    material = fields.String()
    filename = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    content_type = fields.String()
    uploaded_at = LocalDateTime()
    download_url = fields.Function(lambda f: f"/api/v1/materials/{f.id}")


class MaterialsAnswer(Schema):
    """A task's materials: what the open one-time notice asks for, what is still missing, and the files."""
    task_id = fields.Integer()
    status = fields.String()
    requested = fields.List(fields.String())
    missing = fields.List(fields.String())
    files = fields.List(fields.Nested(MaterialFileSchema))
    checklist = fields.List(fields.Nested(EntrySchema), metadata={
        "description": "the project's checklist entries this task's item needs (filed once, shared by every task)"})
