"""The enterprise's side as pages: contact card, rating, materials, notices, complaints, public tracking."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError
from wtforms.fields.choices import SelectChoice

from agency import clock
from agency.catalog.models import Department
from agency.enterprise import contact, services
from agency.enterprise.access import (get_complaint, get_material_file, get_notice, is_notice_addressee,
                                      visible_complaints, visible_notices)
from agency.enterprise.files import commit_or_discard, materials_of, send_material
from agency.enterprise.forms import (LEVEL_MESSAGE, AnswerForm, AssignForm, ComplaintForm, RatingForm, ReplyForm,
                                    UploadForm)
from agency.enterprise.models import Complaint, DissatisfactionNotice, Rating
from agency.enterprise.schemas import RATING_COMMENT_MAX, notice_status
from agency.errors import DomainError, Forbidden, NotFound
from agency.extensions import db, limiter
from agency.people.access import get_project, get_task, is_assigned_agent, visible_projects
from agency.people.models import User
from agency.people.scope import scope_of
from agency.projects.cards import current_card, tracking_url
from agency.projects.forms import STAGE_LABELS
from agency.projects.models import Project
from agency.projects.views import render_project
from agency.tasks.forms import STATUS_LABELS as TASK_STATUS_LABELS
from agency.web.access import role_required
from agency.web.errors import page_message
from agency.web.filters import USER_DATA
from agency.web.nav import ROLE_LABELS
from agency.web.listing import ListArgs, of_projects_matching, paginate, within
from agency.web.refusals import ANCHOR, refuse_field

bp = Blueprint("enterprise", __name__)

TASK_STATES, STAGE_STATES = TASK_STATUS_LABELS, STAGE_LABELS  # the words the hall's pages use too
PROJECT_STATES = {"consulting": _l("咨询"), "entrusted": _l("已委托"), "in_progress": _l("办理中"),
                  "completed": _l("已办结"), "terminated": _l("已终止")}
LEVELS = {5: _l("非常满意"), 4: _l("满意"), 3: _l("基本满意"), 2: _l("不满意"), 1: _l("非常不满意")}
NOTICE_STATES = {"open": _l("待复函"), "replied": _l("已复函"), "overdue": _l("逾期未复函")}
COMPLAINT_STATES = {"open": _l("待分派"), "assigned": _l("处理中"), "answered": _l("已答复")}
# Errors of services, said to a person (the API says them in English in its own shape).
UPLOAD_MESSAGES = {400: _l("文件名或材料不正确：文件名不能包含路径，且须选择一次性告知中的材料。"),
                   409: _l("该办件当前没有待补正的材料。"),
                   413: _l("文件过大，超过了上传大小限制。"),
                   415: _l("不支持的文件类型，或扩展名与文件内容不符。请上传 PDF、PNG、JPEG、DOCX 或 XLSX。")}
RATING_MESSAGES = {400: LEVEL_MESSAGE, 409: _l("已经评价过，每项只能评价一次。"),
                   422: _l("办结之后才能评价。")}


def _me() -> User:
    return current_user._get_current_object()


def project_url(project_id: int) -> str:
    try:
        return url_for("projects.show", project_id=project_id)
    except BuildError:  # the project pages are not registered (a reduced app)
        return f"/projects/{project_id}"


@bp.app_context_processor
def enterprise_helpers():
    return {"enterprise_panel": project_panel, "task_state": lambda s: TASK_STATES.get(s, s),
            "stage_state": lambda s: STAGE_STATES.get(s, s), "project_state": lambda s: PROJECT_STATES.get(s, s),
            "level_name": lambda n: LEVELS.get(n, n), "notice_state": lambda n: NOTICE_STATES[notice_status(n)],
            "notice_status": notice_status, "complaint_state": lambda s: COMPLAINT_STATES.get(s, s),
            "project_url": project_url, "rating_comment_max": RATING_COMMENT_MAX}


def project_panel(project: Project, user=None) -> dict:
    """What the enterprise-side panel of the project page shows to ``user``."""
    user = user or _me()
    view = scope_of(db.session, user, project)
    owner = user.role == "enterprise" and project.enterprise_id == user.id
    carrying = is_assigned_agent(user, project)
    ratings = db.session.scalars(select(Rating).where(Rating.project_id == project.id).order_by(Rating.id)).all()
    rated_departments = {r.department_id for r in ratings if r.task_id is not None}
    departments = {}
    for task in project.tasks:
        departments.setdefault(task.department_id, (task.department, []))[1].append(task)
    rateable = [d for d, tasks in departments.values()
                if owner and d.id not in rated_departments and services.can_rate(project, tasks)]
    uploads = []
    for task in view.tasks:
        listing = materials_of(task)
        if listing["files"] or listing["missing"]:
            uploads.append((task, listing))
    return {
        "owner": owner, "carrying": carrying, "may_upload": owner or carrying,
        "card": current_card(db.session, project),
        "ratings": view.ratings(),
        "project_rated": any(r.task_id is None for r in ratings),
        "may_rate_project": owner and not project.is_open and not any(r.task_id is None for r in ratings),
        "rateable_departments": rateable, "uploads": uploads,
        "rating_form": RatingForm(formdata=None), "upload_form": UploadForm(formdata=None),
        "complaints": db.session.scalars(select(Complaint).where(Complaint.id.in_(view.complaint_ids))
                                         .order_by(Complaint.id.desc())).all(),
    }


# ------------------------------------------------------------ contact card

@bp.get("/projects/<int:project_id>/card")
@login_required
def card(project_id: int):
    """The printable contact card: one card, 90 × 54 mm, to print and cut."""
    project = get_project(db.session, _me(), project_id)
    scope_of(db.session, _me(), project).require("contact_card")
    fields = contact.card_fields(contact.card_of(db.session, project))
    return render_template("enterprise/card.html", card=fields, project=project,
                           qr_src=url_for("enterprise.card_qr", project_id=project.id), standalone=False)


@bp.get("/projects/<int:project_id>/card/qr.png")
@login_required
def card_qr(project_id: int):
    project = get_project(db.session, _me(), project_id)
    scope_of(db.session, _me(), project).require("contact_card")
    contact.card_of(db.session, project)
    return Response(contact.qr_png(tracking_url(project)), mimetype="image/png",
                    headers={"Cache-Control": "private, no-store"})


# ------------------------------------------------------------ rating

@bp.post("/projects/<int:project_id>/rating")
@role_required("enterprise")
def rate(project_id: int):
    project = get_project(db.session, _me(), project_id)
    form = RatingForm()
    if not form.validate_on_submit():
        if form.level.errors:  # one message for a missing, non-numeric or out-of-range level
            form.level.errors[:] = [str(LEVEL_MESSAGE)]
        if "csrf_token" in form and form.csrf_token.errors:
            flash(_("表单已过期，请重试。"), "error")
            return redirect(project_url(project.id) + "#rating")
        return render_project(project, 400, error=_("评价未提交，请按提示修改。"), rating_form=form)
    try:
        services.rate(db.session, clock.now(), _me(), project, form.level.data, form.comment.data or "",
                      form.department_code.data or None)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        db.session.rollback()
        flash(str(RATING_MESSAGES.get(error.status) or page_message(error)), "error")
        return redirect(project_url(project.id) + "#rating")
    db.session.commit()
    flash(_("感谢您的评价。") + (_("我们已向相关部门发出不满意件函告，整改复函将在此显示。")
                            if form.level.data in services.DISSATISFIED else ""), "success")
    return redirect(project_url(project.id) + "#rating")


# ------------------------------------------------------------ materials

@bp.post("/tasks/<bigint:task_id>/materials")
@role_required("enterprise", "agent")
def upload(task_id: int):
    task = get_task(db.session, _me(), task_id)
    form = UploadForm()
    # A refused upload comes back to its own form (agency.web.refusals), not to the top of the page.
    anchor = request.args.get("field", "")
    anchor = anchor if ANCHOR.match(anchor) else f"materials-{task.id}"
    target = project_url(task.project_id) + f"#{anchor}"

    def refused(message: str):
        refuse_field(project_url(task.project_id), anchor, message)
        return redirect(target)
    if not form.validate_on_submit():
        return refused(str(UPLOAD_MESSAGES[400]) if form.csrf_token.errors == [] else _("表单已过期，请重试。"))
    try:
        row = services.upload_material(db.session, clock.now(), _me(), task, form.material.data,
                                       form.file.data.filename, form.file.data.stream)
    except DomainError as error:
        if isinstance(error, (NotFound, Forbidden)):  # not this user's to do (R7): the error page, not a flash
            raise
        db.session.rollback()
        return refused(str(UPLOAD_MESSAGES.get(error.status) or page_message(error)))
    commit_or_discard(row)
    message = _("已上传“%(material)s”：%(name)s", material=row.material, name=row.filename)
    if task.status != "supplement":
        message += _("。材料已齐全，办件重新计时。")
    flash(message, "success")
    return redirect(target)


@bp.get("/materials/<int:file_id>")
@login_required
def download(file_id: int):
    return send_material(get_material_file(db.session, _me(), file_id))


# ------------------------------------------------------------ dissatisfaction notices

@bp.get("/notices")
@login_required
def notices():
    """Liaison: its department's notices; agent: its own; director: all; enterprise: about its ratings."""
    user, read = _me(), ListArgs()
    status = read.choice("status", ("open", "replied"))
    filters = {"q": read.text("q"), "status": status,
               "department": read.integer("department") if user.role in ("director", "enterprise") else None,
               "agent": read.integer("agent") if user.role == "director" else None,
               "due_from": read.day("due_from"), "due_to": read.day("due_to")}
    statement = visible_notices(user).order_by(DissatisfactionNotice.replied_at.is_not(None),
                                               DissatisfactionNotice.due, DissatisfactionNotice.id)
    if status == "open":
        statement = statement.where(DissatisfactionNotice.replied_at.is_(None))
    elif status == "replied":
        statement = statement.where(DissatisfactionNotice.replied_at.is_not(None))
    if filters["q"]:  # through the project: the same search (and index) as GET /projects?q=
        statement = statement.where(of_projects_matching(DissatisfactionNotice.project_id, filters["q"]))
    if filters["department"]:
        statement = statement.where(DissatisfactionNotice.department_id == filters["department"])
    if filters["agent"]:
        statement = statement.where(DissatisfactionNotice.agent_id == filters["agent"])
    statement = statement.where(*within(DissatisfactionNotice.due, filters["due_from"], filters["due_to"]))
    page = paginate(db.session, statement.options(
        joinedload(DissatisfactionNotice.project), joinedload(DissatisfactionNotice.department),
        joinedload(DissatisfactionNotice.agent), joinedload(DissatisfactionNotice.rating)), read.page)
    return render_template("enterprise/notices.html", notices=page.items, page=page, status=status, filters=filters,
                           filtered=any(filters.values()), now=clock.now(), **_filter_choices(user))


def _filter_choices(user: User) -> dict:
    if user.role not in ("director", "enterprise"):
        return {"departments": [], "agents": []}
    agents = select(User).where(User.role == "agent").order_by(User.name, User.username)
    return {"departments": db.session.scalars(select(Department).order_by(Department.code)).all(),
            "agents": db.session.scalars(agents).all() if user.role == "director" else []}


@bp.route("/notices/<int:notice_id>", methods=["GET", "POST"])
@login_required
def notice(notice_id: int):
    user = _me()
    item = get_notice(db.session, user, notice_id)
    may_reply = is_notice_addressee(user, item) and item.replied_at is None
    form = ReplyForm() if may_reply else None
    status = 200
    if request.method == "POST":
        if not may_reply:
            abort(409 if is_notice_addressee(user, item) else 403)
        if form.validate_on_submit():
            try:
                services.reply_notice(db.session, clock.now(), user, item, form.text.data)
            except DomainError as error:
                db.session.rollback()
                flash(page_message(error), "error")
                return redirect(url_for("enterprise.notice", notice_id=item.id))
            db.session.commit()
            flash(_("整改复函已提交，企业将收到通知。"), "success")
            return redirect(url_for("enterprise.notice", notice_id=item.id))
        status = 400
    return render_template("enterprise/notice.html", notice=item, form=form, now=clock.now()), status


# ------------------------------------------------------------ complaints

def _complaint_form(user: User) -> ComplaintForm:
    posted = request.method == "POST"
    form = ComplaintForm() if posted else ComplaintForm(formdata=None)
    projects = db.session.scalars(visible_projects(user).order_by(Project.id.desc())).all()
    form.project_id.choices = [SelectChoice(p.id, p.name, USER_DATA) for p in projects]
    if not posted and request.args.get("project_id", "").isdigit():
        form.project_id.data = int(request.args["project_id"])
    return form


@bp.route("/complaints", methods=["GET", "POST"])
@login_required
def complaints():
    """Enterprise: its complaints and a form to file one; director: every complaint; others: assigned to them."""
    user = _me()
    form = _complaint_form(user) if user.role == "enterprise" else None
    status = 200
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            project = get_project(db.session, user, form.project_id.data)
            complaint = services.file_complaint(db.session, clock.now(), user, project, form.text.data)
            db.session.commit()
            flash(_("投诉已提交，大厅主任将在时限内答复。"), "success")
            return redirect(url_for("enterprise.complaint", complaint_id=complaint.id))
        if not form.csrf_token.errors and form.project_id.errors:
            raise NotFound("project not found")  # a project of another enterprise is not a choice
        status = 400
    read = ListArgs()
    filters = {"q": read.text("q"), "status": read.choice("status", COMPLAINT_STATES),
               "agent": read.integer("agent") if user.role == "director" else None,
               "due_from": read.day("due_from"), "due_to": read.day("due_to")}
    statement = visible_complaints(user).order_by(Complaint.status == "answered", Complaint.id.desc())
    if filters["status"]:
        statement = statement.where(Complaint.status == filters["status"])
    if filters["q"]:  # through the project: the same search (and index) as GET /projects?q=
        statement = statement.where(of_projects_matching(Complaint.project_id, filters["q"]))
    if filters["agent"]:
        statement = statement.where(Complaint.assignee_id == filters["agent"])
    statement = statement.where(*within(Complaint.due, filters["due_from"], filters["due_to"]))
    page = paginate(db.session, statement.options(joinedload(Complaint.project)), read.page)
    staff = _staff() if user.role == "director" else []
    return render_template("enterprise/complaints.html", complaints=page.items, page=page, form=form,
                           status=filters["status"], filters=filters, filtered=any(filters.values()), staff=staff,
                           now=clock.now()), status


def _staff() -> list[User]:
    return db.session.scalars(select(User).where(User.role.in_(("agent", "director")), User.active.is_(True))
                              .order_by(User.role, User.username)).all()


def _render_complaint(item: Complaint, assign_form=None, answer_form=None, status=200):
    user = _me()
    if user.role == "director" and item.status != "answered":
        assign_form = assign_form or AssignForm(formdata=None, assignee_id=item.assignee_id or 0)
        assign_form.assignee_id.choices = [
            SelectChoice(u.id, _("%(name)s（%(role)s）", name=u.display_name, role=ROLE_LABELS[u.role]), USER_DATA)
            for u in _staff()]
    else:
        assign_form = None
    may_answer = item.status != "answered" and (user.role == "director" or user.id == item.assignee_id)
    answer_form = (answer_form or AnswerForm(formdata=None)) if may_answer else None
    return render_template("enterprise/complaint.html", complaint=item, assign_form=assign_form,
                           answer_form=answer_form, now=clock.now()), status


@bp.get("/complaints/<int:complaint_id>")
@login_required
def complaint(complaint_id: int):
    return _render_complaint(get_complaint(db.session, _me(), complaint_id))


@bp.post("/complaints/<int:complaint_id>/assign")
@role_required("director")
def assign_complaint(complaint_id: int):
    item = get_complaint(db.session, _me(), complaint_id)
    form = AssignForm()
    form.assignee_id.choices = [SelectChoice(u.id, u.display_name, USER_DATA) for u in _staff()]
    if not form.validate_on_submit():
        return _render_complaint(item, assign_form=form, status=400)
    try:
        services.assign_complaint(db.session, clock.now(), _me(), item, form.assignee_id.data, form.due_days.data)
    except DomainError as error:
        db.session.rollback()
        flash(page_message(error), "error")
        return redirect(url_for("enterprise.complaint", complaint_id=item.id))
    db.session.commit()
    flash(_("已分派，处理人将收到通知。"), "success")
    return redirect(url_for("enterprise.complaint", complaint_id=item.id))


@bp.post("/complaints/<int:complaint_id>/answer")
@role_required("director", "agent")
def answer_complaint(complaint_id: int):
    item = get_complaint(db.session, _me(), complaint_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _render_complaint(item, answer_form=form, status=400)
    try:
        services.answer_complaint(db.session, clock.now(), _me(), item, form.text.data)
    except DomainError as error:
        db.session.rollback()
        flash(page_message(error), "error")
        return redirect(url_for("enterprise.complaint", complaint_id=item.id))
    db.session.commit()
    flash(_("已答复，企业将收到通知。"), "success")
    return redirect(url_for("enterprise.complaint", complaint_id=item.id))


# ------------------------------------------------------------ public tracking (the QR target)

@bp.get("/track/<code>")
@limiter.limit("60 per minute")
def track(code: str):
    """Progress anyone holding the tracking code may read: no names, phones or opinions."""
    project = db.session.scalar(select(Project).where(Project.tracking_code == code.strip().upper()))
    if project is None:
        abort(404)
    return render_template("enterprise/track.html", project=project)
