"""The figures of the supervision (R11): one definition, used by pages, the API and reports.

Every figure is an SQL aggregation (``select()`` with ``func``/``case``,
grouped by department, agent or project type); Python only folds the few
aggregated rows.  A period is two dates of the hall's zone, both included.

Definitions (a "closed" task is one with status ``answered`` or
``deemed_consent``; it belongs to the period when its ``answered_at`` falls
in the period):

``tasks``
    closed tasks of the department in the period.
``on_time_rate``
    on time / tasks, where a task is *on time* when the department itself
    answered it (status ``answered``) at or before its deadline.  A deemed
    consent (timeout or absence) is closed but never on time: the department
    did not answer.
``early_rate``
    early / tasks, where a task is *early* when the department answered it
    at least one working day before the deadline: the local date of
    ``answered_at`` is before the local date of the deadline.  A deadline
    always falls on a working day, so an earlier date means
    ``working_days_between(answered, deadline) >= 1``.
``deemed_timeout``
    closed tasks with status ``deemed_consent`` and reason ``timeout`` (R5).
``red`` / ``yellow``
    cards of that colour given to the department with ``at`` in the period
    (a yellow card includes the one-working-day warnings).
``second_supplements``
    cards with reason ``second_supplement`` in the period (R4).
``avg_working_days``
    mean over the closed tasks of the working days used: working days d with
    local(started_at) < d <= local(answered_at) (``started_at`` restarts after a
    supplement, so this is the last clock run, the one measured against the
    promised limit).
``avg_promised_days``
    mean promised limit (working days) of the same tasks.
``satisfaction``
    mean rating level (1 very dissatisfied .. 5 very satisfied) of the ratings
    of the department created in the period; None without ratings.

Rates are None when there is no closed task; rates are rounded to 4 places,
means to 2.

Working days in SQL: ``working_days_between(a, b) = W(b) - W(a)`` with ``W(d)``
the number of working days up to ``d`` (``working_day_number``).  On
PostgreSQL ``W`` is bound as one integer array indexed by day number, so the
sum is part of the same aggregate scan (``WorkingDays``).  On the embedded
SQLite, the sum over tasks is ``sum(n_b * W(b)) - sum(n_a * W(a))``: SQL
groups the tasks by department and local day (a few rows per department and
day) and Python applies the calendar to those days only, never to single
tasks.  Local days are integer day numbers (``day_number``): for the hall's
zone, which keeps one UTC offset all year, integer arithmetic on the epoch.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from sqlalchemy import Date, Integer, and_, bindparam, case, cast, func, literal_column, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.orm import Session

from agency.calendar.workdays import FIRST_DAY, WorkingCalendar
from agency.catalog.models import ApprovalItem, Department, ProjectType
from agency.enterprise.models import Rating
from agency.people.models import User
from agency.projects.models import Project, ProjectSuspension
from agency.supervision.models import Card
from agency.tasks.models import Task
from agency.visits.models import Visit

CLOSED_STATUSES = ("answered", "deemed_consent")
OPEN_PROJECT_STATUSES = ("consulting", "entrusted", "in_progress")
RATE_PLACES, MEAN_PLACES = 4, 2
OVER_TARGET_LIMIT = 50
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]+")


@dataclass(frozen=True)
class Period:
    """Two local dates of the hall, both included."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[local midnight of start, local midnight after end) in UTC: index-friendly comparisons."""
        lo = datetime.combine(self.start, time(0), tzinfo=tz).astimezone(timezone.utc)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
        return lo, hi

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


# -- SQL helpers -------------------------------------------------------------------

EPOCH = date(1970, 1, 1)
_W_CACHE: dict = {}


def fixed_offset(tz: tzinfo, year: int | None = None) -> int | None:
    """The zone's UTC offset in seconds when it keeps one all year (no daylight saving), else None."""
    year = year or datetime.now(timezone.utc).year
    offsets = {datetime(year, month, 1, 12, tzinfo=timezone.utc).astimezone(tz).utcoffset() for month in (1, 7)}
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def day_number(session: Session, column, tz: tzinfo):
    """SQL integer: the hall-zone date of a UTC timestamp column, as days since 1970-01-01.

    For a zone without daylight saving (every zone of China) it is integer
    arithmetic on the epoch seconds, cheap on a million rows; otherwise
    PostgreSQL converts with the zone's rules.  Constants are SQL literals, not
    bound parameters, so one expression in SELECT and GROUP BY matches.
    """
    offset = fixed_offset(tz)
    if _is_postgres(session):
        if offset is None:
            name = str(tz)
            if not _ZONE_NAME.fullmatch(name):
                raise ValueError(f"unexpected time zone name {name!r}")
            return cast(func.timezone(literal_column(f"'{name}'"), column), Date) - literal_column("DATE '1970-01-01'")
        return cast(func.floor((func.date_part(literal_column("'epoch'"), column) + literal_column(str(offset)))
                               / literal_column("86400")), Integer)
    if offset is None:
        raise ValueError("the embedded SQLite figures need a hall zone without daylight saving")
    seconds = cast(func.strftime(literal_column("'%s'"), column), Integer)
    return cast((seconds + literal_column(str(offset))) / literal_column("86400"), Integer)


def day_of(number) -> date:
    """The date of a day number (see ``day_number``)."""
    return EPOCH + timedelta(days=int(number))


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, RATE_PLACES) if whole else None


def _mean(total: float, n: int) -> float | None:
    return round(total / n, MEAN_PLACES) if n else None


def _rounded(value) -> float | None:
    return None if value is None else round(float(value), MEAN_PLACES)


def working_day_number(calendar: WorkingCalendar, day: date) -> int:
    """W(day): working days d with FIRST_DAY < d <= day; W(b) - W(a) = working_days_between(a, b)."""
    return calendar.working_days_between(FIRST_DAY, max(day, FIRST_DAY))


class WorkingDays:
    """Working days between two day numbers, computed inside the SQL aggregate on PostgreSQL.

    W(d) for every day from FIRST_DAY to ``last_day`` is bound as one integer
    array; the working days between a and b are W[b] - W[a], so one scan sums
    them.  Other databases get ``sql = False`` and the callers group by date
    instead (``_working_day_sums``).
    """

    def __init__(self, session: Session, calendar: WorkingCalendar, last_day: date):
        self.calendar, self.sql = calendar, _is_postgres(session)
        if self.sql:
            key = (id(calendar), last_day)
            if key not in _W_CACHE:
                _W_CACHE.clear()
                days = (last_day - FIRST_DAY).days + 1
                _W_CACHE[key] = [working_day_number(calendar, FIRST_DAY + timedelta(days=i)) for i in range(days)]
            self._table = Grouping(cast(bindparam("working_day_numbers", value=_W_CACHE[key],
                                                  type_=ARRAY(Integer)), ARRAY(Integer)))
            self._shift = literal_column(str(1 - (FIRST_DAY - EPOCH).days))  # PostgreSQL arrays start at 1

    def between(self, start_day, end_day):
        return self._table[end_day + self._shift] - self._table[start_day + self._shift]


def _working_day_sums(session: Session, calendar: WorkingCalendar, key, start_col, end_col, where, tz) -> dict:
    """key -> total working days between local(start_col) and local(end_col) over the rows of ``where``.

    Two grouped queries (by key and local day), then W() on the distinct days.
    """
    totals: dict = defaultdict(int)
    for column, sign in ((end_col, 1), (start_col, -1)):
        day = day_number(session, column, tz)
        rows = session.execute(select(key, day, func.count()).where(*where).group_by(key, day))
        for k, d, n in rows:
            totals[k] += sign * n * working_day_number(calendar, day_of(d))
    return totals


def _suspended(session: Session, wd: WorkingDays, tz: tzinfo):
    """SQL (PostgreSQL, ``wd.sql``): the working days the outer query's project spent suspended (R2),
    summed over its suspension periods, 0 without any; a correlated subquery on the few periods."""
    days = wd.between(day_number(session, ProjectSuspension.started_at, tz),
                      day_number(session, ProjectSuspension.ended_at, tz))
    return (select(func.coalesce(func.sum(days), 0)).where(ProjectSuspension.project_id == Project.id)
            .correlate(Project).scalar_subquery())


def _suspended_sums(session: Session, calendar: WorkingCalendar, key, where, tz) -> dict:
    """key -> working days spent suspended by the projects of ``where`` (the embedded database's way)."""
    return _working_day_sums(session, calendar, key, ProjectSuspension.started_at, ProjectSuspension.ended_at,
                             [*where, ProjectSuspension.project_id == Project.id], tz)


# A literal predicate, so PostgreSQL can prove a query matches the partial index ix_tasks_closed_answered_at.
CLOSED_CLAUSE = text("tasks.status IN ('answered', 'deemed_consent')")


def _closed_in(period: Period, tz: tzinfo) -> list:
    lo, hi = period.bounds(tz)
    return [CLOSED_CLAUSE, Task.answered_at >= lo, Task.answered_at < hi]


# -- departments -------------------------------------------------------------------


def department_figures(session: Session, calendar: WorkingCalendar, period: Period, tz: tzinfo) -> list[dict]:
    """One row per department (ordered by code) with the figures of the module docstring."""
    lo, hi = period.bounds(tz)
    closed = _closed_in(period, tz)
    answered = Task.status == "answered"
    on_time = and_(answered, Task.answered_at <= Task.deadline)
    early = and_(answered, day_number(session, Task.answered_at, tz) < day_number(session, Task.deadline, tz))
    deemed_timeout = and_(Task.status == "deemed_consent", Task.outcome_reason == "timeout")
    wd = WorkingDays(session, calendar, period.end)
    columns = [Task.department_id, func.count().label("n"), _count_if(on_time).label("on_time"),
               _count_if(early).label("early"), _count_if(deemed_timeout).label("deemed_timeout"),
               func.avg(Task.promised_days).label("promised")]
    if wd.sql:
        columns.append(func.sum(wd.between(day_number(session, Task.started_at, tz),
                                           day_number(session, Task.answered_at, tz))).label("used"))
    tasks = {row.department_id: row for row in session.execute(
        select(*columns).where(*closed).group_by(Task.department_id))}
    used = ({k: row.used for k, row in tasks.items()} if wd.sql else
            _working_day_sums(session, calendar, Task.department_id, Task.started_at, Task.answered_at, closed, tz))
    cards = {row.department_id: row for row in session.execute(
        select(Card.department_id, _count_if(Card.color == "red").label("red"),
               _count_if(Card.color == "yellow").label("yellow"),
               _count_if(Card.reason == "second_supplement").label("second"))
        .where(Card.department_id.is_not(None), Card.at >= lo, Card.at < hi).group_by(Card.department_id))}
    ratings = {row.department_id: row for row in session.execute(
        select(Rating.department_id, func.avg(Rating.level).label("mean"), func.count().label("n"))
        .where(Rating.department_id.is_not(None), Rating.created_at >= lo, Rating.created_at < hi)
        .group_by(Rating.department_id))}
    rows = []
    for department in session.scalars(select(Department).order_by(Department.code)):
        t, c, r = tasks.get(department.id), cards.get(department.id), ratings.get(department.id)
        n = t.n if t else 0
        rows.append({
            "department_id": department.id, "department": department.code, "department_name": department.name,
            "tasks": n, "on_time": t.on_time if t else 0, "on_time_rate": _rate(t.on_time, n) if t else None,
            "early": t.early if t else 0, "early_rate": _rate(t.early, n) if t else None,
            "deemed_timeout": t.deemed_timeout if t else 0,
            "red": c.red if c else 0, "yellow": c.yellow if c else 0, "second_supplements": c.second if c else 0,
            "avg_working_days": _mean(used.get(department.id) or 0, n),
            "avg_promised_days": _rounded(t.promised) if t else None,
            "satisfaction": _rounded(r.mean) if r else None, "ratings": r.n if r else 0,
        })
    return rows


# -- agents ------------------------------------------------------------------------


def agent_figures(session: Session, calendar: WorkingCalendar, period: Period, tz: tzinfo) -> list[dict]:
    """One row per agent (by id).

    ``open``: the agent's projects not completed nor terminated (now, not in
    the period); ``completed``: its projects completed in the period;
    ``avg_working_days``: mean working days from entrustment to completion of
    those (local(entrusted_at) < d <= local(completed_at)), less the working
    days each spent suspended (R2; project_suspensions); ``satisfaction``:
    mean level of the ratings naming the agent created in the period.
    """
    lo, hi = period.bounds(tz)
    open_ = dict(session.execute(
        select(Project.agent_id, func.count()).where(Project.agent_id.is_not(None),
                                                     Project.status.in_(OPEN_PROJECT_STATUSES))
        .group_by(Project.agent_id)).all())
    done = [Project.agent_id.is_not(None), Project.status == "completed",
            Project.completed_at >= lo, Project.completed_at < hi]
    wd = WorkingDays(session, calendar, period.end)
    columns = [Project.agent_id, func.count()]
    if wd.sql:
        columns.append(func.sum(wd.between(day_number(session, Project.entrusted_at, tz),
                                           day_number(session, Project.completed_at, tz))
                                - _suspended(session, wd, tz)))
    completed, used = {}, {}
    for row in session.execute(select(*columns).where(*done).group_by(Project.agent_id)):
        completed[row[0]] = row[1]
        if wd.sql:
            used[row[0]] = row[2]
    if not wd.sql:
        used = _working_day_sums(session, calendar, Project.agent_id, Project.entrusted_at, Project.completed_at,
                                 done, tz)
        for agent_id, days in _suspended_sums(session, calendar, Project.agent_id, done, tz).items():
            used[agent_id] -= days
    ratings = {row.agent_id: row for row in session.execute(
        select(Rating.agent_id, func.avg(Rating.level).label("mean"), func.count().label("n"))
        .where(Rating.agent_id.is_not(None), Rating.created_at >= lo, Rating.created_at < hi)
        .group_by(Rating.agent_id))}
    rows = []
    for agent in session.scalars(select(User).where(User.role == "agent").order_by(User.id)):
        n = completed.get(agent.id, 0)
        r = ratings.get(agent.id)
        rows.append({"agent_id": agent.id, "name": agent.display_name, "on_leave": agent.on_leave,
                     "open": open_.get(agent.id, 0), "completed": n,
                     "avg_working_days": _mean(used.get(agent.id) or 0, n),
                     "satisfaction": _rounded(r.mean) if r else None, "ratings": r.n if r else 0})
    return rows


# -- project types ("3550") --------------------------------------------------------


def project_type_figures(session: Session, calendar: WorkingCalendar, period: Period, tz: tzinfo,
                         over_target_limit: int = OVER_TARGET_LIMIT) -> list[dict]:
    """One row per project type (by code): projects completed in the period, mean working days
    from entrustment to completion (less the working days spent suspended, R2) against
    ``target_days``, and those over the target (at most ``over_target_limit`` listed per type,
    worst first).

    On PostgreSQL the working days of each project are computed in SQL
    (``WorkingDays``); elsewhere SQL groups the completed projects by (type,
    entrusted day, completed day) and the calendar is applied to each
    distinct pair; the few projects ever suspended are counted one by one.
    """
    lo, hi = period.bounds(tz)
    done = [Project.status == "completed", Project.completed_at >= lo, Project.completed_at < hi]
    entrusted, finished = day_number(session, Project.entrusted_at, tz), day_number(session, Project.completed_at, tz)
    wd = WorkingDays(session, calendar, period.end)
    if wd.sql:
        summary, over_lists = _type_figures_sql(session, wd.between(entrusted, finished) - _suspended(session, wd, tz),
                                                done, over_target_limit)
    else:
        paused = _suspended_sums(session, calendar, Project.id, done, tz)
        summary, over_lists = _type_figures_grouped(session, calendar, entrusted, finished, done, over_target_limit,
                                                    paused)
    rows = []
    for ptype in session.scalars(select(ProjectType).order_by(ProjectType.code)):
        n, total, over = summary.get(ptype.id, (0, 0, 0))
        rows.append({
            "project_type": ptype.code, "name": ptype.name, "target_days": ptype.target_days, "completed": n,
            "avg_working_days": _mean(total or 0, n), "over_target": over,
            "over_target_projects": over_lists.get(ptype.id, []),
        })
    return rows


def _over(pid, name, code, days, target) -> dict:
    return {"id": pid, "name": name, "project_code": code or "", "working_days": int(days), "target_days": target,
            "over_by": int(days) - target}


def _type_figures_sql(session, used, done, limit):
    over = used > ProjectType.target_days
    summary = {type_id: (n, total, over_n) for type_id, n, total, over_n in session.execute(
        select(Project.project_type_id, func.count(), func.sum(used), _count_if(over))
        .join(ProjectType, ProjectType.id == Project.project_type_id).where(*done)
        .group_by(Project.project_type_id))}
    ranked = (select(Project.id, Project.name, Project.project_code, Project.project_type_id, used.label("days"),
                     ProjectType.target_days,
                     func.row_number().over(partition_by=Project.project_type_id,
                                            order_by=(used.desc(), Project.id)).label("rank"))
              .join(ProjectType, ProjectType.id == Project.project_type_id).where(*done, over).subquery())
    lists: dict[int, list] = defaultdict(list)
    for row in session.execute(select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.project_type_id,
                                                                                      ranked.c.rank)):
        lists[row.project_type_id].append(_over(row.id, row.name, row.project_code, row.days, row.target_days))
    return summary, lists


def _type_figures_grouped(session, calendar, entrusted, finished, done, limit, paused):
    """``paused``: project id -> working days suspended, for the completed projects ever suspended;
    those are left out of the grouping and counted one by one (a group of one, keyed by its id)."""
    targets = dict(session.execute(select(ProjectType.id, ProjectType.target_days)).all())
    pairs: dict[int, list] = defaultdict(list)
    grouped = [*done, Project.id.not_in(list(paused))] if paused else done
    for type_id, a, b, n in session.execute(
            select(Project.project_type_id, entrusted, finished, func.count()).where(*grouped)
            .group_by(Project.project_type_id, entrusted, finished)):
        pairs[type_id].append((a, b, calendar.working_days_between(day_of(a), day_of(b)), n))
    names = {}
    if paused:
        for pid, name, code, type_id, a, b in session.execute(
                select(Project.id, Project.name, Project.project_code, Project.project_type_id, entrusted, finished)
                .where(*done, Project.id.in_(list(paused)))):
            names[pid] = (name, code)
            pairs[type_id].append((None, pid, calendar.working_days_between(day_of(a), day_of(b)) - paused[pid], 1))
    summary, lists = {}, {}
    for type_id, groups in pairs.items():
        target = targets[type_id]
        over = sorted((g for g in groups if g[2] > target), key=lambda g: -g[2])
        summary[type_id] = (sum(g[3] for g in groups), sum(g[2] * g[3] for g in groups), sum(g[3] for g in over))
        chosen = []
        for group in over:
            chosen.append(group)
            if sum(g[3] for g in chosen) >= limit:
                break
        if chosen and limit > 0:
            projects = [_over(pid, *names[pid], d, target) for a, pid, d, _ in chosen if a is None]
            days = {(a, b): d for a, b, d, _ in chosen if a is not None}
            if days:
                found = session.execute(
                    select(Project.id, Project.name, Project.project_code, entrusted, finished)
                    .where(*grouped, Project.project_type_id == type_id,
                           tuple_(entrusted, finished).in_(list(days)))).all()
                projects += [_over(pid, name, code, days[(a, b)], target) for pid, name, code, a, b in found]
            lists[type_id] = sorted(projects, key=lambda p: (-p["working_days"], p["id"]))[:limit]
    return summary, lists


# -- visits (最多跑一次, R18) ------------------------------------------------------


def visit_figures(session: Session, period: Period, tz: tzinfo, over_one_limit: int = OVER_TARGET_LIMIT) -> list[dict]:
    """One row per project type (by code) over the projects completed in the period (as
    ``project_type_figures``): how many, the share with no visit to the hall (不见面), the share with
    at most one (最多跑一次), and those with more (``over_one`` of them, at most ``over_one_limit``
    listed per type, most visits first, each with its visits' reasons in date order).

    A project's visits are all its recorded ``Visit`` rows.  Rates are None without a completed project.
    """
    lo, hi = period.bounds(tz)
    done = [Project.status == "completed", Project.completed_at >= lo, Project.completed_at < hi]
    counts = (select(Visit.project_id, func.count().label("visits")).join(Project, Project.id == Visit.project_id)
              .where(*done).group_by(Visit.project_id).subquery())
    visits = func.coalesce(counts.c.visits, 0)
    summary = {type_id: (n, zero, at_most_one) for type_id, n, zero, at_most_one in session.execute(
        select(Project.project_type_id, func.count(), _count_if(visits == 0), _count_if(visits <= 1))
        .outerjoin(counts, counts.c.project_id == Project.id).where(*done).group_by(Project.project_type_id))}
    ranked = (select(Project.id, Project.name, Project.project_code, Project.project_type_id, counts.c.visits,
                     func.row_number().over(partition_by=Project.project_type_id,
                                            order_by=(counts.c.visits.desc(), Project.id)).label("rank"))
              .join(counts, counts.c.project_id == Project.id).where(*done, counts.c.visits > 1).subquery())
    listed = session.execute(select(ranked).where(ranked.c.rank <= over_one_limit)
                             .order_by(ranked.c.project_type_id, ranked.c.rank)).all()
    reasons: dict[int, list[str]] = defaultdict(list)
    if listed:
        for project_id, reason in session.execute(
                select(Visit.project_id, Visit.reason).where(Visit.project_id.in_([row.id for row in listed]))
                .order_by(Visit.project_id, Visit.on, Visit.id)):
            reasons[project_id].append(reason)
    over: dict[int, list] = defaultdict(list)
    for row in listed:
        over[row.project_type_id].append({"project_id": row.id, "name": row.name,
                                          "project_code": row.project_code or "", "visits": row.visits,
                                          "reasons": reasons[row.id]})
    rows = []
    for ptype in session.scalars(select(ProjectType).order_by(ProjectType.code)):
        n, zero, at_most_one = summary.get(ptype.id, (0, 0, 0))
        rows.append({"project_type": ptype.code, "name": ptype.name, "completed": n, "zero_visit": zero,
                     "zero_visit_rate": _rate(zero, n), "at_most_one": at_most_one,
                     "at_most_one_rate": _rate(at_most_one, n), "over_one_count": n - at_most_one,
                     "over_one": over.get(ptype.id, [])})
    return rows


# -- stars (星级, R17) --------------------------------------------------------------

STARS = range(1, 6)


def star_figures(session: Session) -> list[dict]:
    """The catalog's items at each online service level 1..5 (zeros included) and their share of
    all items (None for an empty catalog)."""
    counts = dict(session.execute(select(ApprovalItem.star, func.count()).group_by(ApprovalItem.star)).all())
    total = sum(counts.values())
    return [{"star": star, "items": counts.get(star, 0), "share": _rate(counts.get(star, 0), total)}
            for star in STARS]


# -- trend -------------------------------------------------------------------------


def weekly_trend(session: Session, period: Period, tz: tzinfo) -> list[dict]:
    """Hall-wide figures per week (Monday to Sunday) of the period, with the same definitions.

    One grouped query per source by local date; Python folds the days into weeks.
    """
    return [{"week": row.pop("start"), **row} for row in _trend(session, period, tz, _monday, _next_week)]


def monthly_trend(session: Session, period: Period, tz: tzinfo) -> list[dict]:
    """Hall-wide figures per calendar month of the period (the months it touches), as ``weekly_trend``,
    plus ``satisfaction``: the mean level of every rating (of a department's task or of a whole
    project) created in the month, None without ratings, and ``ratings``, their number."""
    return [{"month": row.pop("start"), **row}
            for row in _trend(session, period, tz, _first_of_month, _next_month, satisfaction=True)]


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _next_week(d: date) -> date:
    return d + timedelta(days=7)


def _first_of_month(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def _trend(session: Session, period: Period, tz: tzinfo, bucket, following, satisfaction: bool = False) -> list[dict]:
    """The figures of each bucket (``bucket(day)`` its first day, ``following(first)`` the next one's)."""
    closed = _closed_in(period, tz)
    lo, hi = period.bounds(tz)
    answered = Task.status == "answered"
    day = day_number(session, Task.answered_at, tz)
    early = and_(answered, day < day_number(session, Task.deadline, tz))
    buckets: dict[date, dict] = {}

    def of(d) -> dict:
        first = bucket(d if isinstance(d, date) else day_of(d))
        blank = {"start": first, "tasks": 0, "on_time": 0, "early": 0, "deemed_timeout": 0, "red": 0, "yellow": 0}
        if satisfaction:
            blank.update(levels=0, ratings=0)
        return buckets.setdefault(first, blank)

    start = bucket(period.start)
    while start <= period.end:
        of(start)
        start = following(start)
    for d, n, on_time, early_n, deemed in session.execute(
            select(day, func.count(), _count_if(and_(answered, Task.answered_at <= Task.deadline)),
                   _count_if(early), _count_if(and_(Task.status == "deemed_consent",
                                                    Task.outcome_reason == "timeout")))
            .where(*closed).group_by(day)):
        b = of(d)
        b["tasks"] += n
        b["on_time"] += on_time
        b["early"] += early_n
        b["deemed_timeout"] += deemed
    card_day = day_number(session, Card.at, tz)
    for d, red, yellow in session.execute(
            select(card_day, _count_if(Card.color == "red"), _count_if(Card.color == "yellow"))
            .where(Card.at >= lo, Card.at < hi).group_by(card_day)):
        b = of(d)
        b["red"] += red
        b["yellow"] += yellow
    if satisfaction:
        rating_day = day_number(session, Rating.created_at, tz)
        for d, total, n in session.execute(
                select(rating_day, func.sum(Rating.level), func.count())
                .where(Rating.created_at >= lo, Rating.created_at < hi).group_by(rating_day)):
            b = of(d)
            b["levels"] += total or 0
            b["ratings"] += n
    result = []
    for first in sorted(buckets):
        b = buckets[first]
        b["on_time_rate"] = _rate(b["on_time"], b["tasks"])
        b["early_rate"] = _rate(b["early"], b["tasks"])
        if satisfaction:
            b["satisfaction"] = _mean(b.pop("levels"), b["ratings"])
        result.append(b)
    return result
