"""The director's pages: workload board, liaisons, catalog and calendar, rankings, reports."""
from datetime import date, timedelta

from flask import Blueprint, abort, flash, get_template_attribute, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from agency import clock
from agency.calendar import services as calendar_services
from agency.calendar.models import CalendarOverride
from agency.catalog.models import ApprovalItem, Department, ProjectType, StageTemplate
from agency.textfiles import UnreadableFile, decode_text
from agency.director import forms, services
from agency.director.workload import (
    agent_loads,
    available_agents,
    suggest_agent,
    unassigned_projects,
    workload,
)
from agency.director.schemas import MAX_PERIOD_DAYS, period_between
from agency.errors import BadInput, DomainError
from agency.extensions import db
from agency.people.models import User
from agency.projects.decisions import awaiting_decision, waiting_after_refusal
from agency.projects.models import Project
from agency.projects.services import assign_agent
from agency.supervision import figures
from agency.supervision.models import Card, Escalation
from agency.supervision.reports import (
    PERIOD_NAMES,
    last_complete,
    list_reports,
    pending_reports,
    report_states,
    schedule_report,
)
from agency.transaction import remembered
from agency.web.access import role_required
from agency.web.errors import page_message
from agency.web.filters import USER_DATA
from agency.web.views import Figure, figure_source

bp = Blueprint("director", __name__, url_prefix="/director")
# agency.supervision.reports.PERIOD_NAMES (the reports' own titles) in the page's language.
PERIOD_LABELS = {"daily": _l("日报"), "weekly": _l("周报"), "monthly": _l("月报"), "quarterly": _l("季公示")}
TREND_WEEKS = 12
TREND_MONTHS = 12


def _done(message: str):
    db.session.commit()
    flash(message, "success")


def _failed(error: DomainError):
    db.session.rollback()
    flash(page_message(error), "error")


def _form_failed(form):
    flash("；".join(f"{getattr(form, k).label.text}: {'、'.join(v)}" if hasattr(form, k) else "、".join(v)
                    for k, v in form.errors.items()) or _("提交无效，请重试"), "error")


def _back(default: str):
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for(default))


def _agents():
    return db.session.scalars(select(User).where(User.role == "agent", User.active.is_(True)).order_by(User.id)).all()


def _today() -> date:
    return clock.local(clock.now()).date()


def watched_years() -> list[int]:
    """This year, the next and every year a running deadline falls in (R1): read once per transaction."""
    read = remembered(db.session, "agency_director_calendar_years")
    if "years" not in read:
        read["years"] = services.calendar_years(db.session, _today(), clock.hall_tz())
    return read["years"]


def unconfirmed_years() -> list[int]:
    """The watched years whose official arrangement is not known yet (R1)."""
    years = watched_years()
    return calendar_services.get_calendar(db.session).unconfirmed_years(years[0], years[-1])


@bp.app_context_processor
def calendar_banner():
    """``unconfirmed_calendar_years()`` for templates/director/_banner.html (evaluated only when called)."""
    return {"unconfirmed_calendar_years": unconfirmed_years}


# -- workload and assignment (R7) --------------------------------------------------


@bp.get("/workload", endpoint="workload")
@role_required("director")
def workload_board():
    loads, available = agent_loads(db.session), available_agents(db.session)
    rows = workload(db.session, loads)
    projects, total = unassigned_projects(db.session)
    suggestions = {}
    for project in projects:
        try:
            suggestions[project.id] = suggest_agent(db.session, project, loads, agents=available)
        except DomainError as error:
            suggestions[project.id] = error
    types = db.session.scalars(select(ProjectType).order_by(ProjectType.code)).all()
    return render_template(
        "director/workload.html", rows=rows, chart=workload_chart(rows), unassigned=projects,
        unassigned_total=total, suggestions=suggestions,
        agents=_agents(), type_names={t.code: t.name for t in types}, types=types,
        unreachable=services.unreachable_departments(db.session), orphaned=services.orphaned_work(db.session),
        action=forms.ActionForm(), awaiting=waiting_after_refusal(db.session, clock.now()))


def workload_chart(rows: list[dict]) -> dict:
    """The board's chart: open projects and open tasks per agent, an agent on leave named so in its label."""
    return {"labels": [r["name"] + (_("（休假）") if r["on_leave"] else "") for r in rows],
            "open_projects": [r["open_projects"] for r in rows], "open_tasks": [r["open_tasks"] for r in rows],
            "on_leave": [r["on_leave"] for r in rows],
            "names": {"open_projects": _("在办项目"), "open_tasks": _("未办结任务")}}


@bp.post("/projects/<int:project_id>/assign")
@role_required("director")
def assign(project_id):
    project = db.get_or_404(Project, project_id)
    form = forms.AssignForm()
    form.agent_id.choices = [SelectChoice(a.id, a.display_name, USER_DATA) for a in _agents()]
    if not form.validate_on_submit():
        _form_failed(form)
        return _back("director.workload")
    try:
        assign_agent(db.session, clock.now(), current_user, project, form.agent_id.data)
        _done(_("已将“%(project)s”指派给 %(agent)s，联系卡已重新发放", project=project.name,
                agent=project.agent.display_name))
    except DomainError as error:
        _failed(error)
    return _back("director.workload")


@bp.get("/agents/<int:agent_id>")
@role_required("director")
def agent(agent_id):
    person = services.get_agent(db.session, agent_id)
    row = next((r for r in workload(db.session) if r["agent_id"] == person.id), None)
    types = db.session.scalars(select(ProjectType).order_by(ProjectType.code)).all()
    skills = forms.SkillsForm(skills=list(person.skills or []))
    skills.skills.choices = [SelectChoice(t.code, t.name) for t in types]
    return render_template("director/agent.html", person=person, row=row,
                           projects=services.open_projects_of(db.session, person),
                           agents=[a for a in _agents() if a.id != person.id], skills_form=skills,
                           action=forms.ActionForm())


@bp.post("/agents/<int:agent_id>/leave")
@role_required("director")
def agent_leave(agent_id):
    person = services.get_agent(db.session, agent_id)
    form = forms.LeaveForm()
    if not form.validate_on_submit():
        _form_failed(form)
        return _back("director.workload")
    on_leave = form.on_leave.data == "1"
    try:
        services.set_agent_leave(db.session, clock.now(), current_user, person, on_leave)
        _done(_("%(name)s 已设为休假", name=person.display_name) if on_leave
              else _("%(name)s 已销假", name=person.display_name))
    except DomainError as error:
        _failed(error)
    return _back("director.workload")


@bp.post("/agents/<int:agent_id>/reassign")
@role_required("director")
def agent_reassign(agent_id):
    """The agent goes on leave and every open project is handed over (to one agent, or each as suggested)."""
    person = services.get_agent(db.session, agent_id)
    form = forms.ReassignForm()
    form.target.choices = [SelectChoice("suggested", "")] + [SelectChoice(str(a.id), a.display_name, USER_DATA)
                                                             for a in _agents() if a.id != person.id]
    if not form.validate_on_submit():
        _form_failed(form)
        return _back("director.workload")
    suggested = form.target.data == "suggested"
    try:
        moved = services.set_agent_leave(db.session, clock.now(), current_user, person, True,
                                         None if suggested else int(form.target.data), suggested)
        _done(_("%(name)s 已休假，%(n)s 个在办项目已移交并重新发放联系卡", name=person.display_name, n=len(moved)))
    except DomainError as error:
        _failed(error)
    return _back("director.workload")


@bp.post("/agents/<int:agent_id>/skills")
@role_required("director")
def agent_skills(agent_id):
    person = services.get_agent(db.session, agent_id)
    form = forms.SkillsForm()
    form.skills.choices = [SelectChoice(t.code, t.name)
                          for t in db.session.scalars(select(ProjectType).order_by(ProjectType.code))]
    if not form.validate_on_submit():
        _form_failed(form)
        return _back("director.workload")
    try:
        services.set_skills(db.session, clock.now(), current_user, person, form.skills.data or [])
        _done(_("已更新 %(name)s 擅长的项目类型", name=person.display_name))
    except DomainError as error:
        _failed(error)
    return _back("director.workload")


# -- departments and liaisons (R8) ---------------------------------------------------


@bp.get("/liaisons")
@role_required("director")
def liaisons():
    departments = db.session.scalars(select(Department).order_by(Department.code)
                                     .options(selectinload(Department.liaisons))).all()
    return render_template("director/liaisons.html", departments=departments,
                           unreachable=[d for d in departments if d.reachable_liaison() is None],
                           action=forms.ActionForm())


@bp.post("/liaisons/<int:user_id>/leave")
@role_required("director")
def liaison_leave(user_id):
    person = services.get_liaison(db.session, user_id)
    form = forms.LeaveForm()
    if form.validate_on_submit():
        services.set_liaison_leave(db.session, clock.now(), current_user, person, form.on_leave.data == "1")
        _done(_("已更新 %(name)s 的休假状态", name=person.display_name))
        department = person.department
        if department is not None and department.reachable_liaison() is None:
            flash(_("注意：%(d)s 当前没有可联系的联络员", d=department.name), "warning")
    else:
        _form_failed(form)
    return _back("director.liaisons")


@bp.post("/liaisons/<int:user_id>/release")
@role_required("director")
def release_slot(user_id):
    """Free the slot of a deactivated liaison (then swap the slots or create a liaison for it)."""
    person = services.get_liaison(db.session, user_id)
    if forms.ActionForm().validate_on_submit():
        try:
            services.release_liaison_slot(db.session, clock.now(), current_user, person)
            _done(_("已腾出 %(name)s 的联络员岗位", name=person.display_name))
        except DomainError as error:
            _failed(error)
    return _back("director.workload")


@bp.post("/departments/<int:department_id>/swap")
@role_required("director")
def swap_liaisons(department_id):
    department = db.get_or_404(Department, department_id)
    if forms.ActionForm().validate_on_submit():
        try:
            services.swap_liaison_slots(db.session, clock.now(), current_user, department)
            _done(_("%(d)s 的A角、B角已互换", d=department.name))
        except DomainError as error:
            _failed(error)
    return _back("director.liaisons")


# -- catalog and calendar ----------------------------------------------------------


@bp.get("/settings")
@role_required("director")
def settings():
    items = db.session.scalars(select(ApprovalItem).order_by(ApprovalItem.code)
                               .options(selectinload(ApprovalItem.department))).all()
    types = db.session.scalars(select(ProjectType).order_by(ProjectType.code)
                               .options(selectinload(ProjectType.stages))).all()
    stage_of = {}
    for ptype in types:
        for stage in ptype.stages:
            for code in stage.item_codes:
                stage_of.setdefault(code, []).append(f"{ptype.name} · {stage.name}")
    today = _today()
    overrides = db.session.scalars(select(CalendarOverride).where(CalendarOverride.day >= today.replace(month=1, day=1))
                                   .order_by(CalendarOverride.day)).all()
    calendar = calendar_services.get_calendar(db.session)
    # The years in view, plus any later year the director changed or imported.
    years = {*watched_years(), *(o.day.year for o in overrides),
             *(year for year in calendar.imported_years if year >= today.year)}
    return render_template(
        "director/settings.html", items=items, types=types, stage_of=stage_of, overrides=overrides,
        unconfirmed=unconfirmed_years(), override_form=forms.OverrideForm(),
        year_sources=calendar_services.year_sources(db.session, calendar, years),
        import_form=forms.ImportForm(year=today.year + 1), action=forms.ActionForm(), today=today)


def _stage_choices():
    stages = db.session.scalars(select(StageTemplate).join(ProjectType)
                                .order_by(ProjectType.code, StageTemplate.order)).all()
    return [SelectChoice(0, _("（不调整）"))] + [SelectChoice(s.id, f"{s.project_type.name} · {s.order}. {s.name}",
                                                          USER_DATA)
                                             for s in stages]


@bp.route("/items/<int:item_id>", methods=["GET", "POST"])
@role_required("director")
def edit_item(item_id):
    item = db.get_or_404(ApprovalItem, item_id)
    form = forms.ItemForm(obj=item)
    form.stage_id.choices = _stage_choices()
    if form.validate_on_submit():
        try:
            services.update_item(db.session, clock.now(), current_user, item, name=form.name.data,
                                 statutory_days=form.statutory_days.data, promised_days=form.promised_days.data,
                                 immediate=form.immediate.data, deemed_consent_allowed=form.deemed_consent_allowed.data)
            if form.stage_id.data:
                stage = db.get_or_404(StageTemplate, form.stage_id.data)
                services.move_item_to_stage(db.session, clock.now(), current_user, item, stage)
            _done(_("审批事项 %(code)s 已保存", code=item.code))
            return redirect(url_for("director.settings") + "#items")
        except DomainError as error:
            _failed(error)
    if request.method == "GET":
        form.stage_id.data = 0
    return render_template("director/item.html", item=item, form=form)


@bp.route("/project-types/<int:type_id>", methods=["GET", "POST"])
@role_required("director")
def edit_project_type(type_id):
    ptype = db.get_or_404(ProjectType, type_id)
    form = forms.ProjectTypeForm(obj=ptype, prefix="type")
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.update_project_type(db.session, clock.now(), current_user, ptype, name=form.name.data,
                                         target_days=form.target_days.data)
            _done(_("项目类型 %(code)s 已保存", code=ptype.code))
            return redirect(url_for("director.edit_project_type", type_id=ptype.id))
        except DomainError as error:
            _failed(error)
    stage_forms = [(s, forms.StageForm(prefix=f"stage{s.id}", formdata=None, name=s.name,
                                       item_codes="|".join(s.item_codes))) for s in ptype.stages]
    return render_template("director/project_type.html", ptype=ptype, form=form, stage_forms=stage_forms,
                           new_stage=forms.StageForm(prefix="new", formdata=None))


@bp.post("/stages/<int:stage_id>")
@role_required("director")
def edit_stage(stage_id):
    stage = db.get_or_404(StageTemplate, stage_id)
    form = forms.StageForm(prefix=f"stage{stage.id}")
    if form.validate_on_submit():
        try:
            services.update_stage(db.session, clock.now(), current_user, stage, name=form.name.data,
                                  item_codes=form.item_codes.data.split("|"))
            _done(_("第%(n)s阶段已保存", n=stage.order))
        except DomainError as error:
            _failed(error)
    else:
        _form_failed(form)
    return redirect(url_for("director.edit_project_type", type_id=stage.project_type_id))


@bp.post("/project-types/<int:type_id>/stages")
@role_required("director")
def add_stage(type_id):
    ptype = db.get_or_404(ProjectType, type_id)
    form = forms.StageForm(prefix="new")
    if form.validate_on_submit():
        try:
            stage = services.add_stage(db.session, clock.now(), current_user, ptype, name=form.name.data,
                                       item_codes=form.item_codes.data.split("|"))
            _done(_("已新增第%(n)s阶段", n=stage.order))
        except DomainError as error:
            _failed(error)
    else:
        _form_failed(form)
    return redirect(url_for("director.edit_project_type", type_id=ptype.id))


@bp.post("/calendar/overrides")
@role_required("director")
def set_override():
    form = forms.OverrideForm()
    if form.validate_on_submit():
        try:
            calendar_services.set_override(db.session, clock.now(), form.day.data, form.kind.data == "workday",
                                           form.note.data or "", current_user.id)
            _done(_("%(day)s 已设为%(kind)s", day=form.day.data.isoformat(),
                    kind=_("工作日") if form.kind.data == "workday" else _("休息日")))
        except calendar_services.CalendarError as error:
            db.session.rollback()
            flash(str(error), "error")
    else:
        _form_failed(form)
    return redirect(url_for("director.settings") + "#calendar")


@bp.post("/calendar/overrides/remove")
@role_required("director")
def remove_override():
    form = forms.RemoveOverrideForm()
    if form.validate_on_submit() and calendar_services.remove_override(db.session, form.day.data):
        _done(_("已撤销 %(day)s 的调整", day=form.day.data.isoformat()))
    else:
        flash(_("没有可撤销的调整"), "error")
    return redirect(url_for("director.settings") + "#calendar")


@bp.post("/calendar/import")
@role_required("director")
def import_calendar():
    form = forms.ImportForm()
    if not form.validate_on_submit():
        _form_failed(form)
        return redirect(url_for("director.settings") + "#calendar")
    text = form.text.data or ""
    if form.file.data:
        raw = form.file.data.read(200_000)
        try:
            text = decode_text(raw)
        except UnreadableFile as error:
            flash(_("文件无法读取（须为 UTF-8 或 GBK 编码的 CSV）：%(why)s", why=page_message(error)), "error")
            return redirect(url_for("director.settings") + "#calendar")
    if not text.strip():
        flash(_("请选择文件或粘贴 CSV 内容"), "error")
        return redirect(url_for("director.settings") + "#calendar")
    try:
        rows = calendar_services.parse_arrangement_csv(text)
        result = calendar_services.import_arrangement(db.session, clock.now(), form.year.data, rows, current_user.id,
                                                      note=form.note.data or "")
        _done(_("已导入 %(year)s 年官方放假安排：%(n)s 天", year=result.year, n=result.imported))
        if result.kept_overrides:
            flash(_("以下日期保留了您的手工调整：%(days)s",
                    days="、".join(d.isoformat() for d in result.kept_overrides)), "info")
    except calendar_services.CalendarError as error:
        db.session.rollback()
        flash(_("导入失败，未写入任何内容：%(error)s", error=str(error)), "error")
    return redirect(url_for("director.settings") + "#calendar")


# -- rankings ----------------------------------------------------------------------


def default_period(today: date) -> figures.Period:
    """The rankings page opens on the last full month (a month to date is too young to compare)."""
    return last_complete("monthly", today)


def requested_period() -> tuple[figures.Period, str | None]:
    """The period of ``from``/``to`` (by default the last full month), or the default period and the
    form's message when the range is not a date, reversed or too long (never silently narrowed or swapped).

    With one end given the other takes the API's default (``period_between``: ``to`` today, ``from``
    the first of ``to``'s month)."""
    today = _today()
    asked = {}
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()
        try:
            asked[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            return default_period(today), _("“%(value)s”不是有效日期，请按 年-月-日 填写。", value=raw)
    if asked["from"] is None and asked["to"] is None:
        return default_period(today), None
    try:
        return period_between(asked["from"], asked["to"], today), None
    except BadInput as error:
        if "from" in error.fields:
            return default_period(today), _(
                "“从”（%(start)s）晚于“至”（%(end)s），请重新选择日期。", start=asked["from"].isoformat(),
                end=(asked["to"] or today).isoformat())
        return default_period(today), _("统计期间最长 %(days)d 天，请缩短日期范围。", days=MAX_PERIOD_DAYS)


def chart_data(departments: list[dict], trend: list[dict], months: list[dict]) -> dict:
    return {
        "trend": {"labels": [w["week"].strftime("%m-%d") for w in trend],
                  "on_time": [None if w["on_time_rate"] is None else round(w["on_time_rate"] * 100, 1) for w in trend],
                  "early": [None if w["early_rate"] is None else round(w["early_rate"] * 100, 1) for w in trend],
                  "red": [w["red"] for w in trend], "yellow": [w["yellow"] for w in trend]},
        "months": {"labels": [m["month"].strftime("%Y-%m") for m in months],
                   "on_time": [None if m["on_time_rate"] is None else round(m["on_time_rate"] * 100, 1)
                               for m in months],
                   "satisfaction": [m["satisfaction"] for m in months],
                   "ratings": [m["ratings"] for m in months], "tasks": [m["tasks"] for m in months]},
        "departments": {"labels": [d["department_name"] for d in departments if d["tasks"]],
                        "on_time": [round(d["on_time_rate"] * 100, 1) for d in departments if d["tasks"]],
                        "red": [d["red"] for d in departments if d["tasks"]],
                        "yellow": [d["yellow"] for d in departments if d["tasks"]]},
    }


@bp.get("/rankings")
@role_required("director")
def rankings():
    period, period_error = requested_period()
    calendar, tz = calendar_services.get_calendar(db.session), clock.hall_tz()
    departments = figures.department_figures(db.session, calendar, period, tz)
    agents = figures.agent_figures(db.session, calendar, period, tz)
    types = figures.project_type_figures(db.session, calendar, period, tz)
    visits = {row["project_type"]: row for row in figures.visit_figures(db.session, period, tz)}
    trend_start = period.end - timedelta(days=period.end.weekday() + 7 * (TREND_WEEKS - 1))
    trend = figures.weekly_trend(db.session, figures.Period(trend_start, period.end), tz)
    back = period.end.year * 12 + period.end.month - 1 - (TREND_MONTHS - 1)
    months_start = date(back // 12, back % 12 + 1, 1)
    months = figures.monthly_trend(db.session, figures.Period(months_start, period.end), tz)
    ranked = sorted(departments, key=lambda d: (d["tasks"] == 0, -(d["on_time_rate"] or 0), d["red"],
                                                d["department"]))
    return render_template("director/rankings.html", period=period, departments=ranked, agents=agents, types=types,
                           visits=visits, stars=figures.star_figures(db.session),
                           trend=trend, months=months, charts=chart_data(ranked, trend, months), today=_today(),
                           period_error=period_error,
                           asked={name: request.args.get(name, "") for name in ("from", "to")}
                           ), 400 if period_error else 200


# -- reports -----------------------------------------------------------------------


@bp.get("/reports")
@role_required("director")
def reports():
    return render_template("director/reports.html", reports=list_reports(db.session), names=PERIOD_LABELS,
                           pending=pending_reports(db.session), form=forms.GenerateReportForm())


@bp.get("/reports/status")
@role_required("director")
def report_status():
    """For the reports page only (not part of API.md): the state of the reports named by ``key``
    (``weekly:2026-11-16``, repeatable), and for each kept one its table row, so the page turns a
    pending row into download links without being reloaded (static/js/report-status.js)."""
    keys = request.args.getlist("key")[:20]
    row = get_template_attribute("director/_report_row.html", "report_row")
    answer = {}
    for key, state in report_states(db.session, keys).items():
        entry = {"state": state["state"]}
        if state["state"] == "ready":
            entry["html"] = str(row(state["report"], PERIOD_LABELS))
        else:
            entry["attempts"] = state["attempts"]
        answer[key] = entry
    response = jsonify({"reports": answer})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/reports")
@role_required("director")
def generate_report():
    form = forms.GenerateReportForm()
    if form.validate_on_submit():
        job = schedule_report(db.session, clock.now(), form.period.data)
        _done(_("已提交生成%(name)s，生成后下方自动出现下载链接", name=PERIOD_LABELS[form.period.data]) if job
              else _("该期报表已提交或已生成"))
    else:
        _form_failed(form)
    return redirect(url_for("director.reports"))


@bp.get("/reports/<int:report_id>.<kind>")
@role_required("director")
def download_report(report_id, kind):
    if kind not in ("csv", "xlsx"):
        abort(404)
    from agency.director.api import report_file
    return report_file(report_id, kind)


# -- the director's home page --------------------------------------------------------


@figure_source("director")
def home_figures(session, user, now):
    """Real numbers for the director's home page; the calendar warning first (R1)."""
    figures_ = []
    for year in unconfirmed_years():
        figures_.append(Figure(_("%(year)s 年工作日历未确认（请导入官方放假安排）", year=year), year, "bad",
                               url_for("director.settings") + "#calendar"))
    unassigned = unassigned_projects(session, limit=0)[1]
    figures_.append(Figure(_("待指派项目"), unassigned, "warn" if unassigned else "ok", url_for("director.workload")))
    escalations = session.scalar(select(func.count()).select_from(Escalation).where(Escalation.resolved_at.is_(None)))
    awaiting = session.scalar(select(func.count()).select_from(Project).where(awaiting_decision()))
    if awaiting:
        figures_.append(Figure(_("不予办理待决定"), awaiting, "bad", url_for("director.workload") + "#awaiting"))
    figures_.append(Figure(_("待督办"), escalations, "bad" if escalations else "ok", url_for("supervision.board")))
    month = figures.Period(_today().replace(day=1), _today())
    lo, hi = month.bounds(clock.hall_tz())
    red = session.scalar(select(func.count()).select_from(Card).where(Card.color == "red", Card.at >= lo, Card.at < hi))
    figures_.append(Figure(_("本月红牌"), red, "bad" if red else "ok", url_for("supervision.board")))
    unreachable = len(services.unreachable_departments(session))
    if unreachable:
        figures_.append(Figure(_("无可联系联络员的部门"), unreachable, "bad", url_for("director.liaisons")))
    return figures_

