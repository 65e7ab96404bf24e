"""Results on the project page (R16): each result and its download, the delivery choice, shipments."""
from typing import NamedTuple

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from agency import clock
from agency.errors import DomainError, Forbidden, NotFound, TransitionNotAllowed
from agency.extensions import db
from agency.materials.services import owed_materials
from agency.people.access import get_project, is_assigned_agent
from agency.people.models import User
from agency.projects.forms import ActionForm
from agency.projects.models import Project
from agency.projects.views import render_project
from agency.results import services
from agency.results.files import deemed_notice_page, send_result
from agency.results.forms import KIND_LABELS, METHOD_LABELS, DeliveryForm, ShipmentForm
from agency.results.models import Shipment, TaskResult
from agency.visits.forms import VisitForm
from agency.visits.services import visits_of
from agency.web.access import role_required

bp = Blueprint("results", __name__)


class ResultRow(NamedTuple):
    result: TaskResult
    released: bool
    owed: list[str]  # deferred materials its task still owes (withheld from the enterprise until supplied)


@bp.app_template_filter("result_kind")
def result_kind(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@bp.app_template_filter("delivery_method")
def delivery_method(method: str | None) -> str:
    return str(METHOD_LABELS.get(method, method or ""))


def _me() -> User:
    return current_user._get_current_object()


@bp.app_context_processor
def results_helpers():
    return {"results_panel": results_panel}


def _ship_choices(rows: list[ResultRow]) -> list[SelectChoice]:
    return [SelectChoice(r.result.task_id, f"{r.result.task.item.name}（{result_kind(r.result.kind)}"
                         + (f" {r.result.number}" if r.result.number else "") + "）") for r in rows if r.released]


def results_panel(project: Project, user: User | None = None, failed: dict | None = None) -> dict:
    """What the results panel of the project page shows to ``user``; ``failed``: refused forms, as submitted."""
    user, failed = user or _me(), failed or {}
    owner = user.role == "enterprise" and project.enterprise_id == user.id
    carrying = is_assigned_agent(user, project)
    rows = [ResultRow(r, services.is_released(r.task), [d.name for d in owed_materials(r.task)])
            for r in services.results_of(db.session, project)]
    shipments = db.session.scalars(select(Shipment).where(Shipment.project_id == project.id)
                                   .order_by(Shipment.id)).all()
    ship_form = None
    if carrying and project.delivery_method == "post" and any(r.released for r in rows):
        ship_form = failed.get("shipment_form") or ShipmentForm(formdata=None)
        ship_form.task_ids.choices = _ship_choices(rows)
    delivery_form = None
    if owner:
        delivery_form = failed.get("delivery_form") or DeliveryForm(
            formdata=None, method=project.delivery_method, address=project.delivery_address)
    visit_form = (failed.get("visit_form") or VisitForm(formdata=None)) if carrying else None
    return {"rows": rows, "owner": owner, "carrying": carrying,
            "may_download": services.may_download_results(user, project),
            "tasks": {t.id: t for t in project.tasks}, "shipments": shipments, "ship_form": ship_form,
            "delivery_form": delivery_form, "action_form": ActionForm(formdata=None),
            "visits": visits_of(db.session, project), "visit_form": visit_form}


# ------------------------------------------------------------ downloads (the parties only: R16)

def _result(task_id: int) -> TaskResult:
    try:
        return services.result_for_download(db.session, _me(), task_id)
    except TransitionNotAllowed as error:
        abort(409, description=_("办理结果暂不送达：容缺材料“%(names)s”补齐后即可下载。",
                                 names="、".join(error.fields.get("owed", []))))


@bp.get("/results/<bigint:task_id>/file")
@login_required
def download(task_id: int):
    return send_result(_result(task_id))


@bp.get("/results/<bigint:task_id>/notice")
@login_required
def notice(task_id: int):
    """The notice of deemed consent, a printable page."""
    return deemed_notice_page(_result(task_id))


# ------------------------------------------------------------ delivery and shipments

def _back(project: Project):
    return redirect(url_for("projects.show", project_id=project.id) + "#results")


def _refused(project: Project, error: DomainError, message: str, **forms):
    if isinstance(error, (NotFound, Forbidden)):
        raise error
    db.session.rollback()
    return render_project(project, error.status, error=message, **forms)


@bp.post("/projects/<int:project_id>/delivery")
@role_required("enterprise")
def choose_delivery(project_id: int):
    project = get_project(db.session, _me(), project_id)
    form = DeliveryForm()
    if not form.validate_on_submit():
        return render_project(project, 400, error=_("送达方式未保存，请按提示修改。"), delivery_form=form)
    try:
        services.choose_delivery(db.session, clock.now(), _me(), project, form.method.data, form.address.data or "")
    except DomainError as error:
        return _refused(project, error, _("送达方式未保存，请按提示修改。"), delivery_form=form)
    db.session.commit()
    flash(_("已选择送达方式：%(method)s", method=delivery_method(form.method.data)), "success")
    return _back(project)


@bp.post("/projects/<int:project_id>/shipments")
@role_required("agent")
def ship(project_id: int):
    project = get_project(db.session, _me(), project_id)
    form = ShipmentForm()
    form.task_ids.choices = _ship_choices(results_panel(project)["rows"])
    if not form.validate_on_submit():
        return render_project(project, 400, error=_("寄件未登记，请按提示修改。"), shipment_form=form)
    try:
        services.ship(db.session, clock.now(), _me(), project, form.task_ids.data, form.waybill.data)
    except DomainError as error:
        return _refused(project, error, _("寄件未登记：企业未选择快递送达，或所选结果尚不能送达。"),
                        shipment_form=form)
    db.session.commit()
    flash(_("已登记寄件，运单号 %(waybill)s；企业将收到通知。", waybill=form.waybill.data.strip()), "success")
    return _back(project)


@bp.post("/shipments/<int:shipment_id>/signed")
@role_required("agent")
def signed(shipment_id: int):
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    project = get_project(db.session, _me(), shipment.project_id)  # another agent's shipment is a 404
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.sign_for(db.session, clock.now(), _me(), shipment)
    except DomainError as error:
        return _refused(project, error, _("该运单已登记签收。"))
    db.session.commit()
    flash(_("已登记签收：运单号 %(waybill)s。", waybill=shipment.waybill), "success")
    return _back(project)
