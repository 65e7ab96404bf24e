"""Visits (跑动次数, R18): every time the enterprise had to come to the hall in person."""
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agency.audit.services import Actor, record
from agency.clock import local
from agency.errors import BadInput, TransitionNotAllowed
from agency.people.access import require_carrying_agent
from agency.people.models import User
from agency.projects.models import Project
from agency.visits.models import Visit


def record_visit(session: Session, now: datetime, agent: User, project: Project, on: date, reason: str) -> Visit:
    """The agent records a visit of the enterprise to the hall, with its date and reason."""
    require_carrying_agent(agent, project, "record its visits")
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "say why the enterprise had to come"
    if on > local(now).date():
        errors["on"] = "a visit cannot be in the future"
    elif on < local(project.entrusted_at).date():
        errors["on"] = "a visit cannot be before the entrustment"
    if errors:
        raise BadInput("invalid visit", fields=errors,
                       shown=_l("跑动记录不完整，请检查日期和事由。"))
    if project.status == "terminated":
        raise TransitionNotAllowed("the project was terminated",
                                   shown=_l("项目已终止。"))
    visit = Visit(project_id=project.id, on=on, reason=reason, recorded_by_id=agent.id, created_at=now)
    session.add(visit)
    session.flush()
    record(session, now, Actor.of(agent), "visit.recorded", visit, project_id=project.id,
           after={"on": on.isoformat(), "reason": reason}, detail=f"企业到厅办事（{on:%Y-%m-%d}）：{reason}")
    return visit


def visit_count(session: Session, project: Project) -> int:
    return session.scalar(select(func.count()).select_from(Visit).where(Visit.project_id == project.id))


def visits_of(session: Session, project: Project) -> list[Visit]:
    return session.scalars(select(Visit).where(Visit.project_id == project.id).order_by(Visit.on, Visit.id)).all()
