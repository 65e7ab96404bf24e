"""Meeting pages: the agent schedules, records and closes; the liaison confirms or writes; the enterprise
reads; the director sees the calendar.  Domain errors become a message on the page."""
from calendar import Calendar as MonthCalendar
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from agency import clock
from agency.calendar.services import get_calendar
from agency.catalog.models import Department
from agency.errors import DomainError, RuleViolation, TransitionNotAllowed
from agency.extensions import db
from agency.meetings import ics, rules, services
from agency.meetings.forms import (DECISION_LABELS, KIND_LABELS, SOURCE_LABELS, STATUS_LABELS, CancelForm, CloseForm,
                                   ConfirmForm, OpinionForm, RescheduleForm, ScheduleForm)
from agency.meetings.minutes import outcome_lines
from agency.meetings.models import MEETING_KINDS, MEETING_STATUSES, OPEN_MEETING_STATUSES, Invitation, Meeting
from agency.people.models import User
from agency.people.access import get_meeting, get_project, is_assigned_agent, visible_meetings, visible_projects
from agency.projects.models import Project
from agency.tasks.models import OPEN_STATUSES
from agency.web.access import role_required
from agency.web.errors import page_message
from agency.web.filters import localtime, user_data
from agency.web.home import meetings_to_record
from agency.web.listing import ListArgs, of_projects_matching, paginate, within

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


def _me():
    return current_user._get_current_object()


def _local(value: datetime) -> datetime:
    """A naive datetime-local value read as hall time."""
    return value.replace(tzinfo=clock.hall_tz()) if value.tzinfo is None else value


def _failed(error: DomainError) -> None:
    db.session.rollback()
    flash(_("无法办理：%(message)s", message=page_message(error)), "error")


@bp.app_context_processor
def meeting_helpers():
    def project_meetings(project):
        if not current_user.is_authenticated:
            return []
        statement = visible_meetings(_me()).where(Meeting.project_id == project.id)
        return db.session.scalars(statement.order_by(Meeting.starts_at.desc(), Meeting.id.desc())).all()
    return {"project_meetings": project_meetings, "meeting_kind_label": lambda k: KIND_LABELS.get(k, k),
            "meeting_decision_label": lambda d: DECISION_LABELS.get(d, d or ""),
            "meeting_status_label": lambda s: STATUS_LABELS.get(s, s),
            "meeting_source_label": lambda s: SOURCE_LABELS.get(s, s or "")}


# -- lists -----------------------------------------------------------------------------------------------

STATES = ("to_record",)


class MeetingFilters:
    """The filters of a meeting list, from the query string (agency.web.listing); a bad value is ignored."""

    def __init__(self, user):
        read = ListArgs()
        self.user = user
        self.q = read.text("q")
        self.status = read.choice("status", MEETING_STATUSES)
        self.kind = read.choice("kind", MEETING_KINDS)
        self.department = read.integer("department") if user.role != "liaison" else None
        self.agent = read.integer("agent") if user.role == "director" else None
        self.state = read.choice("state", STATES) if user.role == "agent" else ""
        self.start, self.end = read.day("start"), read.day("end")
        self.page = read.page

    @property
    def active(self) -> bool:
        return bool(self.q or self.status or self.kind or self.department or self.agent or self.state
                    or self.start or self.end)

    def args(self) -> dict:
        """The filters as query arguments (the calendar's month links keep them)."""
        values = {"q": self.q, "status": self.status, "kind": self.kind, "department": self.department,
                  "agent": self.agent, "state": self.state, "start": self.start, "end": self.end}
        return {k: v for k, v in values.items() if v}

    def apply(self, statement, now: datetime, dates: bool = True):
        if self.q:  # through the project: the same search (and index) as GET /projects?q=
            statement = statement.where(of_projects_matching(Meeting.project_id, self.q))
        if self.status:
            statement = statement.where(Meeting.status == self.status)
        if self.kind:
            statement = statement.where(Meeting.kind == self.kind)
        if self.department:
            statement = statement.where(Meeting.id.in_(select(Invitation.meeting_id)
                                                       .where(Invitation.department_id == self.department)))
        if self.agent:
            carried = select(Project.id).where(Project.agent_id == self.agent)
            statement = statement.where(Meeting.project_id.in_(carried))
        if self.state == "to_record":
            statement = statement.where(meetings_to_record(self.user, now))
        if dates:
            statement = statement.where(*within(Meeting.starts_at, self.start, self.end))
        return statement


def _list_context(filters: MeetingFilters) -> dict:
    departments = db.session.scalars(select(Department).order_by(Department.code)).all()
    agents = (db.session.scalars(select(User).where(User.role == "agent").order_by(User.name, User.username)).all()
              if filters.user.role == "director" else [])
    return {"filters": filters, "departments": departments, "agents": agents,
            "statuses": [(s, str(STATUS_LABELS[s])) for s in MEETING_STATUSES],
            "kinds": [(k, str(KIND_LABELS[k])) for k in MEETING_KINDS]}


@bp.get("/")
@role_required("agent", "enterprise", "director")
def index():
    """The agent's meetings (and the projects it may schedule for); others see the meetings they may read.
    Upcoming meetings first, soonest first; the rest (to close, and history) paged, newest first."""
    user = _me()
    now = clock.now()
    filters = MeetingFilters(user)
    visible = filters.apply(visible_meetings(user), now)
    coming = Meeting.status.in_(OPEN_MEETING_STATUSES) & (Meeting.starts_at >= now)
    upcoming = db.session.scalars(visible.where(coming).order_by(Meeting.starts_at, Meeting.id).limit(200)
                                  .options(joinedload(Meeting.project))).all()
    page = paginate(db.session, visible.where(~coming).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
                    .options(joinedload(Meeting.project)), filters.page)
    projects = []
    if user.role == "agent":
        projects = [p for p in db.session.scalars(visible_projects(user).where(
            Project.status.in_(("entrusted", "in_progress"))).order_by(Project.id.desc())) if is_assigned_agent(user, p)]
    return render_template("meetings/index.html", upcoming=upcoming, others=page.items, page=page, projects=projects,
                           now=now, **_list_context(filters))


@bp.get("/invitations")
@role_required("liaison")
def invitations():
    """My department's invitations, with confirm and written opinion on each open one."""
    user = _me()
    now = clock.now()
    filters = MeetingFilters(user)
    statement = filters.apply(select(Invitation).join(Meeting).where(Invitation.department_id == user.department_id),
                              now)
    page = paginate(db.session, statement.order_by(Meeting.starts_at.desc(), Invitation.id.desc()).options(
        joinedload(Invitation.meeting).joinedload(Meeting.project)), filters.page)
    rows = page.items
    return render_template("meetings/invitations.html", rows=rows, now=now, page=page, **_list_context(filters),
                           open_rows=[i for i in rows if i.meeting.status == "scheduled" and i.meeting.starts_at > now])


@bp.get("/calendar")
@role_required("director")
def calendar():
    """Every meeting of a month, day by day (narrowed by the filters, which the month links keep)."""
    today = clock.local(clock.now()).date()
    try:
        year, month = (int(x) for x in request.args.get("month", f"{today:%Y-%m}").split("-"))
        first = date(year, month, 1)
    except ValueError:
        abort(400)
    filters = MeetingFilters(_me())
    weeks = MonthCalendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start = datetime.combine(weeks[0][0], time(), tzinfo=clock.hall_tz())
    end = datetime.combine(weeks[-1][-1] + timedelta(days=1), time(), tzinfo=clock.hall_tz())
    by_day: dict[date, list[Meeting]] = {}
    query = filters.apply(select(Meeting).options(joinedload(Meeting.project)), clock.now(), dates=False)
    for meeting in services.meetings_between(db.session, start, end, query):
        by_day.setdefault(clock.local(meeting.starts_at).date(), []).append(meeting)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return render_template("meetings/calendar.html", weeks=weeks, by_day=by_day, first=first, today=today,
                           working=get_calendar(db.session).is_working_day, previous=previous, following=following,
                           **_list_context(filters))


# -- scheduling ----------------------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@role_required("agent")
def schedule():
    project_id = request.args.get("project", type=int) or abort(404)
    project = get_project(db.session, _me(), project_id)
    if not is_assigned_agent(_me(), project):
        abort(403)
    form = ScheduleForm()
    departments = db.session.scalars(select(Department).order_by(Department.code)).all()
    form.departments.choices = [SelectChoice(d.code, f"{d.name}（{d.code}）") for d in departments]
    open_codes = sorted({t.department.code for t in project.tasks if t.status in OPEN_STATUSES})
    if request.method == "GET":
        form.departments.data = open_codes
    error, identical, similar = None, None, []
    if form.validate_on_submit():
        starts_at = _local(form.starts_at.data)
        identical, similar = similar_meetings(project, form.kind.data, starts_at)
        if not form.departments.data:  # an empty choice never means "the defaults" on the page
            form.departments.errors = [_("请至少勾选一个邀请部门")]
        elif identical is not None:
            form.starts_at.errors = [_("该项目在这一时间已安排了同类会议，请改期或查看已安排的会议。")]
        elif similar and not request.form.get("confirm_similar"):
            pass  # warned on the page: the agent confirms or goes back
        else:
            try:
                meeting = services.schedule_meeting(
                    db.session, clock.now(), _me(), project, kind=form.kind.data, starts_at=starts_at,
                    place=form.place.data, department_codes=form.departments.data)
                warnings = rules.meeting_warnings(get_calendar(db.session), meeting, clock.now())
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                error = page_message(exc)  # every refusal of schedule_meeting carries its page text
            else:
                flash(_("会议已安排，邀请正通过各部门队列送达。"), "success")
                for warning in warnings:
                    flash(warning, "warning")
                return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_template("meetings/schedule.html", form=form, project=project, error=error, open_codes=open_codes,
                           identical=identical, similar=similar)


def similar_meetings(project: Project, kind: str, starts_at: datetime) -> tuple[Meeting | None, list[Meeting]]:
    """A live meeting of the project and kind at the same time (the database allows one), and those on the
    same day at another time (a likely double entry: the page asks before scheduling another)."""
    day = clock.local(starts_at).date()
    start = datetime.combine(day, time(), tzinfo=clock.hall_tz())
    rows = db.session.scalars(select(Meeting).where(
        Meeting.project_id == project.id, Meeting.kind == kind, Meeting.status != "cancelled",
        Meeting.starts_at >= start, Meeting.starts_at < start + timedelta(days=1)).order_by(Meeting.starts_at)).all()
    identical = next((m for m in rows if m.starts_at == starts_at), None)
    return identical, [m for m in rows if m is not identical]


# -- one meeting ---------------------------------------------------------------------------------------------


@bp.get("/<int:meeting_id>")
@login_required
def show(meeting_id):
    return _render_show(get_meeting(db.session, _me(), meeting_id))


def _render_show(meeting: Meeting, status: int = 200, close_form: CloseForm | None = None,
                 close_error: str | None = None, *, record_rows: dict | None = None,
                 record_errors: dict | None = None, record_error: str | None = None, **forms):
    """The meeting page; a refused close or record re-renders it with what was typed and the reasons."""
    user = _me()
    now = clock.now()
    is_agent = is_assigned_agent(user, meeting.project)
    mine = meeting.invitation_for(user.department_id) if user.role == "liaison" else None
    reschedule_form = forms.get("reschedule_form")
    if reschedule_form is None:
        reschedule_form = RescheduleForm(formdata=None)
        if meeting.starts_at:
            reschedule_form.starts_at.data = clock.local(meeting.starts_at).replace(tzinfo=None)
            reschedule_form.place.data = meeting.place
    confirm_form = forms.get("confirm_form") or ConfirmForm(
        formdata=None, data={"representative": mine.representative if mine else ""})
    opinion_form = forms.get("opinion_form") or OpinionForm(
        formdata=None, data={"decision": mine.written_decision or "consent", "opinion": mine.written_opinion}
        if mine else None)
    return render_template(
        "meetings/show.html", meeting=meeting, now=now, is_agent=is_agent, mine=mine,
        warnings=rules.meeting_warnings(get_calendar(db.session), meeting, now) if meeting.status == "scheduled" else [],
        due_by=rules.latest_due_delivery(get_calendar(db.session), meeting.starts_at),
        reschedule_form=reschedule_form, cancel_form=forms.get("cancel_form") or CancelForm(formdata=None),
        close_form=close_form or CloseForm(formdata=None), close_error=close_error,
        unrecorded={i.id for i in rules.unrecorded(meeting)} if close_error else set(),
        confirm_form=confirm_form, opinion_form=opinion_form, decisions=DECISION_LABELS,
        record_rows=record_rows or {}, record_errors=record_errors or {}, record_error=record_error,
        can_write=mine is not None and meeting.status == "scheduled" and now < meeting.starts_at), status


def _agent_meeting(meeting_id: int) -> Meeting:
    meeting = get_meeting(db.session, _me(), meeting_id)
    if not is_assigned_agent(_me(), meeting.project):
        abort(403)
    return meeting


def _back(meeting_id: int, anchor: str = ""):
    return redirect(url_for("meetings.show", meeting_id=meeting_id) + anchor)


RECORD_FIELDS = ("attendance", "representative", "decision", "opinion", "findings")


def posted_attendance(meeting: Meeting) -> dict[str, dict]:
    """The record form as typed, one row per invited department (code -> its fields)."""
    return {i.department.code: {name: request.form.get(f"{name}-{i.department.code}", "") for name in RECORD_FIELDS}
            for i in meeting.invitations}


# agency.meetings.services.stance_problem said at the record form's field
RECORD_PROBLEMS = {("decision", "missing"): _l("出席部门须选择表态"), ("decision", "unknown"): _l("请选择有效的表态"),
                   ("opinion", "missing"): _l("附条件同意、反对或需补正时须填写意见")}


def check_attendance(meeting: Meeting, rows: dict[str, dict]) -> dict[str, dict]:
    """The record form's mistakes, by department and field, said as the service would refuse them."""
    errors: dict[str, dict] = {}
    for invitation in meeting.invitations:
        code, row = invitation.department.code, rows[invitation.department.code]
        mine = errors.setdefault(code, {})
        attendance, decision = row["attendance"], row["decision"]
        if attendance not in ("present", "absent"):
            # typed for a department left unrecorded (what the page filled in from before does not count)
            typed = (decision or row["opinion"].strip() not in ("", invitation.opinion or "")
                     or row["representative"].strip() not in ("", invitation.representative or ""))
            if typed:
                mine["attendance"] = _("请选择出席或缺席")
            continue
        problem = services.stance_problem(invitation, attendance == "present", decision or None,
                                          row["opinion"].strip())
        if problem:
            mine[problem[0]] = str(RECORD_PROBLEMS[problem])
    errors = {code: fields for code, fields in errors.items() if fields}
    if not errors and not any(r["attendance"] in ("present", "absent") for r in rows.values()):
        errors[""] = {"attendance": _("请至少记录一个部门的出席或缺席")}
    return errors


@bp.post("/<int:meeting_id>/record")
@role_required("agent")
def record(meeting_id):
    """Record attendance; a mistake shows the form again as typed, each message at its field."""
    meeting = _agent_meeting(meeting_id)
    rows = posted_attendance(meeting)
    errors = check_attendance(meeting, rows)
    if errors:
        return _render_show(meeting, 400, record_rows=rows, record_errors=errors,
                            record_error=_("到会情况未保存，请按提示修改。"))
    entries = [{"department_code": code, "present": row["attendance"] == "present",
                "decision": row["decision"] or None, "opinion": row["opinion"],
                "findings": row["findings"] if meeting.kind == "site_survey" else None,
                "representative": row["representative"] or None}
               for code, row in rows.items() if row["attendance"] in ("present", "absent")]
    try:
        services.record_attendance(db.session, clock.now(), _me(), meeting, entries)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _render_show(get_meeting(db.session, _me(), meeting_id), exc.status, record_rows=rows,
                            record_error=_("到会情况未保存：%(reason)s", reason=page_message(exc)))
    flash(_("到会情况已记录。"), "success")
    return _back(meeting_id, "#record")


@bp.post("/<int:meeting_id>/close")
@role_required("agent")
def close(meeting_id):
    meeting = _agent_meeting(meeting_id)
    form = CloseForm()
    try:
        services.close_meeting(db.session, clock.now(), _me(), meeting, form.conclusion.data or "")
        db.session.commit()
    except RuleViolation as exc:
        if "unrecorded" not in exc.fields:
            _failed(exc)
            return _back(meeting_id, "#close")
        db.session.rollback()
        missing = rules.unrecorded(meeting)
        names = "、".join(f"{i.department.name}（{i.department.code}）" for i in missing)
        return _render_show(meeting, 422, form, _("以下受邀部门尚未记录到会情况，不能闭会：%(names)s。请先记录其出席或缺席。",
                                                 names=names))
    except DomainError as exc:
        _failed(exc)
        return _back(meeting_id, "#close")
    flash(_("会议已闭会，会议纪要已形成。"), "success")
    return redirect(url_for("meetings.minutes", meeting_id=meeting_id))


def _refused(meeting_id: int, error: DomainError, form, name: str, messages: dict):
    """A form refused by the service: shown again as typed, the reason at its field (else the page's flash)."""
    db.session.rollback()
    field = next((f for f in (error.fields or {}) if f in messages and f in form), None)
    if field is None or isinstance(error, TransitionNotAllowed):
        _failed(error)
        return _back(meeting_id)
    form[field].errors = [*form[field].errors, str(messages[field])]
    return _render_show(get_meeting(db.session, _me(), meeting_id), error.status, **{name: form})


@bp.post("/<int:meeting_id>/reschedule")
@role_required("agent")
def reschedule(meeting_id):
    meeting = _agent_meeting(meeting_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        return _render_show(meeting, 400, reschedule_form=form)
    try:
        services.reschedule_meeting(db.session, clock.now(), _me(), meeting, _local(form.starts_at.data),
                                    form.place.data)
        db.session.commit()
    except DomainError as exc:
        return _refused(meeting_id, exc, form, "reschedule_form",
                        {"starts_at": _("会议时间须晚于当前时间；联合预审与联审会议须在工作日召开。")})
    flash(_("会议已改期，已重新送达邀请。"), "success")
    return _back(meeting_id)


@bp.post("/<int:meeting_id>/cancel")
@role_required("agent")
def cancel(meeting_id):
    meeting = _agent_meeting(meeting_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _render_show(meeting, 400, cancel_form=form)
    try:
        services.cancel_meeting(db.session, clock.now(), _me(), meeting, form.reason.data or "")
        db.session.commit()
    except DomainError as exc:
        return _refused(meeting_id, exc, form, "cancel_form", {"reason": _("请填写取消原因")})
    flash(_("会议已取消，已通知受邀部门。"), "success")
    return _back(meeting_id)


@bp.post("/<int:meeting_id>/confirm")
@role_required("liaison")
def confirm(meeting_id):
    meeting = get_meeting(db.session, _me(), meeting_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _render_show(meeting, 400, confirm_form=form)
    try:
        services.confirm_attendance(db.session, clock.now(), _me(), meeting, None, form.representative.data or "")
        db.session.commit()
    except DomainError as exc:
        return _refused(meeting_id, exc, form, "confirm_form", {"representative": _("请填写出席代表姓名")})
    flash(_("已确认出席。"), "success")
    return _back(meeting_id)


@bp.post("/<int:meeting_id>/opinion")
@role_required("liaison")
def opinion(meeting_id):
    meeting = get_meeting(db.session, _me(), meeting_id)
    form = OpinionForm()
    if not form.validate_on_submit():
        return _render_show(meeting, 400, opinion_form=form)
    try:
        services.submit_opinion(db.session, clock.now(), _me(), meeting, None, form.decision.data or "",
                                form.opinion.data or "")
        db.session.commit()
    except DomainError as exc:
        return _refused(meeting_id, exc, form, "opinion_form",
                        {"opinion": _("附条件同意请写明条件；反对请写明理由；需补正请列明材料"),
                         "decision": _("请选择有效的书面意见")})
    flash(_("书面意见已提交。"), "success")
    return _back(meeting_id)


# -- files: minutes and the invitation ----------------------------------------------------------------------


@bp.get("/<int:meeting_id>/minutes")
@login_required
def minutes(meeting_id):
    """The printable minutes."""
    meeting = get_meeting(db.session, _me(), meeting_id)
    if meeting.status != "closed":
        raise TransitionNotAllowed(_("会议尚未闭会，暂无会议纪要。"))
    return render_template("meetings/minutes.html", meeting=meeting, stance_line=stance_text,
                           attendance_line=attendance_text, outcomes=outcome_lines(meeting.minutes))


# agency.meetings.minutes.HOW in the page's language: the page shows each stance in its language, while the
# minutes' text, written once at closing, stays as written.
HOW_LABELS = {"present": _l("到会表态"), "written": _l("会前书面意见"),
              "deemed": _l("缺席默认：经按时邀请未出席，且会前未提交书面意见，视为同意"),
              "none": _l("未形成意见：邀请未在通知期限前送达，不适用缺席默认，需重新邀请")}


def stance_text(invitation) -> Markup:
    """agency.meetings.minutes.stance_line in the page's language, the opinion marked as user data."""
    source = invitation.stance_source
    if source == "deemed":
        return Markup(_("视为同意（%(how)s）")) % {"how": HOW_LABELS["deemed"]}
    if source == "none":
        delivered = (_("邀请送达于%(at)s", at=localtime(invitation.delivered_at)) if invitation.delivered_at
                     else _("邀请未送达"))
        return Markup(_("%(how)s（%(delivered)s）")) % {"how": HOW_LABELS["none"], "delivered": delivered}
    decision = DECISION_LABELS.get(invitation.decision, "") if invitation.decision else ""
    opinion = Markup(_("：")) + user_data(invitation.opinion) if invitation.opinion else ""
    how = HOW_LABELS.get(source) or SOURCE_LABELS.get(source, "")
    return Markup("%s%s") % (decision, opinion) + Markup(_("（%(how)s）")) % {"how": how}


def attendance_text(invitation) -> Markup:
    """agency.meetings.minutes.attendance_line in the page's language."""
    if invitation.attendance == "present":
        who = user_data(invitation.representative) if invitation.representative else _("（未登记代表姓名）")
        return Markup(_("出席，代表：%(who)s")) % {"who": who}
    return Markup(_("缺席"))


@bp.get("/<int:meeting_id>/minutes.txt")
@login_required
def minutes_download(meeting_id):
    meeting = get_meeting(db.session, _me(), meeting_id)
    if meeting.status != "closed":
        raise TransitionNotAllowed(_("会议尚未闭会，暂无会议纪要。"))
    return Response(meeting.minutes, mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="minutes-{meeting.id}.txt"'})


@bp.get("/<int:meeting_id>/invite.ics")
@login_required
def invite_ics(meeting_id):
    meeting = get_meeting(db.session, _me(), meeting_id)
    return Response(ics.build_ics(meeting, clock.now()), mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{ics.ics_filename(meeting)}"'})

