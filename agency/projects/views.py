"""Project pages: my projects, entrust, all projects, one project and its actions."""
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from agency import clock
from agency.audit.services import Actor
from agency.catalog.models import Department, ProjectType
from agency.catalog.services import items_by_code
from agency.errors import BadInput, DomainError, Forbidden, NotFound, RuleViolation, TransitionNotAllowed
from agency.extensions import db
from agency.people.access import get_project, get_task, is_assigned_agent, visible_projects
from agency.people.models import User
from agency.people.scope import scope_of
from agency.projects import services
from agency.projects.forms import (AGREEMENT_TEXT, STAGE_LABELS, STATUS_LABELS, ActionForm, AssignForm,
                                   DispatchForm, EntrustForm, HandoverForm, PaperAgreementForm, ProjectCodeForm,
                                   WithdrawForm)
from agency.projects.models import PROJECT_STATUSES, Project
from agency.projects.timeline import timeline, working_days_elapsed
from agency.materials.services import checklist, plan_dispatch
from agency.materials.views import anchor as material_anchor
from agency.tasks import services as task_services
from agency.tasks.models import RUNNING_STATUSES, Task
from agency.tasks.views import task_rows
from agency.visits.services import visit_count
from agency.web.access import role_required
from agency.web.filters import USER_DATA
from agency.web.home import needs_of, project_need
from agency.web.listing import ListArgs, paginate, within

bp = Blueprint("projects", __name__, url_prefix="/projects")


@bp.app_template_filter("project_status")
def project_status(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.app_template_filter("project_options")
def project_option(status: str) -> tuple:
    return status, project_status(status)


@bp.app_template_filter("stage_status")
def stage_status(status: str) -> str:
    return str(STAGE_LABELS.get(status, status))


@bp.app_template_filter("project_tone")
def project_tone(project: Project) -> str:
    if project.status == "terminated" or project.halted_at is not None:
        return "bad"
    if project.status == "completed":
        return "ok"
    return "info" if project.status == "in_progress" else ""


def _me() -> User:
    return current_user._get_current_object()


# --- lists ---------------------------------------------------------------------------------------

def _progress(project: Project) -> dict:
    """Current stage and the next deadline of its running tasks."""
    current = next((s for s in project.stages if s.status == "open"), None)
    deadlines = [t.deadline for t in project.tasks if t.status in RUNNING_STATUSES and not t.is_suspended]
    return {"stage": current, "next_stage": services.next_stage(project),
            "next_deadline": min(deadlines) if deadlines else None}


class ProjectFilters:
    """The filters of a project list, read from the query string (agency.web.listing)."""

    def __init__(self, args=None):
        read = ListArgs(args)
        self.q = read.text("q")
        self.status = read.choice("status", PROJECT_STATUSES)
        self.department = read.integer("department")
        self.agent = read.text("agent") if read.text("agent") == "none" else read.integer("agent")
        self.need = read.choice("need", needs_of(current_user.role))
        self.due_from, self.due_to = read.day("due_from"), read.day("due_to")
        self.page = read.page

    @property
    def active(self) -> bool:
        return bool(self.q or self.status or self.department or self.agent or self.need or self.due_from
                    or self.due_to)

    def apply(self, query, now):
        query = services.search(query, self.q)
        if self.status:
            query = query.where(Project.status == self.status)
        if self.department:
            query = query.where(Project.id.in_(select(Task.project_id).where(Task.department_id == self.department)))
        if self.agent == "none":
            query = query.where(Project.agent_id.is_(None))
        elif self.agent:
            query = query.where(Project.agent_id == self.agent)
        if self.need:
            query = query.where(project_need(current_user, self.need, now))
        if self.due_from or self.due_to:
            query = query.where(Project.id.in_(select(Task.project_id).where(
                Task.status.in_(RUNNING_STATUSES), *within(Task.deadline, self.due_from, self.due_to))))
        return query


def _departments() -> list[Department]:
    return db.session.scalars(select(Department).order_by(Department.code)).all()


def _page_of_projects(query, filters: ProjectFilters, *order):
    page = paginate(db.session, query.order_by(*order).options(
        selectinload(Project.stages), selectinload(Project.tasks), joinedload(Project.enterprise),
        joinedload(Project.agent), joinedload(Project.project_type)), filters.page)
    return page, [(p, _progress(p)) for p in page.items]


@bp.get("", endpoint="mine")
@role_required("agent", "enterprise")
def mine():
    filters = ProjectFilters()
    query = filters.apply(visible_projects(current_user), clock.now())
    page, rows = _page_of_projects(query, filters, Project.status.in_(("completed", "terminated")), Project.id.desc())
    return render_template("projects/mine.html", rows=rows, page=page, user=current_user, q=filters.q,
                           filters=filters, statuses=PROJECT_STATUSES, departments=_departments(),
                           needs=needs_of(current_user.role))


@bp.get("/find", endpoint="find")
@role_required("agent", "director")
def find():
    """The header's search box: straight to the project when exactly one matches, else the filtered list."""
    q = ListArgs().text("q")
    found = db.session.scalars(services.search(visible_projects(current_user), q).limit(2)).all() if q else []
    if len(found) == 1:
        return redirect(url_for("projects.show", project_id=found[0].id))
    return redirect(url_for("projects.all" if current_user.role == "director" else "projects.mine", q=q or None))


@bp.get("/all", endpoint="all")
@role_required("director")
def all_projects():
    return _render_all(request.args)


def _agents() -> list[User]:
    return db.session.scalars(select(User).where(User.role == "agent", User.active.is_(True))
                              .order_by(User.name, User.username)).all()


def _render_all(args, http_status: int = 200, error: str | None = None):
    filters = ProjectFilters(args)
    query = filters.apply(visible_projects(current_user), clock.now())
    page, rows = _page_of_projects(query, filters, Project.agent_id.is_not(None), Project.id.desc())
    return render_template("projects/all.html", rows=rows, page=page, status=filters.status, filters=filters,
                           statuses=PROJECT_STATUSES, agents=_agents(), departments=_departments(),
                           needs=needs_of("director"), error=error, q=filters.q), http_status


# --- entrust -------------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"], endpoint="entrust")
@role_required("enterprise", "agent")
def entrust():
    form = EntrustForm()
    types = db.session.scalars(select(ProjectType).order_by(ProjectType.code)).all()
    form.project_type.choices = [SelectChoice("", _("请选择"))] + [SelectChoice(t.code, f"{t.name}（{t.code}）", USER_DATA)
                                                                    for t in types]
    if current_user.role == "enterprise":
        del form.enterprise_id
    else:
        del form.agree  # the enterprise signs the agreement on its project page
        enterprises = db.session.scalars(select(User).where(User.role == "enterprise", User.active.is_(True))
                                         .order_by(User.organization, User.username)).all()
        form.enterprise_id.choices = [SelectChoice(0, _("请选择"))] + [
            SelectChoice(u.id, u.organization or u.display_name, USER_DATA) for u in enterprises]
    status = 200
    if form.is_submitted():
        status = 400
    if form.validate_on_submit():
        try:
            project = services.entrust_project(
                db.session, clock.now(), _me(), name=form.name.data.strip(), project_type=form.project_type.data,
                location=form.location.data.strip(), investment_wan=form.investment_wan.data,
                contact_name=form.contact_name.data.strip(), contact_phone=form.contact_phone.data.strip(),
                enterprise_id=form.enterprise_id.data if "enterprise_id" in form else None)
        except BadInput as error:
            db.session.rollback()
            for name in error.fields:
                if name in form:
                    form[name].errors.append(_("请重新选择"))
        else:
            db.session.commit()
            flash(_("已委托代办，跟踪码 %(code)s。", code=project.tracking_code), "success")
            return redirect(url_for("projects.show", project_id=project.id))
    return render_template("projects/entrust.html", form=form, agreement=AGREEMENT_TEXT), status


# --- one project ---------------------------------------------------------------------------------

def _suggestion(project: Project):
    """The director's suggested agent (R7), when the director area provides one."""
    try:
        from agency.director.workload import suggest_agent
        return suggest_agent(db.session, project)
    except (ImportError, DomainError):
        return None


def _dispatch_form(project: Project, form: DispatchForm | None = None):
    """The form for the next stage and its deferrable materials ({name: item codes}), or Nones when nothing
    can be dispatched now.  A deferrable material is offered only while it is not ready (R15)."""
    if project.status not in ("entrusted", "in_progress") or project.halted_at is not None:
        return None, None, {}
    if any(s.status == "open" for s in project.stages):
        return None, None, {}
    stage = services.next_stage(project)
    if stage is None:
        return None, None, {}
    template = next((t for t in project.project_type.stages if t.order == stage.order), None)
    codes = list(template.item_codes) if template else []
    items = items_by_code(db.session, codes)
    ready = {e.name for e in checklist(db.session, project) if e.ready}
    deferrable = {}
    for code in codes:
        for name in (items[code].deferrable_materials if code in items else []):
            if name not in ready:
                deferrable.setdefault(name, []).append(code)
    form = form or DispatchForm(formdata=None, items=codes, deferred=[{"name": n} for n in deferrable])
    form.items.choices = [SelectChoice(c, f"{c} {items[c].name}（{items[c].department.name}）" if c in items else c)
                          for c in codes]
    return stage, form, deferrable


def render_project(project: Project, status: int = 200, *, error: str | None = None, **forms):
    user = _me()
    now = clock.now()
    carrying = is_assigned_agent(user, project)
    is_director = user.role == "director"
    is_owner = user.role == "enterprise" and project.enterprise_id == user.id
    view = scope_of(db.session, user, project)
    rows = task_rows(view.tasks, now)
    by_stage = {}
    for row in rows:
        by_stage.setdefault(row.task.stage_id, []).append(row)
    next_stage, dispatch_form, deferrable = (_dispatch_form(project, forms.get("dispatch_form")) if carrying
                                             else (None, None, {}))
    may_set_code = project.is_open and (is_owner or carrying)
    assign_form = None
    if is_director and project.is_open:
        assign_form = forms.get("assign_form") or AssignForm(formdata=None, agent_id=project.agent_id or 0)
        assign_form.agent_id.choices = _agent_choices()
    return render_template(
        "projects/show.html", project=project, by_stage=by_stage, error=error,
        is_agent=carrying, is_director=is_director, is_owner=is_owner,
        elapsed=working_days_elapsed(db.session, project, now), target_days=project.project_type.target_days,
        events=grouped(timeline(db.session, project, user)), view=view, next_stage=next_stage,
        dispatch_form=dispatch_form,
        handover_form=(forms.get("handover_form") or HandoverForm(formdata=None)) if carrying and project.is_open
        else None,
        assign_form=assign_form, suggestion=_suggestion(project) if assign_form is not None else None,
        action_form=ActionForm(formdata=None),
        agreement=AGREEMENT_TEXT, deferrable=deferrable, refusal=forms.get("refusal"),
        code_form=(forms.get("code_form") or ProjectCodeForm(formdata=None, project_code=project.project_code))
        if may_set_code else None,
        paper_form=(forms.get("paper_form") or PaperAgreementForm(formdata=None))
        if carrying and project.is_open and project.agreement_accepted_at is None else None,
        materials=_material_counts(project), visit_count=visit_count(db.session, project),
        failed_rating=forms.get("rating_form"),  # the enterprise panel's rating form, refused with its messages
        failed=forms,  # refused forms of the panels (results, visits), with their values and messages
    ), status


# events that come in runs (an enterprise files its whole checklist at once): one line per run on the page
RUNS = ("material.filed",)


def grouped(events: list[dict]) -> list[dict]:
    """The timeline with each run of one actor's ``RUNS`` events folded into its first (``more``: the rest)."""
    out = []
    for event in events:
        last = out[-1] if out else None
        if (last and event["action"] in RUNS and last["action"] == event["action"]
                and last["actor"] == event["actor"]):
            last["more"].append(event)
        else:
            out.append({**event, "more": []})
    return out


def _material_counts(project: Project) -> dict:
    """How far the checklist is: entries ready for a dispatch, and all of them."""
    entries = checklist(db.session, project)
    return {"ready": sum(1 for e in entries if e.ready or e.optional), "total": len(entries),
            "returned": sum(1 for e in entries if e.status == "returned"),
            "to_review": sum(1 for e in entries if e.status == "uploaded")}


def _agent_choices() -> list[SelectChoice]:
    return [SelectChoice(0, _("请选择"))] + [
        SelectChoice(a.id, _("%(name)s（休假）", name=a.display_name) if a.on_leave else a.display_name, USER_DATA)
        for a in _agents()]


@bp.get("/<int:project_id>", endpoint="show")
@login_required
def show(project_id: int):
    return render_project(get_project(db.session, current_user, project_id))


def _failed(project: Project, error: DomainError, message: str, **forms):
    """A domain error: nothing is kept, the page says why with the error's status."""
    if isinstance(error, NotFound):
        raise error
    db.session.rollback()
    return render_project(project, error.status, error=message, **forms)


def _carried(project_id: int) -> Project:
    project = get_project(db.session, current_user, project_id)
    if not is_assigned_agent(current_user, project):
        abort(403)
    return project


@bp.post("/<int:project_id>/dispatch", endpoint="dispatch")
@role_required("agent")
def dispatch(project_id: int):
    project = _carried(project_id)
    form = DispatchForm()
    if not form.validate_on_submit():
        if "csrf_token" in form and form.csrf_token.errors:
            abort(400)
        return render_project(project, 400, error=_("未派发，请按提示修改。"), dispatch_form=form)
    codes = list(form.items.data or []) if form.pick.data else None
    try:
        stage, tasks = services.dispatch_stage(db.session, clock.now(), Actor.of(current_user), project, codes,
                                               form.deferrals())
    except DomainError as error:
        if isinstance(error, RuleViolation):
            db.session.rollback()
            return _failed(project, error, _("当前不能派发，原因如下。"), dispatch_form=form,
                           refusal=_refusal(project, error, form))
        if isinstance(error, BadInput) and "deferred" in error.fields:
            message = _("承诺补齐日期不能早于今天。")
        elif isinstance(error, BadInput):
            message = _("请至少选择一项本阶段的审批事项。")
        else:
            message = _("当前不能派发：上一阶段尚未办结，或项目已暂停、已终止，或全部阶段均已派发。")
        return _failed(project, error, message, dispatch_form=form if isinstance(error, BadInput) else None)
    db.session.commit()
    flash(_("已派发第%(order)s阶段“%(name)s”：%(n)s个部门任务并联审批。", order=stage.order, name=stage.name,
            n=len(tasks)), "success")
    return redirect(url_for("projects.show", project_id=project.id))


def _refusal(project: Project, error: RuleViolation, form: DispatchForm) -> dict:
    """Why a dispatch was refused, in words, all at once: the agreement, the project code and the materials
    by name (R2, R14, R17).  The service stops at the first; the materials are asked of plan_dispatch."""
    fields = dict(error.fields)
    if "missing" not in fields and "deferred" not in fields:
        stage = services.next_stage(project)
        template = next((t for t in project.project_type.stages if stage and t.order == stage.order), None)
        codes = [c for c in (template.item_codes if template else [])
                 if not form.pick.data or c in (form.items.data or [])]
        try:
            plan_dispatch(db.session, clock.now(), project, list(items_by_code(db.session, codes).values()),
                          form.deferrals())
        except DomainError as more:
            fields.update(more.fields)
        db.session.rollback()
    reasons = []
    if project.agreement_accepted_at is None:
        reasons.append(_("委托代办协议尚未签署：企业在线签署，或由代办员登记纸质协议后才能派发。"))
    if project.project_type.needs_project_code and not project.project_code:
        reasons.append(_("尚未登记项目代码：本类型项目派发前须登记投资项目统一代码。"))
    if isinstance(fields.get("deferred"), list):
        reasons.append(_("以下材料不允许容缺受理：%(names)s。", names="、".join(fields["deferred"])))
    entries = checklist(db.session, project)
    missing = [(name, material_anchor(entries, name)) for name in fields.get("missing", [])]
    return {"reasons": reasons, "missing": missing}


@bp.post("/<int:project_id>/tasks/<bigint:task_id>/materials-supplied", endpoint="materials_supplied")
@role_required("agent")
def materials_supplied(project_id: int, task_id: int):
    project = _carried(project_id)
    task = get_task(db.session, current_user, task_id)
    if task.project_id != project.id:
        raise NotFound(f"task {task_id} not found")
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        task_services.supply_materials(db.session, clock.now(), Actor.of(current_user), task)
    except DomainError as error:
        return _failed(project, error, _("该办件没有待补正的材料（状态已变化），请以页面上的最新状态为准。"))
    db.session.commit()
    flash(_("已登记补正材料，“%(item)s”重新计时。", item=task.item.name), "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.post("/<int:project_id>/handover", endpoint="handover")
@role_required("agent")
def handover(project_id: int):
    project = _carried(project_id)
    form = HandoverForm()
    if not form.validate_on_submit():
        return render_project(project, 400, handover_form=form)
    try:
        services.request_handover(db.session, clock.now(), _me(), project, form.note.data)
    except DomainError as error:
        return _failed(project, error, _("项目已办结或终止，不能再申请移交。"))
    db.session.commit()
    flash(_("移交申请已送达大厅主任。"), "success")
    return redirect(url_for("projects.show", project_id=project.id))


def _local_path(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.post("/<int:project_id>/assign", endpoint="assign")
@role_required("director")
def assign(project_id: int):
    project = get_project(db.session, current_user, project_id)
    form = AssignForm()
    form.agent_id.choices = _agent_choices()
    back = _local_path(form.next.data)
    from_list = bool(back and back.startswith(url_for("projects.all")))
    error = None
    if not form.validate_on_submit():
        error, http_status = _("请选择一名在岗代办员。"), 400
    else:
        try:
            services.assign_agent(db.session, clock.now(), _me(), project, form.agent_id.data)
        except DomainError as failure:
            if isinstance(failure, NotFound):
                raise
            db.session.rollback()
            error, http_status = (_("项目已办结或终止，不能再指派。") if isinstance(failure, TransitionNotAllowed)
                                  else _("请选择一名在岗代办员。")), failure.status
    if error:
        if from_list:
            return _render_all(MultiDict(parse_qsl(urlsplit(back).query)), http_status, error)
        return render_project(project, http_status, error=error, assign_form=form)
    db.session.commit()
    flash(_("已指派代办员：%(name)s（项目“%(project)s”）。", name=project.agent.display_name, project=project.name),
          "success")
    return redirect(back or url_for("projects.show", project_id=project.id))


@bp.post("/<int:project_id>/agreement", endpoint="sign_agreement")
@role_required("enterprise")
def sign_agreement(project_id: int):
    project = get_project(db.session, current_user, project_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.accept_agreement(db.session, clock.now(), _me(), project)
    db.session.commit()
    flash(_("已签署委托代办协议。"), "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.post("/<int:project_id>/agreement/paper", endpoint="paper_agreement")
@role_required("agent")
def paper_agreement(project_id: int):
    """The carrying agent records the paper agreement the enterprise signed, with its date."""
    project = _carried(project_id)
    form = PaperAgreementForm()
    if not form.validate_on_submit():
        return render_project(project, 400, error=_("纸质协议未登记，请按提示修改。"), paper_form=form)
    try:
        services.accept_agreement(db.session, clock.now(), _me(), project, paper_signed_on=form.signed_on.data)
    except DomainError as error:
        if isinstance(error, BadInput):
            form.signed_on.errors = [_("签署日期不能晚于今天")]
        return _failed(project, error, _("纸质协议未登记，请按提示修改。"), paper_form=form)
    db.session.commit()
    flash(_("已登记纸质委托代办协议（%(on)s签署）。", on=form.signed_on.data.isoformat()), "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.post("/<int:project_id>/code", endpoint="set_code")
@role_required("enterprise", "agent")
def set_code(project_id: int):
    """The national investment project code (R17), given by the enterprise or the carrying agent."""
    project = get_project(db.session, current_user, project_id)
    form = ProjectCodeForm()
    if not form.validate_on_submit():
        return render_project(project, 400, error=_("项目代码未保存，请按提示修改。"), code_form=form)
    try:
        services.set_project_code(db.session, clock.now(), _me(), project, form.project_code.data)
    except DomainError as error:
        if isinstance(error, Forbidden):
            raise
        if isinstance(error, BadInput):
            form.project_code.errors = [_("项目代码格式不正确，应为 YYYY-AAAAAA-II-TT-NNNNNN，如 2026-330106-34-03-000001")]
        return _failed(project, error, _("项目代码未保存，请按提示修改。"), code_form=form)
    db.session.commit()
    flash(_("已登记项目代码：%(code)s", code=project.project_code), "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.route("/<int:project_id>/withdraw", methods=["GET", "POST"], endpoint="withdraw")
@role_required("enterprise")
def withdraw(project_id: int):
    """Two steps: the reason, then a confirmation page that shows it; only the confirmation withdraws."""
    project = get_project(db.session, current_user, project_id)
    form = WithdrawForm()
    if not project.is_open:
        flash(_("项目已办结或终止，不能撤回。"), "error")
        return redirect(url_for("projects.show", project_id=project.id))
    if request.method == "GET":
        return render_template("projects/withdraw.html", project=project, form=form, confirming=False)
    if not form.validate_on_submit():
        return render_template("projects/withdraw.html", project=project, form=form, confirming=False), 400
    if form.confirm.data != "yes":
        return render_template("projects/withdraw.html", project=project, form=form, confirming=True)
    try:
        services.withdraw_project(db.session, clock.now(), _me(), project, form.reason.data)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        db.session.rollback()
        return render_template("projects/withdraw.html", project=project, form=form, confirming=False,
                               error=_("项目状态已变化，不能撤回。")), error.status
    db.session.commit()
    flash(_("已撤回委托，项目终止。"), "success")
    return redirect(url_for("projects.show", project_id=project.id))


from agency.projects import decision_views  # noqa: E402,F401  (end, resubmit, suspend, resume: routes of this blueprint)
