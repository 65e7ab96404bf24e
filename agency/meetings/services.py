"""Joint pre-reviews, site surveys and review meetings (R6): schedule, invite, record, close.

Absence = consent (缺席默认) is applied once, at closing: a department duly
invited (its invitation delivered at least the notice period before the
start), recorded absent by the agent, and without a written opinion sent before the start, is
deemed to consent; at a joint review its open tasks on the project close as
deemed consent with reason ``absence``.  A department not duly invited is
never deemed: the agent is told to invite it again.  A meeting with any
invited department's attendance unrecorded cannot be closed: absence is a
fact someone recorded, never a default.
"""
import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agency.audit.services import SYSTEM, Actor, record
from agency.calendar.services import get_calendar
from agency.catalog.models import Department
from agency.clock import local
from agency.errors import BadInput, NotFound, RuleViolation, TransitionNotAllowed
from agency.jobs.services import enqueue_job
from agency.meetings import ics, rules
from agency.meetings.minutes import build_minutes
from agency.meetings.models import (DECISION_NAMES, MEETING_KINDS, OPEN_MEETING_STATUSES, WRITTEN_DECISIONS,
                                    Invitation, Meeting)
from agency.notifications.services import notify_many
from agency.people.access import require_carrying_agent
from agency.people.models import User
from agency.projects.models import Project
from agency.tasks.models import OPEN_STATUSES, RUNNING_STATUSES, Task
from workers.queues import department_queue

REVIEW_KINDS = ("pre_review", "joint_review")  # refused on a non-working day; a site survey only warns
DEFAULT_LENGTH = ics.DEFAULT_LENGTH


def _when(moment: datetime) -> str:
    return f"{local(moment):%Y-%m-%d %H:%M}"


def _link(meeting: Meeting) -> str:
    return f"/meetings/{meeting.id}"


def _require_agent(user: User, project: Project) -> None:
    require_carrying_agent(user, project, "arrange its meetings")


def _directors(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == "director", User.active.is_(True))))


def _check_time(session: Session, now: datetime, kind: str, starts_at: datetime, ends_at: datetime | None) -> None:
    if starts_at is None or starts_at.tzinfo is None:
        raise BadInput("a start time with its UTC offset is required", fields={"starts_at": "ISO 8601 with offset"},
                       shown=_l("请填写会议开始时间。"))
    if ends_at is not None and ends_at <= starts_at:
        raise BadInput("the meeting must end after it starts", fields={"ends_at": "after starts_at"},
                       shown=_l("会议结束时间须晚于开始时间。"))
    if starts_at <= now:
        raise RuleViolation("a meeting cannot be scheduled in the past", fields={"starts_at": "must be in the future"},
                            shown=_l("会议时间已过：不能把会议安排在过去的时间。"))
    calendar = get_calendar(session)
    if kind in REVIEW_KINDS and not rules.is_working_time(calendar, starts_at):
        raise RuleViolation(f"{local(starts_at):%Y-%m-%d} is not a working day; reviews are held on working days",
                            fields={"starts_at": "not a working day"},
                            shown=_l("%(day)s 不是工作日：联合预审和联审会议只在工作日举行。", day=f"{local(starts_at):%Y-%m-%d}"))


def _departments(session: Session, project: Project, codes: list[str] | None) -> list[Department]:
    """The invited departments: those named, else those with open tasks on the project."""
    if codes is None:
        departments = list(session.scalars(
            select(Department).where(Department.id.in_(
                select(Task.department_id).where(Task.project_id == project.id, Task.status.in_(OPEN_STATUSES))))
            .order_by(Department.code)))
        if not departments:
            raise BadInput("no department has open tasks on this project: name the departments to invite",
                           fields={"department_codes": "at least one department"},
                           shown=_l("本项目没有在办的部门任务，请勾选要邀请的部门。"))
        wanted = departments
    else:
        codes = list(dict.fromkeys(c.strip().upper() for c in codes if c and c.strip()))
        if not codes:
            raise BadInput("invite at least one department", fields={"department_codes": "at least one department"},
                           shown=_l("请至少邀请一个部门。"))
        found = {d.code: d for d in session.scalars(select(Department).where(Department.code.in_(codes)))}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise BadInput(f"unknown department: {', '.join(unknown)}",
                           fields={"department_codes": f"unknown: {', '.join(unknown)}"},
                           shown=_l("未知的部门：%(codes)s", codes=", ".join(unknown)))
        wanted = [found[c] for c in codes]
    unreachable = [d for d in wanted if d.reachable_liaison() is None]
    if unreachable:
        names = "、".join(d.name for d in unreachable)
        raise RuleViolation(f"no liaison can receive the invitation of: {', '.join(d.code for d in unreachable)} ({names})",
                            fields={"department_codes": "without a reachable liaison: "
                                    + ", ".join(d.code for d in unreachable)},
                            shown=_l("以下部门没有可接收邀请的联络员：%(codes)s", codes=", ".join(d.code for d in unreachable)))
    return wanted


def _send_invitations(session: Session, now: datetime, meeting: Meeting) -> None:
    """One delivery job per invitation on the department's queue, for this version of the meeting."""
    for invitation in meeting.invitations:
        enqueue_job(session, now, department_queue(invitation.department.code), "workers.meetings.deliver_invitation",
                    invitation.id, meeting.sequence, key=f"deliver-invitation:{invitation.id}:{meeting.sequence}")


# -- scheduling ------------------------------------------------------------------------------------


def schedule_meeting(session: Session, now: datetime, user: User, project: Project, *, kind: str,
                     starts_at: datetime, place: str, department_codes: list[str] | None = None,
                     ends_at: datetime | None = None) -> Meeting:
    """The agent schedules a meeting; each invited department gets an invitation through its queue."""
    _require_agent(user, project)
    if kind not in MEETING_KINDS:
        raise BadInput("unknown kind of meeting", fields={"kind": f"one of {', '.join(MEETING_KINDS)}"},
                       shown=_l("未知的会议类型。"))
    place = (place or "").strip()
    if not place:
        raise BadInput("a place is required", fields={"place": "required"},
                       shown=_l("请填写会议地点。"))
    if not project.is_open:
        raise TransitionNotAllowed(f"project is {project.status}; no meeting can be scheduled",
                                   shown=_l("项目已办结或终止，不能再安排会议。"))
    _check_time(session, now, kind, starts_at, ends_at)
    departments = _departments(session, project, department_codes)
    meeting = Meeting(project_id=project.id, kind=kind, status="scheduled", starts_at=starts_at,
                      ends_at=ends_at or starts_at + DEFAULT_LENGTH, place=place, scheduled_by_id=user.id,
                      sequence=0, conclusion="", minutes="", created_at=now)
    _once(session, lambda: session.add(meeting), kind, starts_at)
    for department in departments:
        liaison = department.reachable_liaison()
        session.add(Invitation(meeting_id=meeting.id, department_id=department.id, liaison_id=liaison.id,
                               representative="", written_opinion="", opinion="", findings=""))
    session.flush()
    session.refresh(meeting)
    names = "、".join(d.name for d in departments)
    record(session, now, Actor.of(user), "meeting.scheduled", meeting,
           after={"kind": kind, "starts_at": starts_at.isoformat(), "place": place,
                  "departments": [d.code for d in departments]},
           detail=f"安排{meeting.kind_name}：{_when(starts_at)}，{place}；邀请{names}")
    _send_invitations(session, now, meeting)
    notify_many(session, now, [project.enterprise], f"{meeting.kind_name}已安排：{project.name}",
                f"时间{_when(starts_at)}，地点{place}。", key=f"meeting-scheduled:{meeting.id}",
                link=_link(meeting), project_id=project.id)
    return meeting


def _once(session: Session, write, kind: str, starts_at: datetime) -> None:
    """``write()`` flushed in a SAVEPOINT: the project's live meeting of ``kind`` at ``starts_at`` exists once
    (uq_meetings_project_kind_starts); a double submit racing past every check gets 409."""
    try:
        with session.begin_nested():
            write()
    except IntegrityError:
        raise TransitionNotAllowed(f"a {kind} meeting of this project is already scheduled at {starts_at.isoformat()}",
                                   fields={"starts_at": "already scheduled"},
                                   shown=_l("本项目已在 %(when)s 安排了同类会议。", when=_when(starts_at))) from None


def reschedule_meeting(session: Session, now: datetime, user: User, meeting: Meeting, starts_at: datetime,
                       place: str | None = None) -> Meeting:
    """New time (and place): everyone invited gets the new invitation; delivery and notice start again."""
    _require_agent(user, meeting.project)
    if meeting.status != "scheduled":
        raise TransitionNotAllowed(f"meeting is {meeting.status}; it can no longer be rescheduled",
                                   shown=_l("会议已闭会或已取消，不能再改期。"))
    place = meeting.place if place is None or not place.strip() else place.strip()
    _check_time(session, now, meeting.kind, starts_at, None)
    before = {"starts_at": meeting.starts_at.isoformat(), "place": meeting.place, "sequence": meeting.sequence}
    length = (meeting.ends_at or meeting.starts_at + DEFAULT_LENGTH) - meeting.starts_at
    meeting.starts_at, meeting.ends_at, meeting.place = starts_at, starts_at + length, place
    meeting.sequence += 1
    meeting.reminded_at = None
    for invitation in meeting.invitations:
        invitation.delivered_at = invitation.duly_invited = invitation.confirmed_at = None
        invitation.representative = ""
    _once(session, session.flush, meeting.kind, starts_at)
    record(session, now, Actor.of(user), "meeting.rescheduled", meeting, before=before,
           after={"starts_at": starts_at.isoformat(), "place": place, "sequence": meeting.sequence},
           detail=f"{meeting.kind_name}改期：{_when(starts_at)}，{place}（重新送达邀请）")
    _send_invitations(session, now, meeting)
    notify_many(session, now, [meeting.project.enterprise], f"{meeting.kind_name}改期：{meeting.project.name}",
                f"新时间{_when(starts_at)}，地点{place}。", key=f"meeting-rescheduled:{meeting.id}:{meeting.sequence}",
                link=_link(meeting), project_id=meeting.project_id)
    return meeting


def cancel_meeting(session: Session, now: datetime, user: User, meeting: Meeting, reason: str) -> Meeting:
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("a reason is required", fields={"reason": "required"},
                       shown=_l("请填写原因。"))
    _require_agent(user, meeting.project)
    if meeting.status != "scheduled":
        raise TransitionNotAllowed(f"meeting is {meeting.status}; it can no longer be cancelled",
                                   shown=_l("会议已闭会或已取消，不能再取消。"))
    meeting.status, meeting.cancelled_at = "cancelled", now
    meeting.sequence += 1
    session.flush()
    record(session, now, Actor.of(user), "meeting.cancelled", meeting, before={"status": "scheduled"},
           after={"status": "cancelled", "reason": reason, "sequence": meeting.sequence},
           detail=f"{meeting.kind_name}（{_when(meeting.starts_at)}）已取消：{reason}")
    _send_invitations(session, now, meeting)
    notify_many(session, now, [meeting.project.enterprise], f"{meeting.kind_name}已取消：{meeting.project.name}",
                reason, key=f"meeting-cancelled:{meeting.id}", link=_link(meeting), project_id=meeting.project_id)
    return meeting


def deliver_invitation(session: Session, now: datetime, invitation_id: int, sequence: int | None = None) -> str:
    """The department queue's job: put the invitation (or its cancellation) in front of the reachable liaison.

    Records the delivery time and whether it came within the notice period.
    Returns what happened: delivered, cancelled, stale, skipped, undeliverable.
    """
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        return "skipped"
    meeting = invitation.meeting
    if sequence is not None and sequence != meeting.sequence:
        return "stale"  # the meeting changed since; a newer job carries the new version
    department, project = invitation.department, meeting.project
    liaison = department.reachable_liaison()
    attachment = {"filename": ics.ics_filename(meeting), "content_type": f"text/calendar; method={ics.method_of(meeting)}",
                  "content": ics.build_ics(meeting, now, [invitation]).decode()}
    if meeting.status == "cancelled":
        notify_many(session, now, [liaison], f"会议取消：{meeting.kind_name}（{project.name}）",
                    f"原定{_when(meeting.starts_at)}于{meeting.place}召开的{meeting.kind_name}已取消。",
                    key=f"invitation-cancelled:{invitation.id}:{meeting.sequence}", link=_link(meeting),
                    project_id=project.id, attachment=attachment)
        return "cancelled"
    if meeting.status != "scheduled" or invitation.delivered_at is not None:
        return "skipped"
    if liaison is None:
        notify_many(session, now, [*_directors(session), project.agent], f"会议邀请无法送达：{department.name}",
                    f"{department.name}A、B角均不可用，{meeting.kind_name}（{_when(meeting.starts_at)}）的邀请未送达，"
                    "该部门不适用缺席默认。", key=f"invitation-undeliverable:{invitation.id}:{meeting.sequence}",
                    link=_link(meeting), project_id=project.id)
        return "undeliverable"
    duly = rules.is_duly_invited(get_calendar(session), meeting.starts_at, now)
    invitation.delivered_at, invitation.duly_invited, invitation.liaison_id = now, duly, liaison.id
    session.flush()
    latest = rules.latest_due_delivery(get_calendar(session), meeting.starts_at)
    record(session, now, SYSTEM, "meeting.invitation_delivered", invitation, project_id=project.id,
           after={"department": department.code, "liaison_id": liaison.id, "duly_invited": duly,
                  "sequence": meeting.sequence},
           detail=f"{meeting.kind_name}邀请送达{department.name}（{liaison.display_name}）"
                  + ("，按时送达" if duly else f"，晚于通知期限（应不晚于{_when(latest)}），不适用缺席默认"))
    notify_many(session, now, [liaison], f"会议邀请：{meeting.kind_name}（{project.name}）",
                f"{_when(meeting.starts_at)}，{meeting.place}。请确认出席代表，或在会前提交书面意见；"
                "经正式邀请未出席且未提交书面意见的，视为同意会议结论。",
                key=f"invitation:{invitation.id}:{meeting.sequence}", link=_link(meeting), project_id=project.id,
                attachment=attachment)
    if not duly:
        notify_many(session, now, [project.agent], f"邀请送达晚于通知期限：{department.name}",
                    f"{meeting.kind_name}（{_when(meeting.starts_at)}）的邀请送达{department.name}时已不足通知期限，"
                    "该部门缺席时不视为同意，请考虑改期。", key=f"invitation-late:{invitation.id}:{meeting.sequence}",
                    link=_link(meeting), project_id=project.id)
    return "delivered"


# -- before the meeting: the liaison ------------------------------------------------------------------


def _liaison_invitation(session: Session, now: datetime, user: User, meeting: Meeting,
                        department_code: str | None) -> Invitation:
    """The invitation the liaison answers for: its own department's, before the start."""
    code = (department_code or (user.department.code if user.department else "")).strip().upper()
    invitation = next((i for i in meeting.invitations if i.department.code == code), None)
    if user.role != "liaison" or user.department_id is None or invitation is None \
            or invitation.department_id != user.department_id:
        raise NotFound(f"no invitation of department {code or '?'} to meeting {meeting.id} among yours",
                       fields={"department_code": "a liaison answers only for its own department"},
                       shown=_l("本部门没有收到此会议的邀请。"))
    if meeting.status != "scheduled":
        raise TransitionNotAllowed(f"meeting is {meeting.status}",
                                   shown=_l("会议已闭会或已取消。"))
    if now >= meeting.starts_at:
        raise RuleViolation("the meeting has started: confirmations and written opinions are taken before the start",
                            fields={"starts_at": meeting.starts_at.isoformat()},
                            shown=_l("会议已经开始：出席确认和书面意见须在会前提交。"))
    return invitation


def confirm_attendance(session: Session, now: datetime, user: User, meeting: Meeting, department_code: str | None,
                       representative: str) -> Invitation:
    representative = (representative or "").strip()
    if not representative:
        raise BadInput("name the representative", fields={"representative": "required"},
                       shown=_l("请填写出席代表的姓名。"))
    invitation = _liaison_invitation(session, now, user, meeting, department_code)
    invitation.confirmed_at, invitation.representative = now, representative[:100]
    session.flush()
    record(session, now, Actor.of(user), "meeting.attendance_confirmed", invitation, project_id=meeting.project_id,
           after={"department": invitation.department.code, "representative": representative},
           detail=f"{invitation.department.name}确认出席{meeting.kind_name}，代表：{representative}")
    notify_many(session, now, [meeting.project.agent], f"{invitation.department.name}确认出席",
                f"{meeting.kind_name}（{_when(meeting.starts_at)}）代表：{representative}",
                key=f"meeting-confirmed:{invitation.id}:{meeting.sequence}:{now.isoformat()}", link=_link(meeting),
                project_id=meeting.project_id)
    return invitation


def submit_opinion(session: Session, now: datetime, user: User, meeting: Meeting, department_code: str | None,
                   decision: str, opinion: str = "") -> Invitation:
    """A written opinion before the start; it stands for the department if it stays away."""
    opinion = (opinion or "").strip()
    _check_decision(decision, opinion, "decision")
    invitation = _liaison_invitation(session, now, user, meeting, department_code)
    before = {"decision": invitation.written_decision, "opinion": invitation.written_opinion}
    invitation.written_decision, invitation.written_opinion, invitation.written_at = decision, opinion, now
    session.flush()
    record(session, now, Actor.of(user), "meeting.written_opinion", invitation, project_id=meeting.project_id,
           before=before, after={"department": invitation.department.code, "decision": decision, "opinion": opinion},
           detail=f"{invitation.department.name}提交{meeting.kind_name}书面意见：{DECISION_NAMES[decision]}"
                  + (f"（{opinion}）" if opinion else ""))
    notify_many(session, now, [meeting.project.agent], f"书面意见：{invitation.department.name}",
                f"{DECISION_NAMES[decision]}。{opinion}", key=f"meeting-opinion:{invitation.id}:{now.isoformat()}",
                link=_link(meeting), project_id=meeting.project_id)
    return invitation


def stance_problem(invitation: Invitation | None, present: bool, decision: str | None,
                   opinion: str) -> tuple[str, str] | None:
    """The first thing wrong with one department's stance, as (field, what): ("decision", "missing") when
    a department present has neither a decision nor a written opinion, ("decision", "unknown"), or
    ("opinion", "missing") for a decision other than consent.  The rules once: the service refuses
    with the first (``record_attendance``, ``_check_decision``), the record form shows each at its field
    (agency.meetings.views.check_attendance)."""
    if present and decision is None and not (invitation is not None and invitation.has_written_opinion):
        return ("decision", "missing")
    if decision is not None and decision not in WRITTEN_DECISIONS:
        return ("decision", "unknown")
    if decision is not None and decision != "consent" and not opinion:
        return ("opinion", "missing")
    return None


def _check_decision(decision: str | None, opinion: str, field: str) -> None:
    problem = ("decision", "unknown") if decision is None else stance_problem(None, False, decision, opinion)
    if problem == ("decision", "unknown"):
        raise BadInput("unknown decision", fields={field: f"one of {', '.join(WRITTEN_DECISIONS)}"},
                       shown=_l("请选择意见。"))
    if problem == ("opinion", "missing"):
        raise BadInput("an opinion is required", fields={"opinion": f"required for {decision} (conditions, the "
                                                                    "reason of an objection, or the missing materials)"},
                       shown=_l("除同意外须填写意见：附加的条件、反对的理由或所缺的材料。"))


# -- at the meeting: the agent ---------------------------------------------------------------------------


def record_attendance(session: Session, now: datetime, user: User, meeting: Meeting, entries: list[dict]) -> Meeting:
    """Record each department: present or absent, its decision and opinion, and a site survey's findings.

    Every entry is checked before anything is written.
    """
    _require_agent(user, meeting.project)
    if not meeting.is_open:
        raise TransitionNotAllowed(f"meeting is {meeting.status}; attendance can no longer be recorded",
                                   shown=_l("会议已闭会或已取消，不能再登记出席情况。"))
    if now < meeting.starts_at:
        raise RuleViolation(f"the meeting starts at {_when(meeting.starts_at)}; record attendance at the meeting",
                            shown=_l("会议于 %(when)s 开始，请在会上登记出席情况。", when=_when(meeting.starts_at)))
    if not entries:
        raise BadInput("record at least one department", fields={"attendance": "a non-empty list"},
                       shown=_l("请至少登记一个部门。"))
    codes = [(e.get("department_code") or "").strip().upper() for e in entries]
    if len(set(codes)) != len(codes):
        raise BadInput("a department appears twice", fields={"attendance": "one entry per department"},
                       shown=_l("同一部门登记了两次。"))
    known = {d.code: d for d in session.scalars(select(Department).where(Department.code.in_(codes)))}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise BadInput(f"unknown department: {', '.join(unknown)}", fields={"department_code": ", ".join(unknown)},
                       shown=_l("未知的部门：%(codes)s", codes=", ".join(unknown)))
    plan = []
    for code, entry in zip(codes, entries):
        invitation = meeting.invitation_for(known[code].id)
        if invitation is None:
            raise RuleViolation(f"department {code} was not invited to this meeting",
                                fields={"department_code": f"{code} not invited"},
                                shown=_l("%(code)s 未被邀请参加此会议。", code=code))
        present = bool(entry.get("present"))
        decision = entry.get("decision") or None
        opinion = (entry.get("opinion") or "").strip()
        if stance_problem(invitation, present, decision, opinion) == ("decision", "missing"):
            raise BadInput(f"record the decision of {code}", fields={"decision": f"required for {code}, present"},
                           shown=_l("请登记 %(code)s 的意见。", code=code))
        if decision is not None:
            _check_decision(decision, opinion, "decision")
        plan.append((invitation, present, decision, opinion, entry))
    summary = []
    for invitation, present, decision, opinion, entry in plan:
        invitation.attendance = "present" if present else "absent"
        invitation.decision, invitation.opinion = (decision, opinion) if present else (None, "")
        if entry.get("findings") is not None:
            invitation.findings = entry["findings"].strip()
        if entry.get("representative"):
            invitation.representative = entry["representative"].strip()[:100]
        summary.append(f"{invitation.department.name}{'出席' if present else '缺席'}"
                       + (f"（{DECISION_NAMES[decision]}）" if present and decision else ""))
    meeting.status = "held"
    session.flush()
    record(session, now, Actor.of(user), "meeting.attendance_recorded", meeting,
           after={"attendance": [{"department": i.department.code, "attendance": i.attendance,
                                  "decision": i.decision} for i, *_ in plan]},
           detail=f"{meeting.kind_name}记录到会情况：" + "；".join(summary))
    return meeting


# -- closing: absence = consent ---------------------------------------------------------------------------


def close_meeting(session: Session, now: datetime, user: User, meeting: Meeting, conclusion: str) -> Meeting:
    """Apply absence = consent exactly once and write the minutes (会议纪要)."""
    from agency.projects.services import lock_project
    from agency.tasks.services import deem_consent, request_supplement

    conclusion = (conclusion or "").strip()
    _require_agent(user, meeting.project)
    lock_project(session, meeting.project_id)
    session.refresh(meeting)
    if meeting.status == "closed":
        raise TransitionNotAllowed("the meeting is already closed",
                                   shown=_l("会议已闭会。"))
    if meeting.status == "cancelled":
        raise TransitionNotAllowed("the meeting was cancelled",
                                   shown=_l("会议已取消。"))
    if not conclusion:
        raise BadInput("write the meeting's conclusion", fields={"conclusion": "required"},
                       shown=_l("请填写会议结论。"))
    if now < meeting.starts_at:
        raise RuleViolation(f"the meeting starts at {_when(meeting.starts_at)}; it cannot be closed before",
                            shown=_l("会议于 %(when)s 开始，开始前不能闭会。", when=_when(meeting.starts_at)))
    missing = rules.unrecorded(meeting)
    if missing:
        raise RuleViolation(
            "attendance not recorded for: " + ", ".join(f"{i.department.code} ({i.department.name})" for i in missing)
            + "; record each invited department present or absent before closing",
            fields={"unrecorded": [i.department.code for i in missing]},
            shown=_l("以下部门的出席情况尚未登记：%(codes)s；闭会前须逐一登记出席或缺席。", codes=", ".join(i.department.code for i in missing)))
    won = session.execute(
        update(Meeting).where(Meeting.id == meeting.id, Meeting.status.in_(OPEN_MEETING_STATUSES))
        .values(status="closed", closed_at=now).execution_options(synchronize_session=False))
    if won.rowcount != 1:
        raise TransitionNotAllowed("the meeting is already closed",
                                   shown=_l("会议已闭会。"))
    session.refresh(meeting)
    actor = Actor.of(user)
    project = meeting.project
    # The tasks each department has open now; tasks of a stage dispatched while closing are not touched.
    snapshot: dict[int, list[Task]] = {}
    for task in project.tasks:
        if task.status in OPEN_STATUSES:
            snapshot.setdefault(task.department_id, []).append(task)
    effects = {"deemed": [], "not_deemable": [], "supplements": [], "reinvite": [], "objections": []}
    stances = []
    for invitation in meeting.invitations:  # every attendance is recorded (checked above)
        source, decision, opinion = rules.stance_of(invitation)
        invitation.stance_source, invitation.decision, invitation.opinion = source, decision, opinion
        stances.append(invitation)
        if source == "none":
            effects["reinvite"].append(invitation)
        if decision == "objection":
            effects["objections"].append(invitation)
    session.flush()
    if meeting.kind == "joint_review":
        for invitation in stances:
            tasks = snapshot.get(invitation.department_id, [])
            if invitation.stance_source == "deemed":
                # The law forbids deemed approval of some items (R5): they are listed, never deemed.
                effects["not_deemable"] += [t for t in tasks if not t.item.deemed_consent_allowed]
                effects["deemed"] += deem_consent(session, now, [t for t in tasks if t.item.deemed_consent_allowed],
                                                  "absence", from_states=OPEN_STATUSES, actor=actor)
            elif invitation.decision == "supplement_needed":
                materials = [m for m in re.split(r"[；;\n]+", invitation.opinion) if m.strip()]
                for task in tasks:
                    if task.status in RUNNING_STATUSES:
                        request_supplement(session, now, actor, task, materials,
                                           note=f"{meeting.kind_name}（{_when(meeting.starts_at)}）提出")
                        effects["supplements"].append(task)
    meeting.conclusion = conclusion
    meeting.minutes = build_minutes(meeting, now, effects)
    session.flush()
    deemed_names = "、".join(i.department.name for i in stances if i.stance_source == "deemed")
    reinvite_names = "、".join(i.department.name for i in effects["reinvite"])
    record(session, now, actor, "meeting.closed", meeting, before={"status": "held"},
           after={"status": "closed", "conclusion": conclusion,
                  "stances": {i.department.code: {"source": i.stance_source, "decision": i.decision} for i in stances},
                  "deemed_tasks": [t.id for t in effects["deemed"]]},
           detail=f"{meeting.kind_name}闭会，形成会议纪要。结论：{conclusion}"
                  + (f"；缺席默认同意：{deemed_names}" if deemed_names else "")
                  + (f"；未按时邀请、需重新邀请：{reinvite_names}" if reinvite_names else ""))
    people = [project.agent, project.enterprise, *(i.liaison or i.department.reachable_liaison() for i in stances)]
    notify_many(session, now, people, f"会议纪要：{meeting.kind_name}（{project.name}）", conclusion,
                key=f"meeting-closed:{meeting.id}", link=f"/meetings/{meeting.id}/minutes", project_id=project.id)
    if effects["reinvite"]:
        notify_many(session, now, [project.agent], f"请重新邀请：{reinvite_names}",
                    f"{reinvite_names}未在通知期限前收到邀请且未出席，不适用缺席默认，请重新安排会议邀请。",
                    key=f"meeting-reinvite:{meeting.id}", link=_link(meeting), project_id=project.id)
    for invitation in effects["objections"]:
        notify_many(session, now, [project.agent], f"反对意见：{invitation.department.name}",
                    f"{invitation.opinion}（如需不予办理，须由该部门书面答复办件）", key=f"meeting-objection:{invitation.id}",
                    link=_link(meeting), project_id=project.id)
    return meeting


# -- the sweep's actions -------------------------------------------------------------------------------


def remind_meeting(session: Session, now: datetime, meeting: Meeting) -> None:
    """The working day before: remind every invited department (its reachable liaison)."""
    liaisons = [i.department.reachable_liaison() for i in meeting.invitations]
    notify_many(session, now, liaisons, f"会议提醒：{meeting.kind_name}（{meeting.project.name}）",
                f"{_when(meeting.starts_at)}，{meeting.place}。未能出席的，请在会前提交书面意见。",
                key=f"meeting-reminder:{meeting.id}:{meeting.sequence}", link=_link(meeting),
                project_id=meeting.project_id)
    record(session, now, SYSTEM, "meeting.reminded", meeting,
           detail=f"提醒受邀部门：{meeting.kind_name}将于{_when(meeting.starts_at)}召开")


def flag_unclosed(session: Session, now: datetime, meeting: Meeting) -> None:
    """A day after its time the meeting is still open: tell the agent and the director."""
    project = meeting.project
    notify_many(session, now, [project.agent, *_directors(session)], f"会议未闭会：{meeting.kind_name}（{project.name}）",
                f"{_when(meeting.starts_at)}的{meeting.kind_name}已过一天仍未闭会，请记录到会情况并形成会议纪要。",
                key=f"meeting-unclosed:{meeting.id}", link=_link(meeting), project_id=project.id)
    record(session, now, SYSTEM, "meeting.unclosed_flagged", meeting,
           detail=f"{meeting.kind_name}（{_when(meeting.starts_at)}）超过一天未闭会")


def meetings_between(session: Session, start: datetime, end: datetime, query=None) -> list[Meeting]:
    statement = query if query is not None else select(Meeting)
    return list(session.scalars(statement.where(Meeting.starts_at >= start, Meeting.starts_at < end)
                                .order_by(Meeting.starts_at, Meeting.id)))


__all__ = ["schedule_meeting", "reschedule_meeting", "cancel_meeting", "deliver_invitation", "confirm_attendance",
           "submit_opinion", "record_attendance", "close_meeting", "remind_meeting", "flag_unclosed",
           "meetings_between"]
