"""The enterprise's side over JSON: contact card, rating, notices, complaints, materials."""
from flask import Response, render_template, request

from agency import clock
from agency.api import Blueprint, current_user, error_body, produces, roles
from agency.enterprise import contact, services
from agency.enterprise.access import (get_complaint, get_material_file, get_notice, visible_complaints,
                                      visible_notices)
from agency.enterprise.models import Complaint, DissatisfactionNotice
from agency.enterprise.schemas import (AssignComplaintInput, CardQuery, ComplaintAnswerInput, ComplaintInput,
                                       ComplaintQuery, ComplaintSchema, ContactCardSchema, MaterialFileSchema,
                                       MaterialsAnswer, NoticeQuery, NoticeSchema, RatingInput, RatingSchema,
                                       ReplyInput)
from agency.extensions import db
from agency.people.access import get_project, get_task
from agency.people.scope import scope_of
from agency.enterprise.files import commit_or_discard, materials_of, send_material
from agency.enterprise.uploads import ALLOWED_TYPES

blp = Blueprint("enterprise_api", __name__, description="Contact cards, ratings, dissatisfaction notices, "
                                                        "complaints and materials (the enterprise's side)")


# ------------------------------------------------------------ contact card

@blp.get("/projects/<int:project_id>/contact-card")
@blp.arguments(CardQuery, location="query")
@blp.response(200, ContactCardSchema)
@produces(200, "the card (JSON); ?format=png: the QR code of the tracking link; ?format=html: the printable card",
          "image/png", "text/html")
def contact_card(query, project_id):
    """The project's valid contact card (R9); 404 before an agent is assigned, and for a liaison."""
    project = get_project(db.session, current_user(), project_id)
    scope_of(db.session, current_user(), project).require("contact_card")
    card = contact.card_of(db.session, project)
    fields = contact.card_fields(card)
    if query["format"] == "png":
        return Response(contact.qr_png(fields["tracking_url"]), mimetype="image/png",
                        headers={"Cache-Control": "private, no-store"})
    if query["format"] == "html":
        html = render_template("enterprise/card.html", card=fields, project=project,
                               qr_src=contact.qr_data_uri(fields["tracking_url"]), standalone=True)
        return Response(html, mimetype="text/html")
    return fields


# ------------------------------------------------------------ ratings (R10)

@blp.post("/projects/<int:project_id>/rating")
@roles("enterprise")
@blp.arguments(RatingInput)
@blp.response(201, RatingSchema)
def rate(data, project_id):
    """Rate the closed project, or with ``department_code`` that department's closed task(s), once.

    Level 1 (very dissatisfied) .. 5 (very satisfied); 1 and 2 open a dissatisfaction notice.
    """
    project = get_project(db.session, current_user(), project_id)
    rating = services.rate(db.session, clock.now(), current_user(), project, data["level"], data["comment"],
                           data["department_code"])
    db.session.commit()
    return rating


@blp.get("/projects/<int:project_id>/ratings")
@blp.response(200, RatingSchema(many=True))
def project_ratings(project_id):
    """The project's ratings the caller may read (agency.enterprise.access.visible_ratings)."""
    project = get_project(db.session, current_user(), project_id)
    return scope_of(db.session, current_user(), project).ratings()


# ------------------------------------------------------------ dissatisfaction notices

@blp.get("/notices")
@blp.arguments(NoticeQuery, location="query")
@blp.response(200, NoticeSchema(many=True))
def list_notices(query):
    """Liaison: its department's; agent: its own; director: all; enterprise: those about its ratings."""
    statement = visible_notices(current_user()).order_by(DissatisfactionNotice.due, DissatisfactionNotice.id)
    status = query.get("status")
    if status == "open":
        statement = statement.where(DissatisfactionNotice.replied_at.is_(None))
    elif status == "replied":
        statement = statement.where(DissatisfactionNotice.replied_at.is_not(None))
    elif status == "overdue":
        statement = statement.where(DissatisfactionNotice.replied_at.is_(None),
                                    DissatisfactionNotice.red_carded_at.is_not(None))
    return db.session.scalars(statement.limit(1000)).all()


@blp.get("/notices/<int:notice_id>")
@blp.response(200, NoticeSchema)
def read_notice(notice_id):
    return get_notice(db.session, current_user(), notice_id)


@blp.post("/notices/<int:notice_id>/reply")
@roles("liaison", "agent")
@blp.arguments(ReplyInput)
@blp.response(200, NoticeSchema)
def reply_notice(data, notice_id):
    """The rectification reply of the department (or agent) the notice is addressed to."""
    notice = get_notice(db.session, current_user(), notice_id)
    services.reply_notice(db.session, clock.now(), current_user(), notice, data["text"])
    db.session.commit()
    return notice


# ------------------------------------------------------------ complaints

@blp.post("/complaints")
@roles("enterprise")
@blp.arguments(ComplaintInput)
@blp.response(201, ComplaintSchema)
def file_complaint(data):
    project = get_project(db.session, current_user(), data["project_id"])
    complaint = services.file_complaint(db.session, clock.now(), current_user(), project, data["text"])
    db.session.commit()
    return complaint


@blp.get("/complaints")
@blp.arguments(ComplaintQuery, location="query")
@blp.response(200, ComplaintSchema(many=True))
def list_complaints(query):
    """Director: all; enterprise: its own; an assignee: those assigned to it."""
    statement = visible_complaints(current_user()).order_by(Complaint.id.desc())
    if query.get("status"):
        statement = statement.where(Complaint.status == query["status"])
    return db.session.scalars(statement.limit(1000)).all()


@blp.get("/complaints/<int:complaint_id>")
@blp.response(200, ComplaintSchema)
def read_complaint(complaint_id):
    return get_complaint(db.session, current_user(), complaint_id)


@blp.post("/complaints/<int:complaint_id>/assign")
@roles("director")
@blp.arguments(AssignComplaintInput)
@blp.response(200, ComplaintSchema)
def assign_complaint(data, complaint_id):
    complaint = get_complaint(db.session, current_user(), complaint_id)
    services.assign_complaint(db.session, clock.now(), current_user(), complaint, data["assignee_id"],
                              data["due_days"])
    db.session.commit()
    return complaint


@blp.post("/complaints/<int:complaint_id>/answer")
@roles("director", "agent")
@blp.arguments(ComplaintAnswerInput)
@blp.response(200, ComplaintSchema)
def answer_complaint(data, complaint_id):
    complaint = get_complaint(db.session, current_user(), complaint_id)
    services.answer_complaint(db.session, clock.now(), current_user(), complaint, data["text"])
    db.session.commit()
    return complaint


# ------------------------------------------------------------ materials

@blp.post("/tasks/<bigint:task_id>/materials")
@roles("enterprise", "agent")
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["material", "file"],
    "properties": {"material": {"type": "string", "description": "one of the open one-time notice's materials"},
                   "file": {"type": "string", "format": "binary",
                            "description": "PDF, PNG, JPEG, DOCX or XLSX (checked by content)"}}}}}})
@blp.response(201, MaterialFileSchema)
def upload_material(task_id):
    """Upload one file for one material of the open one-time notice; the last missing one restarts the clock."""
    task = get_task(db.session, current_user(), task_id)
    upload = request.files.get("file")
    if upload is None:
        return error_body(400, "bad_input", "send the file as multipart field 'file'", {"file": "required"})
    row = services.upload_material(db.session, clock.now(), current_user(), task, request.form.get("material", ""),
                                   upload.filename, upload.stream)
    commit_or_discard(row)
    return row


@blp.get("/tasks/<bigint:task_id>/materials")
@blp.response(200, MaterialsAnswer)
def list_materials(task_id):
    task = get_task(db.session, current_user(), task_id)
    return materials_of(task)


@blp.get("/materials/<int:file_id>")
@produces(200, "the file, as an attachment, of the type read from its content", *ALLOWED_TYPES)
def download_material(file_id):
    return send_material(get_material_file(db.session, current_user(), file_id))
