"""Results and delivery over JSON (R16): list, download, attach the electronic licence, post it."""
from flask import request

from agency import clock
from agency.api import Blueprint, current_user, error_body, produces, roles
from agency.errors import NotFound
from agency.extensions import db
from agency.people.access import get_project, get_task
from agency.people.scope import scope_of
from agency.results import services
from agency.results.files import deemed_notice_page, send_result
from agency.results.models import Shipment
from agency.results.schemas import (DeliveryInput, DeliverySchema, ResultSchema, ShipmentInput, ShipmentSchema,
                                    SignedInput)
from agency.tasks.schemas import TaskSchema

blp = Blueprint("results_api", __name__, description="Results (电子证照) and their delivery (快递送达)")


@blp.get("/projects/<int:project_id>/results")
@blp.response(200, ResultSchema(many=True))
def results(project_id):
    """Every result of the project (a liaison: its department's); ``download_url`` for the enterprise, its agent
    and the director."""
    project = get_project(db.session, current_user(), project_id)
    return scope_of(db.session, current_user(), project).results(services.results_of(db.session, project))


@blp.get("/results/<bigint:task_id>/file")
@produces(200, "the electronic result (PDF), as an attachment", "application/pdf")
def download(task_id):
    return send_result(services.result_for_download(db.session, current_user(), task_id))


@blp.get("/results/<bigint:task_id>/notice")
@produces(200, "the notice of deemed consent, a printable page", "text/html")
def deemed_notice(task_id):
    return deemed_notice_page(services.result_for_download(db.session, current_user(), task_id))


@blp.post("/tasks/<bigint:task_id>/result-file")
@roles("liaison")
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "the electronic result (PDF)"}}}}}})
@blp.response(200, TaskSchema)
def attach_file(task_id):
    """Attach the electronic result (PDF) of a task answered with consent."""
    task = get_task(db.session, current_user(), task_id)
    upload = request.files.get("file")
    if upload is None:
        return error_body(400, "bad_input", "send the file as multipart field 'file'", {"file": "required"})
    result = services.attach_result_file(db.session, clock.now(), current_user(), task, upload.filename, upload.stream)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        services.result_path(result).unlink(missing_ok=True)
        raise
    return task


@blp.put("/projects/<int:project_id>/delivery")
@roles("enterprise")
@blp.arguments(DeliveryInput)
@blp.response(200, DeliverySchema)
def choose_delivery(data, project_id):
    """How results reach the enterprise: download, post (with an address) or pickup."""
    project = get_project(db.session, current_user(), project_id)
    services.choose_delivery(db.session, clock.now(), current_user(), project, data["method"], data["address"])
    db.session.commit()
    return project


@blp.get("/projects/<int:project_id>/shipments")
@blp.response(200, ShipmentSchema(many=True))
def shipments(project_id):
    """The postal deliveries of results (none for a liaison: delivery is between the enterprise and the hall)."""
    project = get_project(db.session, current_user(), project_id)
    if not scope_of(db.session, current_user(), project).may_see("shipments"):
        return []
    return db.session.query(Shipment).filter_by(project_id=project.id).order_by(Shipment.id).all()


@blp.post("/projects/<int:project_id>/shipments")
@roles("agent")
@blp.arguments(ShipmentInput)
@blp.response(201, ShipmentSchema)
def ship(data, project_id):
    """A postal delivery of released results, with its waybill."""
    project = get_project(db.session, current_user(), project_id)
    shipment = services.ship(db.session, clock.now(), current_user(), project, data["task_ids"], data["waybill"])
    db.session.commit()
    return shipment


@blp.post("/shipments/<int:shipment_id>/signed")
@roles("agent")
@blp.arguments(SignedInput)
@blp.response(200, ShipmentSchema)
def signed(data, shipment_id):
    """The enterprise signed for the shipment (``signed_at``, default now)."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    get_project(db.session, current_user(), shipment.project_id)  # another agent's shipment is a 404
    services.sign_for(db.session, clock.now(), current_user(), shipment, data["signed_at"])
    db.session.commit()
    return shipment
