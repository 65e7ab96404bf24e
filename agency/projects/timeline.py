"""The project's story, from the audit log, as one reader may read it (agency.people.scope)."""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.audit.models import AuditEvent
from agency.calendar.services import get_calendar
from agency.clock import hall_tz
from agency.people.models import User
from agency.projects.models import Project, ProjectSuspension

ROLE_NAMES = {"system": "系统", "enterprise": "企业", "agent": "代办员", "liaison": "部门联络员", "director": "大厅主任"}


def timeline(session: Session, project: Project, reader: User) -> list[dict]:
    """The project's events ``reader`` may read, oldest first."""
    from agency.people.scope import scope_of
    view = scope_of(session, reader, project)
    rows = session.execute(
        select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.project_id == project.id).order_by(AuditEvent.seq)
    ).all()
    return [{"at": event.at, "actor": user.display_name if user else ROLE_NAMES.get(event.actor_role, event.actor_role),
             "actor_role": event.actor_role, "action": event.action, "detail": event.detail} for event, user in rows
            if view.sees_event(event)]


def working_days_elapsed(session: Session, project: Project, now: datetime) -> int:
    """Working days from entrustment to completion (or to now), for the "3550" target, less the
    working days it spent suspended (R2)."""
    end = project.completed_at or project.terminated_at or now
    tz = hall_tz()
    elapsed = get_calendar(session).working_days_between(project.entrusted_at.astimezone(tz).date(),
                                                         end.astimezone(tz).date())
    return max(0, elapsed - suspended_working_days(session, project, end))


def suspended_working_days(session: Session, project: Project, end: datetime) -> int:
    """Working days the project spent suspended up to ``end``: for each period, the days d with
    local(started) < d <= local(ended, or ``end`` while it lasts), as working days elapsed counts."""
    periods = session.execute(select(ProjectSuspension.started_at, ProjectSuspension.ended_at)
                              .where(ProjectSuspension.project_id == project.id)).all()
    if not periods:
        return 0
    calendar, tz = get_calendar(session), hall_tz()
    return sum(max(0, calendar.working_days_left(start, min(stop or end, end), tz)) for start, stop in periods)
