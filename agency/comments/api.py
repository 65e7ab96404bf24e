"""Comments on a task over JSON (#13.3): list them, write one (JSON, or multipart with an attachment), download."""
from flask import request, url_for
from marshmallow import ValidationError

from agency import clock
from agency.api import Blueprint, current_user, error_body, invalid_input, produces, roles
from agency.api.body import parse_json
from agency.comments import services
from agency.comments.files import send_attachment
from agency.comments.schemas import ATTACHMENT_DOC, CommentInput, CommentSchema
from agency.enterprise.uploads import ALLOWED_TYPES
from agency.extensions import db
from agency.people.access import get_task

blp = Blueprint("comments_api", __name__, description="The conversation on a task (留言): public or internal")

_FIELDS = {"body": {"type": "string", "minLength": 1, "maxLength": services.BODY_MAX},
           "internal": {"type": "boolean"}}


@blp.get("/tasks/<bigint:task_id>/comments")
@blp.response(200, CommentSchema(many=True))
def list_comments(task_id):
    """The task's comments, oldest first; the enterprise reads only the public ones."""
    task = get_task(db.session, current_user(), task_id)
    return services.comments_of(db.session, current_user(), task)


@blp.post("/tasks/<bigint:task_id>/comments")
@roles("liaison", "agent", "director")
@blp.doc(requestBody={"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["body", "internal"], "properties": _FIELDS}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["body", "internal"], "properties": {
        **_FIELDS, "file": {"type": "string", "format": "binary", "description": ATTACHMENT_DOC}}}}}})
@blp.response(201, CommentSchema)
def add_comment(task_id):
    """Write a comment: the department's liaisons, the agent carrying the project, the director.

    `internal: true` keeps it from the enterprise (pages, API, notifications); each `@username` of a
    person who may read it is told, once, with a link to the task.
    """
    task = get_task(db.session, current_user(), task_id)
    multipart = request.mimetype == "multipart/form-data"
    raw = request.form.to_dict() if multipart else parse_json(request.get_data(cache=True))
    if not isinstance(raw, dict):
        return error_body(400, "bad_input", "send a JSON object", {"_": ["a JSON object"]})
    try:
        data = CommentInput().load(raw, unknown="exclude")
    except ValidationError as error:
        return error_body(400, "bad_input", invalid_input(error.messages), error.messages)
    upload = request.files.get("file") if multipart else None
    comment = services.add_comment(
        db.session, clock.now(), current_user(), task, data["body"], internal=data["internal"],
        filename=upload.filename if upload else None, stream=upload.stream if upload else None,
        link=url_for("tasks.show", task_id=task.id), public_link=url_for("projects.show", project_id=task.project_id)
        + "#comments")
    services.commit_or_discard(db.session, comment)
    return comment


@blp.get("/comments/<int:comment_id>/attachment")
@produces(200, "the attachment, as a file of the type read from its content", *ALLOWED_TYPES)
def download_attachment(comment_id):
    """A comment's file: for whoever may read the comment (an internal one's: the hall and departments only)."""
    return send_attachment(services.get_comment(db.session, current_user(), comment_id))
