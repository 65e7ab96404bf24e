"""The timing rules of joint meetings (R6, R1) and the meeting sweep.

Notice period.  An invitation is *duly* delivered when it reaches the
department no later than the meeting's local clock time on the N-th working
day before the meeting's local date (N = ``MEETING_NOTICE_WORKING_DAYS``,
default 1).  A meeting on Wednesday 09:00 must be delivered by Tuesday 09:00;
one on Monday 09:00 by the previous Friday 09:00 (or earlier across holidays).

Reminders go out on the working day before the meeting's date; a meeting left
neither closed nor cancelled one day (24 hours) after its end is flagged.
"""
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agency.calendar.services import get_calendar
from agency.clock import hall_tz, local
from agency.meetings.models import OPEN_MEETING_STATUSES, Meeting

UNCLOSED_AFTER = timedelta(days=1)
REMINDER_HORIZON = timedelta(days=15)  # the working day before is never further away than this


def notice_days() -> int:
    return int(current_app.config.get("MEETING_NOTICE_WORKING_DAYS", 1))


def latest_due_delivery(calendar, starts_at: datetime, days: int | None = None) -> datetime:
    """The last instant an invitation may be delivered and still be due notice (UTC)."""
    days = notice_days() if days is None else days
    start = local(starts_at)
    day = start.date()
    for _ in range(days):
        day = calendar.previous_working_day(day)
    return datetime.combine(day, start.time(), tzinfo=hall_tz()).astimezone(timezone.utc)


def is_duly_invited(calendar, starts_at: datetime, delivered_at: datetime | None) -> bool:
    return delivered_at is not None and delivered_at <= latest_due_delivery(calendar, starts_at)


def is_working_time(calendar, moment: datetime) -> bool:
    return calendar.is_working_day(local(moment).date())


def reminder_day(calendar, starts_at: datetime):
    """The local date on which invited departments are reminded: the working day before the meeting."""
    return calendar.previous_working_day(local(starts_at).date())


def unrecorded(meeting) -> list:
    """The invitations whose attendance nobody recorded: the meeting cannot be closed while there is one.

    Absence is a fact the agent records, never a default (R6): a department left unrecorded (even one
    that confirmed attendance or named a representative) is neither absent nor deemed to consent.
    """
    return [i for i in meeting.invitations if i.attendance not in ("present", "absent")]


def stance_of(invitation) -> tuple[str, str | None, str]:
    """How a department's stance is reached at closing: (source, decision, opinion).

    present  -> what it said at the meeting (or its written opinion if it said nothing new);
    written  -> recorded absent, with a written opinion sent before the start;
    deemed   -> recorded absent, duly invited, no written opinion: deemed to consent (缺席默认);
    none     -> absent and not duly invited: never deemed, it must be invited again.
    Only a recorded absence is ever deemed: an unrecorded invitation (see ``unrecorded``) gives ``none``.
    """
    if invitation.attendance == "present":
        decision = invitation.decision or invitation.written_decision
        opinion = invitation.opinion if invitation.decision else invitation.written_opinion
        return "present", decision, opinion or ""
    if invitation.written_decision:
        return "written", invitation.written_decision, invitation.written_opinion or ""
    if invitation.attendance == "absent" and invitation.duly_invited:
        return "deemed", "consent", ""
    return "none", None, ""


def meeting_warnings(calendar, meeting, now: datetime) -> list[str]:
    """What the agent should know about a scheduled meeting (Chinese, shown on pages and in the API)."""
    warnings = []
    if not is_working_time(calendar, meeting.starts_at):
        warnings.append("踏勘安排在非工作日，请确认各部门可以到场")
    late = [i for i in meeting.invitations if not i.duly_invited]
    if meeting.status == "scheduled" and late and latest_due_delivery(calendar, meeting.starts_at) < now < meeting.starts_at:
        warnings.append(f"距会议开始已不足{notice_days()}个工作日的通知期，尚未送达的邀请不构成按时邀请，缺席部门不适用缺席默认")
    return warnings


# -- the sweep -----------------------------------------------------------------------


def sweep_meetings(session: Session, now: datetime) -> dict:
    """Reminders the working day before, and flags for meetings left unclosed; idempotent, commits."""
    from agency.meetings.services import flag_unclosed, remind_meeting

    calendar = get_calendar(session)
    counts = {"meeting_reminders": 0, "meetings_unclosed": 0}
    today = local(now).date()
    candidates = session.scalars(
        select(Meeting).where(Meeting.status == "scheduled", Meeting.reminded_at.is_(None),
                              Meeting.starts_at > now, Meeting.starts_at <= now + REMINDER_HORIZON)
        .order_by(Meeting.starts_at, Meeting.id)).all()
    for meeting in candidates:
        if today >= reminder_day(calendar, meeting.starts_at) and _claim(session, meeting, "reminded_at", now):
            remind_meeting(session, now, meeting)
            counts["meeting_reminders"] += 1
            session.commit()
    overdue = session.scalars(
        select(Meeting).where(Meeting.status.in_(OPEN_MEETING_STATUSES), Meeting.flagged_unclosed_at.is_(None),
                              Meeting.starts_at <= now - UNCLOSED_AFTER)
        .order_by(Meeting.starts_at, Meeting.id)).all()
    for meeting in overdue:
        if (meeting.ends_at or meeting.starts_at) + UNCLOSED_AFTER > now:
            continue
        if _claim(session, meeting, "flagged_unclosed_at", now):
            flag_unclosed(session, now, meeting)
            counts["meetings_unclosed"] += 1
            session.commit()
    session.commit()
    return counts


def _claim(session: Session, meeting: Meeting, column: str, now: datetime) -> bool:
    """One conditional UPDATE: True for the one caller that set the still-empty column."""
    attribute = getattr(Meeting, column)
    result = session.execute(
        update(Meeting).where(Meeting.id == meeting.id, attribute.is_(None),
                              Meeting.status.in_(OPEN_MEETING_STATUSES))
        .values({column: now}).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    session.refresh(meeting)
    return True
