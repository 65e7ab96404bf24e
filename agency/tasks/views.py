"""The liaison's pages: the department inbox and one task with accept, supplement and answer."""
from datetime import datetime
from typing import NamedTuple

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from agency import clock
from agency.audit.services import Actor
from agency.calendar.services import get_calendar
from agency.errors import BadInput, DomainError, NotFound, TransitionNotAllowed
from agency.extensions import db
from agency.people.access import get_task, visible_tasks
from agency.results.models import DEEMED_NOTICE
from agency.results.services import attach_result_file, result_path
from agency.projects.forms import ActionForm
from agency.tasks import services
from agency.enterprise.files import task_checklist
from agency.materials.services import owed_materials
from agency.tasks.forms import DECISION_LABELS, REASON_LABELS, STATUS_LABELS, AnswerForm, ResultFileForm, SupplementForm
from agency.tasks.models import OPEN_STATUSES, RUNNING_STATUSES, Task
from agency.web.access import role_required
from agency.web.errors import page_message

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

RECENTLY_CLOSED = 20


class TaskRow(NamedTuple):
    """A task with its working days left (None when the clock is stopped or the task closed) and tone."""
    task: Task
    days_left: int | None
    tone: str


def task_tone(task: Task, days_left: int | None) -> str:
    """badge colour: bad when overdue or escalated or refused, ok when consented, warn at one day or less."""
    if task.escalated_at is not None or (days_left is not None and days_left < 0):
        return "bad"
    if task.status == "answered" and task.outcome == "refuse":
        return "bad"
    if task.is_consent:
        return "ok"
    if days_left is not None and days_left <= 1:
        return "warn"
    return ""


def task_rows(tasks, now: datetime) -> list[TaskRow]:
    calendar, tz = get_calendar(db.session), clock.hall_tz()
    rows = []
    for task in tasks:
        left = task.working_days_left(calendar, now, tz)
        rows.append(TaskRow(task, left, task_tone(task, left)))
    return rows


@bp.app_template_filter("task_status")
def task_status(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.app_template_filter("task_status_option")
def task_status_option(status: str) -> tuple:
    return status, task_status(status)


@bp.app_template_filter("decision")
def decision(outcome: str | None) -> str:
    return str(DECISION_LABELS.get(outcome, outcome or ""))


@bp.app_template_filter("deemed_reason")
def deemed_reason(reason: str | None) -> str:
    return str(REASON_LABELS.get(reason, reason or ""))


@bp.get("/inbox", endpoint="inbox")
@role_required("liaison")
def inbox():
    """The department's open tasks, filtered and paged by the query string; the recently closed below."""
    from agency.people.models import User
    from agency.projects.models import Project
    from agency.web.home import TASK_DUES, task_due
    from agency.web.listing import ListArgs, of_projects_matching, paginate, within
    now, read = clock.now(), ListArgs()
    filters = {"q": read.text("q"), "status": read.choice("status", OPEN_STATUSES),
               "due": read.choice("due", TASK_DUES), "agent": read.integer("agent"), "due_from": read.day("due_from"), "due_to": read.day("due_to")}
    mine = visible_tasks(current_user)
    query = mine.where(Task.status.in_(OPEN_STATUSES))
    if filters["q"]:  # through the project: the same search (and index) as GET /projects?q=
        query = query.where(of_projects_matching(Task.project_id, filters["q"]))
    if filters["status"]:
        query = query.where(Task.status == filters["status"])
    if filters["due"]:
        query = query.where(task_due(db.session, filters["due"], now))
    if filters["agent"]:
        query = query.where(Task.project_id.in_(select(Project.id).where(Project.agent_id == filters["agent"])))
    query = query.where(*within(Task.deadline, filters["due_from"], filters["due_to"]))
    page = paginate(db.session, query.order_by(Task.deadline, Task.id).options(
        joinedload(Task.item), joinedload(Task.project)), read.page)
    closed = db.session.scalars(
        mine.where(Task.status.not_in(OPEN_STATUSES)).options(joinedload(Task.item), joinedload(Task.project))
        .order_by(Task.answered_at.desc().nulls_last(), Task.id.desc()).limit(RECENTLY_CLOSED)).all()
    agents = db.session.scalars(select(User).where(User.role == "agent").order_by(User.name, User.username)).all()
    return render_template("tasks/inbox.html", rows=task_rows(page.items, now), page=page, closed=closed,
                           department=current_user.department, filters=filters,
                           filtered=any(filters.values()), statuses=OPEN_STATUSES, dues=TASK_DUES, agents=agents)


def render_task(task: Task, status: int = 200, *, error: str | None = None, supplement_form=None, answer_form=None,
                result_file_form=None, comment_form=None):
    """The task page; a refused form comes back with what was typed and its messages (comments: agency.comments)."""
    from agency.comments.forms import CommentForm
    from agency.comments.services import comments_of, may_comment
    user = current_user._get_current_object()
    is_liaison = current_user.role == "liaison" and current_user.department_id == task.department_id
    row = task_rows([task], clock.now())[0]
    result = task.result
    return render_template(
        "tasks/show.html", task=task, row=row, error=error, is_liaison=is_liaison,
        can_accept=is_liaison and task.status == "pending",
        can_answer=is_liaison and task.status in RUNNING_STATUSES,
        supplement_form=supplement_form or SupplementForm(formdata=None),
        answer_form=answer_form or AnswerForm(formdata=None),
        checklist=task_checklist(task), owed=owed_materials(task), result=result,
        result_file_form=(result_file_form or ResultFileForm(formdata=None))
        if is_liaison and result is not None and result.kind != DEEMED_NOTICE else None,
        comments=comments_of(db.session, user, task),
        comment_form=(comment_form or CommentForm(formdata=None)) if may_comment(user, task) else None,
    ), status


@bp.get("/<bigint:task_id>", endpoint="show")
@login_required
def show(task_id: int):
    return render_task(get_task(db.session, current_user, task_id))


def _conflict(task: Task) -> str:
    return _("办件当前状态为“%(status)s”，不能再办理此操作；请以页面上的最新状态为准。",
             status=task_status(task.status))


def _failed(task: Task, error: DomainError, **forms):
    """A domain error: nothing is kept, and the page says why."""
    if isinstance(error, NotFound):
        raise error
    db.session.rollback()
    task = db.session.get(Task, task.id)
    if isinstance(error, TransitionNotAllowed):
        message = _conflict(task)
    elif isinstance(error, BadInput):
        message = _("提交的内容不完整，请检查后重试。")
    else:
        message = _("该操作不符合办理规则。")
    return render_task(task, error.status, error=message, **forms)


@bp.post("/<bigint:task_id>/accept", endpoint="accept")
@role_required("liaison")
def accept(task_id: int):
    task = get_task(db.session, current_user, task_id, to_change=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.accept_task(db.session, clock.now(), Actor.of(current_user), task)
    except DomainError as error:
        return _failed(task, error)
    db.session.commit()
    flash(_("已受理。"), "success")
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.post("/<bigint:task_id>/supplement", endpoint="supplement")
@role_required("liaison")
def supplement(task_id: int):
    task = get_task(db.session, current_user, task_id, to_change=True)
    form = SupplementForm()
    if not form.validate_on_submit() or not form.material_list():
        if not form.materials.errors:
            form.materials.errors.append(_("请一次性列出全部需补正的材料"))
        return render_task(task, 400, supplement_form=form)
    try:
        services.request_supplement(db.session, clock.now(), Actor.of(current_user), task, form.material_list(),
                                    (form.note.data or "").strip())
    except DomainError as error:
        return _failed(task, error, supplement_form=form)
    db.session.commit()
    flash(_("已一次性告知补正材料，办件暂停计时。"), "success")
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.post("/<bigint:task_id>/answer", endpoint="answer")
@role_required("liaison")
def answer(task_id: int):
    task = get_task(db.session, current_user, task_id, to_change=True)
    form = AnswerForm()
    if not form.validate_on_submit():
        return render_task(task, 400, answer_form=form)
    try:
        services.answer_task(db.session, clock.now(), Actor.of(current_user), task, form.decision.data,
                             form.opinion.data or "", result=form.result())
    except DomainError as error:
        return _failed(task, error, answer_form=form)
    db.session.commit()
    flash(_("已答复：%(decision)s", decision=decision(form.decision.data)), "success")
    return redirect(url_for("tasks.show", task_id=task.id))


# Errors of attach_result_file, said to a person.
RESULT_FILE_MESSAGES = {400: _l("文件名不正确或文件为空，请重新选择 PDF 文件。"),
                        409: _l("该办件没有本部门出具的办理结果，不能上传电子证照。"),
                        413: _l("文件过大，超过了上传大小限制。"),
                        415: _l("电子证照须为 PDF 文件。")}


@bp.post("/<bigint:task_id>/result-file", endpoint="result_file")
@role_required("liaison")
def result_file(task_id: int):
    """The electronic result (a PDF) of a task answered with consent (R16)."""
    task = get_task(db.session, current_user, task_id)
    form = ResultFileForm()
    if not form.validate_on_submit():
        return render_task(task, 400, result_file_form=form)
    try:
        result = attach_result_file(db.session, clock.now(), current_user._get_current_object(), task,
                                    form.file.data.filename, form.file.data.stream)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        db.session.rollback()
        form.file.errors = [str(RESULT_FILE_MESSAGES.get(error.status) or page_message(error))]
        return render_task(db.session.get(Task, task.id), error.status, result_file_form=form)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        result_path(result).unlink(missing_ok=True)
        raise
    flash(_("已上传电子证照：%(name)s", name=result.filename), "success")
    return redirect(url_for("tasks.show", task_id=task.id) + "#result")
