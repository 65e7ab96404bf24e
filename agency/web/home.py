"""What each role's home page says is due: a few queries per role, none per row.

Each ``*_home`` function takes (session, user, now) and returns a dict the template reads.  The
conditions that pick "projects waiting on someone" (``PROJECT_NEEDS``) are the same SQL that the
project lists filter on (``?need=``), so a count on the home page and the list it links to agree.
"""
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload

from agency import clock
from agency.calendar.services import get_calendar
from agency.materials.models import Deferral, ProjectMaterial
from agency.meetings.models import OPEN_MEETING_STATUSES, Invitation, Meeting
from agency.people.models import User
from agency.projects.decisions import awaiting_decision
from agency.projects.models import Project
from agency.tasks.models import OPEN_STATUSES, RUNNING_STATUSES, Task

OPEN_PROJECT = ("entrusted", "in_progress")
SHOWN = 8  # rows of each list on a home page; the count links to the whole list


def _is_open():
    return Project.status.in_(OPEN_PROJECT)


def carried_by(user: User):
    """SQL of ``is_assigned_agent``: the projects the agent carries (assigned, or first contact until then)."""
    return or_(Project.agent_id == user.id, and_(Project.agent_id.is_(None), Project.first_contact_agent_id == user.id))


def _prereview(now):
    return _is_open() & Project.id.in_(select(ProjectMaterial.project_id).where(ProjectMaterial.status == "uploaded"))


def _deferrals(now):
    return _is_open() & Project.id.in_(select(Deferral.project_id).where(Deferral.supplied_at.is_(None),
                                                                         Deferral.until <= now))


def _returned(now):
    return _is_open() & Project.id.in_(select(ProjectMaterial.project_id).where(ProjectMaterial.status == "returned"))


def _supplement(now):
    return _is_open() & Project.id.in_(select(Task.project_id).where(Task.status == "supplement"))


def _agreement(now):
    return _is_open() & Project.agreement_accepted_at.is_(None)


def _rating(now):
    from agency.enterprise.models import Rating
    return (Project.status == "completed") & ~exists().where(Rating.project_id == Project.id, Rating.task_id.is_(None))


# need -> (roles whose lists offer it, condition(now) on Project)
PROJECT_NEEDS = {
    "prereview": (("agent", "director"), _prereview),
    "decision": (("agent", "director"), lambda now: awaiting_decision()),
    "deferrals": (("agent", "director", "enterprise"), _deferrals),
    "returned": (("enterprise", "agent"), _returned),
    "supplement": (("enterprise", "agent"), _supplement),
    "agreement": (("enterprise", "agent"), _agreement),
    "rating": (("enterprise",), _rating),
}


def needs_of(role: str) -> list[str]:
    return [need for need, (roles, _) in PROJECT_NEEDS.items() if role in roles]


def project_need(user: User, need: str, now: datetime):
    """The condition of ``?need=`` on the projects ``user`` sees; an agent's needs are of the projects it carries."""
    condition = PROJECT_NEEDS[need][1](now)
    return condition & carried_by(user) if user.role == "agent" else condition


def _count(session: Session, statement) -> int:
    return session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=clock.hall_tz())


def today_and_next(session: Session, now: datetime) -> tuple[date, date]:
    """Today in the hall, and its next working day (deadlines fall on working days, R1)."""
    today = clock.local(now).date()
    return today, get_calendar(session).next_working_day(today)


def _week(now: datetime) -> tuple[date, date]:
    today = clock.local(now).date()
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


# -- tasks by due date: the liaison's inbox filters on the same words ------------------------------------

TASK_DUES = ("today", "next", "overdue", "escalated")


def task_due(session: Session, due: str, now: datetime):
    """Conditions of ``?due=`` on open tasks: due by today's close, due the next working day, past the
    deadline, or escalated to the director (an item where the law forbids deemed consent, R5)."""
    today, following = today_and_next(session, now)
    if due == "escalated":
        return and_(Task.status.in_(OPEN_STATUSES), Task.escalated_at.is_not(None))
    running = and_(Task.status.in_(RUNNING_STATUSES), Task.suspended_days_left.is_(None), Task.escalated_at.is_(None))
    if due == "today":
        return and_(running, Task.deadline >= _day_start(today), Task.deadline < _day_start(today + timedelta(days=1)))
    if due == "next":
        return and_(running, Task.deadline >= _day_start(following),
                    Task.deadline < _day_start(following + timedelta(days=1)))
    return and_(running, Task.deadline < now)  # overdue


def _tasks(session: Session, statement, limit: int = SHOWN) -> list[Task]:
    return list(session.scalars(statement.order_by(Task.deadline, Task.id).limit(limit)
                                .options(joinedload(Task.item), joinedload(Task.project), joinedload(Task.department))))


# -- the liaison ---------------------------------------------------------------------------------------------

def liaison_home(session: Session, user: User, now: datetime) -> dict:
    """Its department's tasks due today, the next working day, escalated; this week's meetings; the most urgent."""
    mine = select(Task).where(Task.department_id == user.department_id)
    today, following = today_and_next(session, now)
    buckets = {}
    for due in ("escalated", "today", "next"):
        statement = mine.where(task_due(session, due, now))
        buckets[due] = {"count": _count(session, statement), "tasks": _tasks(session, statement)}
    open_tasks = mine.where(Task.status.in_(OPEN_STATUSES))
    urgent = next((b["tasks"][0] for b in buckets.values() if b["tasks"]), None)
    if urgent is None:
        urgent = next(iter(_tasks(session, open_tasks.where(Task.status.in_(RUNNING_STATUSES)), 1)), None)
    monday, sunday = _week(now)
    meetings = select(Invitation).join(Meeting).where(
        Invitation.department_id == user.department_id, Meeting.status.in_(OPEN_MEETING_STATUSES),
        Meeting.starts_at >= _day_start(monday), Meeting.starts_at < _day_start(sunday + timedelta(days=1)))
    return {"buckets": buckets, "urgent": urgent, "open_count": _count(session, open_tasks),
            "today": today, "following": following, "week": (monday, sunday),
            "meetings_count": _count(session, meetings),
            "meetings": list(session.scalars(meetings.order_by(Meeting.starts_at, Invitation.id).limit(SHOWN)
                                             .options(joinedload(Invitation.meeting).joinedload(Meeting.project))))}


# -- the agent -----------------------------------------------------------------------------------------------

def meetings_to_record(user: User, now: datetime):
    """Meetings of the projects ``user`` carries that have started and are not closed yet."""
    return and_(Meeting.status.in_(OPEN_MEETING_STATUSES), Meeting.starts_at <= now,
                Meeting.project_id.in_(select(Project.id).where(carried_by(user))))


def _projects(session: Session, statement, limit: int = SHOWN) -> list[Project]:
    return list(session.scalars(statement.order_by(Project.id.desc()).limit(limit)
                                .options(joinedload(Project.enterprise))))


def agent_home(session: Session, user: User, now: datetime) -> dict:
    """The projects waiting on the agent, the meetings to record, and the open tasks nearest their deadline."""
    carried = select(Project).where(carried_by(user))
    waiting = {}
    for need in ("prereview", "decision", "deferrals"):
        statement = carried.where(PROJECT_NEEDS[need][1](now))
        waiting[need] = {"count": _count(session, statement), "projects": _projects(session, statement)}
    to_record = select(Meeting).where(meetings_to_record(user, now))
    nearest = select(Task).join(Project, Task.project_id == Project.id).where(
        carried_by(user), Task.status.in_(RUNNING_STATUSES), Task.suspended_days_left.is_(None))
    return {"waiting": waiting, "to_record_count": _count(session, to_record),
            "to_record": list(session.scalars(to_record.order_by(Meeting.starts_at, Meeting.id).limit(SHOWN)
                                              .options(joinedload(Meeting.project)))),
            "nearest": _tasks(session, nearest), "open_count": _count(session, nearest)}


# -- the enterprise ------------------------------------------------------------------------------------------

def enterprise_home(session: Session, user: User, now: datetime) -> dict:
    """What the enterprise owes (agreement, returned materials, one-time notices, ratings) and what arrived."""
    from agency.results.models import Shipment, TaskResult
    own = select(Project).where(Project.enterprise_id == user.id)
    owes = {}
    for need in ("agreement", "returned", "supplement", "deferrals", "rating"):
        statement = own.where(PROJECT_NEEDS[need][1](now))
        owes[need] = {"count": _count(session, statement), "projects": _projects(session, statement)}
    released = select(TaskResult).join(Task, TaskResult.task_id == Task.id).join(
        Project, Task.project_id == Project.id).where(
        Project.enterprise_id == user.id,
        ~exists().where(Deferral.task_id == Task.id, Deferral.supplied_at.is_(None)))
    results = session.scalars(released.order_by(TaskResult.created_at.desc(), TaskResult.id.desc()).limit(SHOWN)
                              .options(joinedload(TaskResult.task).joinedload(Task.item),
                                       joinedload(TaskResult.task).joinedload(Task.project))).all()
    shipments = session.scalars(
        select(Shipment).join(Project, Shipment.project_id == Project.id).where(Project.enterprise_id == user.id)
        .order_by(Shipment.signed_at.is_not(None), Shipment.sent_at.desc(), Shipment.id.desc()).limit(SHOWN)
        .options(joinedload(Shipment.project))).all()
    return {"owes": owes, "results": list(results), "results_count": _count(session, released),
            "shipments": list(shipments)}


# -- the director --------------------------------------------------------------------------------------------

def queue_health(session: Session, now: datetime) -> dict:
    """The director's queue card: the counts of the queue page (``agency.jobs.health.queue_health``).

    ``rq`` is None when Redis does not answer; the page then says so instead of failing.
    """
    from agency.jobs.health import queue_health as health_of
    health = health_of(session, now, oldest=0)
    return {"outbox_waiting": health.unfinished, "outbox_failed": health.totals.parked,
            "rq": None if health.redis_error else {"waiting": health.totals.waiting, "failed": health.totals.failed}}


def director_home(session: Session, user: User, now: datetime) -> dict:
    """Today's warnings and red cards, projects waiting on a decision, the queue health."""
    from agency.projects.decisions import waiting_after_refusal
    from agency.supervision.board import recent_cards
    from agency.supervision.figures import Period
    from agency.supervision.models import Card
    today = Period(clock.local(now).date(), clock.local(now).date())
    lo, hi = today.bounds(clock.hall_tz())
    counts = dict(session.execute(select(Card.color, func.count()).where(Card.at >= lo, Card.at < hi)
                                  .group_by(Card.color)).all())
    cards = recent_cards(session, today, clock.hall_tz(), limit=SHOWN * 2)
    waiting = waiting_after_refusal(session, now)
    return {"warnings": [c for c in cards if c["card"].color == "yellow"][:SHOWN],
            "warnings_count": counts.get("yellow", 0),
            "red": [c for c in cards if c["card"].color == "red"][:SHOWN], "red_count": counts.get("red", 0),
            "decisions": waiting[:SHOWN], "decisions_count": len(waiting), "queues": queue_health(session, now)}


HOMES = {"liaison": liaison_home, "agent": agent_home, "enterprise": enterprise_home, "director": director_home}


NEED_LABELS = {
    "prereview": _l("待预审材料"), "decision": _l("不予办理待决定"), "deferrals": _l("容缺材料逾期未补"),
    "returned": _l("被退回的材料"), "supplement": _l("一次性告知待补正"), "agreement": _l("待签署委托代办协议"),
    "rating": _l("待评价"),
}
TASK_DUE_LABELS = {"today": _l("今天到期"), "next": _l("下一个工作日到期"), "overdue": _l("已过期限"),
                   "escalated": _l("已超时并提交督办")}
