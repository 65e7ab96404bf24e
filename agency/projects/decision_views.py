"""The agent's decisions on the project page (R2): end or resubmit after a refusal, suspend and resume.

The actions live in templates/projects/_decision.html, included by the project page.
"""
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from agency import clock
from agency.errors import DomainError, NotFound
from agency.extensions import db
from agency.people.access import get_task
from agency.projects import decisions
from agency.projects.forms import ActionForm, DecisionForm
from agency.projects.views import _carried, _failed, _me, bp, render_project
from agency.web.access import role_required


@bp.app_template_global()
def open_suspension_of(project):
    """The project's current suspension period (for _decision.html), None when it is not suspended."""
    return decisions.open_suspension(db.session, project) if project.suspended else None


def _decide(project, act, done: str, failed: str):
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_project(project, 400, error=_("请填写原因或整改说明。"))
    try:
        act(form.text.data)
    except DomainError as error:
        return _failed(project, error, failed)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.post("/<int:project_id>/end", endpoint="end")
@role_required("agent")
def end(project_id: int):
    project = _carried(project_id)
    return _decide(project, lambda reason: decisions.end_project(db.session, clock.now(), _me(), project, reason),
                   _("项目已终止，未办结的办件已取消。"), _("项目当前不在“不予办理后待决定”状态，不能终止。"))


@bp.post("/<int:project_id>/tasks/<bigint:task_id>/resubmit", endpoint="resubmit")
@role_required("agent")
def resubmit(project_id: int, task_id: int):
    project = _carried(project_id)
    task = get_task(db.session, current_user, task_id)
    if task.project_id != project.id:
        raise NotFound(f"task {task_id} not found")
    return _decide(project, lambda note: decisions.resubmit_task(db.session, clock.now(), _me(), task, note),
                   _("已整改后重新提交，部门按承诺时限重新计时。"),
                   _("该办件不能重新提交：未被不予办理、已重新提交过，或项目已暂停。"))


@bp.post("/<int:project_id>/suspend", endpoint="suspend")
@role_required("agent")
def suspend(project_id: int):
    project = _carried(project_id)
    return _decide(project, lambda reason: decisions.suspend_project(db.session, clock.now(), _me(), project, reason),
                   _("项目已暂停办理，各办件停止计时。"), _("项目已暂停或已办结、终止，不能暂停。"))


@bp.post("/<int:project_id>/resume", endpoint="resume")
@role_required("agent")
def resume(project_id: int):
    project = _carried(project_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        decisions.resume_project(db.session, clock.now(), _me(), project)
    except DomainError as error:
        return _failed(project, error, _("项目未暂停，不能恢复。"))
    db.session.commit()
    flash(_("项目已恢复办理，各办件按剩余工作日重新计时。"), "success")
    return redirect(url_for("projects.show", project_id=project.id))
