"""The material checklist over JSON: read it, file a material once, pre-review (R14)."""
from flask import request

from agency import clock
from agency.api import Blueprint, current_user, error_body, roles
from agency.enterprise.files import commit_or_discard
from agency.enterprise.schemas import MaterialFileSchema
from agency.extensions import db
from agency.materials import services
from agency.materials.schemas import EntrySchema, PrereviewInput
from agency.people.access import get_project
from agency.people.scope import scope_of

blp = Blueprint("materials_api", __name__, description="File once, online: the material checklist and pre-review")


@blp.get("/projects/<int:project_id>/materials")
@blp.response(200, EntrySchema(many=True))
def checklist(project_id):
    """The checklist: one entry per distinct material name of the project's items (a liaison: those its tasks need)."""
    project = get_project(db.session, current_user(), project_id)
    view = scope_of(db.session, current_user(), project)
    return [entry for entry in services.checklist(db.session, project) if view.sees_material(entry.name)]


@blp.post("/projects/<int:project_id>/materials")
@roles("enterprise", "agent")
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["name", "file"],
    "properties": {"name": {"type": "string", "description": "a material name of the checklist"},
                   "file": {"type": "string", "format": "binary",
                            "description": "PDF, PNG, JPEG, DOCX or XLSX (checked by content)"}}}}}})
@blp.response(201, EntrySchema)
@blp.alt_response(422, description="the name is not on the checklist")
def file_material(project_id):
    """File one material once for every task that needs it; a newer upload replaces it (the old one is kept)."""
    project = get_project(db.session, current_user(), project_id)
    upload = request.files.get("file")
    if upload is None:
        return error_body(400, "bad_input", "send the file as multipart field 'file'", {"file": "required"})
    row = services.file_material(db.session, clock.now(), current_user(), project, request.form.get("name", ""),
                                 upload.filename, upload.stream)
    commit_or_discard(row)
    return services.entry_named(db.session, project, row.material)


@blp.get("/projects/<int:project_id>/materials/history")
@blp.response(200, MaterialFileSchema(many=True))
def history(project_id):
    """Every file filed for the checklist, the replaced ones too, oldest first."""
    project = get_project(db.session, current_user(), project_id)
    view = scope_of(db.session, current_user(), project)
    return [row for row in services.filed_files(db.session, project) if view.sees_material(row.material)]


@blp.post("/projects/<int:project_id>/prereview")
@roles("agent")
@blp.arguments(PrereviewInput)
@blp.response(200, EntrySchema(many=True))
def prereview(data, project_id):
    """Accept or return filed materials (a return needs its reason); the returns reach the enterprise at once."""
    project = get_project(db.session, current_user(), project_id)
    entries = services.prereview(db.session, clock.now(), current_user(), project, data["decisions"])
    db.session.commit()
    return entries
