"""The live supervision board (R11): cards by department and agent, tasks due today, escalations."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from agency.catalog.models import Department
from agency.people.models import User
from agency.projects.models import Project
from agency.supervision.figures import Period, _count_if
from agency.supervision.models import Card, Escalation
from agency.tasks.models import RUNNING_CLAUSE, Task

REASON_NAMES = {"warning": "预警（剩余1个工作日）", "timeout": "超时未答复", "second_supplement": "二次补正",
                "notice_overdue": "整改复函逾期"}
CARD_LIMIT = 200
DUE_LIMIT = 200


def responsible_agent():
    """The agent a card counts against: the card's own agent, else the project's agent."""
    return func.coalesce(Card.agent_id, Project.agent_id)


def cards_by_department(session: Session, period: Period, tz: tzinfo) -> list[dict]:
    lo, hi = period.bounds(tz)
    rows = session.execute(
        select(Department.id, Department.code, Department.name, _count_if(Card.color == "yellow"),
               _count_if(Card.color == "red"), _count_if(Card.reason == "warning"))
        .join(Card, Card.department_id == Department.id)
        .where(Card.at >= lo, Card.at < hi)
        .group_by(Department.id, Department.code, Department.name).order_by(Department.code))
    return [{"department_id": i, "department": code, "name": name, "yellow": y, "red": r, "warnings": w}
            for i, code, name, y, r, w in rows]


def cards_by_agent(session: Session, period: Period, tz: tzinfo) -> list[dict]:
    lo, hi = period.bounds(tz)
    agent = responsible_agent().label("agent_id")
    counts = session.execute(
        select(agent, _count_if(Card.color == "yellow"), _count_if(Card.color == "red"))
        .select_from(Card).outerjoin(Project, Project.id == Card.project_id)
        .where(Card.at >= lo, Card.at < hi, responsible_agent().is_not(None))
        .group_by(responsible_agent())).all()
    names = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_([c[0] for c in counts])))}
    return sorted(({"agent_id": a, "name": names.get(a, str(a)), "yellow": y, "red": r} for a, y, r in counts),
                  key=lambda row: (-row["red"], -row["yellow"], row["agent_id"]))


def recent_cards(session: Session, period: Period, tz: tzinfo, limit: int = CARD_LIMIT) -> list[dict]:
    """The cards of the period, newest first, with the task and project behind each."""
    lo, hi = period.bounds(tz)
    cards = session.scalars(
        select(Card).where(Card.at >= lo, Card.at < hi).order_by(Card.at.desc(), Card.id.desc()).limit(limit)
        .options(joinedload(Card.department))).all()
    task_ids = {c.task_id for c in cards if c.task_id}
    tasks = {t.id: t for t in session.scalars(
        select(Task).where(Task.id.in_(task_ids)).options(joinedload(Task.item), joinedload(Task.project)))}
    project_ids = {c.project_id for c in cards if c.project_id}
    projects = {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(project_ids)))}
    agents = {p.agent_id for p in projects.values() if p.agent_id} | {c.agent_id for c in cards if c.agent_id}
    names = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(agents)))}
    rows = []
    for card in cards:
        task, project = tasks.get(card.task_id), projects.get(card.project_id)
        agent_id = card.agent_id or (project.agent_id if project else None)
        rows.append({"card": card, "task": task, "project": project, "agent_id": agent_id,
                     "agent_name": names.get(agent_id, ""), "reason_name": REASON_NAMES.get(card.reason, card.reason)})
    return rows


def day_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    today = now.astimezone(tz).date()
    start = datetime.combine(today, time(0), tzinfo=tz).astimezone(timezone.utc)
    return start, start + timedelta(days=1)


def tasks_due_today(session: Session, now: datetime, tz: tzinfo, limit: int = DUE_LIMIT) -> tuple[list[Task], int]:
    """Running tasks (clock not stopped, not escalated) whose deadline falls today, soonest first
    (at most ``limit``), and how many there are."""
    start, end = day_bounds(now, tz)
    where = (RUNNING_CLAUSE, Task.suspended_days_left.is_(None), Task.escalated_at.is_(None), Task.deadline >= start,
             Task.deadline < end)
    total = session.scalar(select(func.count()).select_from(Task).where(*where))
    tasks = session.scalars(select(Task).where(*where).order_by(Task.deadline, Task.id).limit(limit)
                            .options(selectinload(Task.item), selectinload(Task.project),
                                     selectinload(Task.department)))
    return list(tasks), total


def open_escalations(session: Session) -> list[Escalation]:
    return list(session.scalars(
        select(Escalation).where(Escalation.resolved_at.is_(None)).order_by(Escalation.at, Escalation.id)
        .options(joinedload(Escalation.task).options(selectinload(Task.project), selectinload(Task.item),
                                                     selectinload(Task.department)))))


def card_query(color: str | None = None, department_id: int | None = None, period: Period | None = None,
               tz: tzinfo | None = None):
    query = select(Card).options(joinedload(Card.department)).order_by(Card.at.desc(), Card.id.desc())
    if color:
        query = query.where(Card.color == color)
    if department_id is not None:
        query = query.where(Card.department_id == department_id)
    if period is not None:
        lo, hi = period.bounds(tz)
        query = query.where(Card.at >= lo, Card.at < hi)
    return query


def overdue_deferrals(session: Session, now: datetime, limit: int = DUE_LIMIT) -> list[dict]:
    """Deferred materials (容缺) still owed after their promised date (R15): oldest promise first."""
    from agency.materials.models import Deferral
    rows = session.scalars(select(Deferral).where(Deferral.supplied_at.is_(None), Deferral.until <= now)
                           .order_by(Deferral.until, Deferral.id).limit(limit)
                           .options(joinedload(Deferral.task).joinedload(Task.project),
                                    joinedload(Deferral.task).joinedload(Task.item))).all()
    return [{"deferral": d, "task": d.task, "project": d.task.project} for d in rows]
