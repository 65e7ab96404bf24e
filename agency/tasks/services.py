"""A department task's life (R4): accept, one-time notice, answer, deemed consent.

Every closing transition is one conditional UPDATE (``WHERE status IN
(...)``) taken under the project's lock, so a race has exactly one winner.

The project lifecycle (agency.projects.services) owns its tasks: it creates
and cancels them through this module and registers, with ``on_task_closed``,
how a project reacts to a closed task.  This module never imports it: the
dependency runs one way, projects to tasks.
"""
import functools
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, Update, bindparam, func, insert, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from agency.audit.services import (SYSTEM, Actor, chain_of, lock_chains, next_event, record, record_change,
                                  write_events)
from agency.calendar.services import get_calendar
from agency.clock import closing_time, hall_tz, local
from agency.dbtypes import values_in
from agency.errors import BadInput, TransitionNotAllowed
from agency.jobs.services import write_jobs
from agency.notifications.services import Notice, notify_many, send_notices
from agency.supervision.services import escalate, give_card, give_cards
from agency.people.models import User
from agency.projects.locks import Seen, lock_projects, seen_by_fetch
from agency.results.services import record_deemed_notices
from agency.tasks.models import (CONSENTING, DECISIONS, OPEN_STATUSES, ROW_VERSION, RUNNING_STATUSES,
                                 SupplementRequest, Task)
from workers.queues import department_queue

STATUS_NAMES = {"pending": "待受理", "accepted": "已受理", "supplement": "补正中", "answered": "已答复",
                "deemed_consent": "默认同意", "cancelled": "已取消"}
DECISION_NAMES = {"consent": "同意", "consent_with_conditions": "附条件同意", "refuse": "不予办理"}


_CLOSED_HOOKS: list = []


def on_task_closed(react) -> None:
    """Register ``react(session, now, task, others_open)``, called under the project's lock after each task
    closes; ``others_open``: how many other tasks of its stage are open, when the closing statement counted
    them (``_transition``), else None (the project's stages and tasks were read under the lock)."""
    if react not in _CLOSED_HOOKS:
        _CLOSED_HOOKS.append(react)


def _closed(session: Session, now: datetime, task: Task, others_open: int | None = None) -> None:
    if not _CLOSED_HOOKS:  # a stage would never close nor a refusal stop anything: fail loudly
        raise RuntimeError("no project lifecycle registered: import agency.projects.services")
    for react in _CLOSED_HOOKS:
        react(session, now, task, others_open)


def clock_window(session: Session, start: datetime, days: int) -> tuple[datetime, datetime]:
    """Deadline and warning instant for ``days`` working days from ``start`` (R1)."""
    calendar = get_calendar(session)
    tz, closing = hall_tz(), closing_time()
    deadline = calendar.deadline_after(start, days, tz, closing)
    return deadline, calendar.warning_time(deadline, tz, closing)


def item_window(session: Session, start: datetime, item, days: int | None = None) -> tuple[datetime, datetime]:
    """The clock of ``item`` started at ``start``: its promised working days, or the same day if immediate.

    An immediate item (即办件) is answered the working day it arrives: its deadline is the hall's
    closing time that day when it arrives on a working day before closing, else the next working
    day's.  It has no one-working-day warning (warn_at = deadline: never less than a day left before).
    """
    if not item.immediate:
        return clock_window(session, start, item.promised_days if days is None else days)
    calendar = get_calendar(session)
    tz, closing = hall_tz(), closing_time()
    arrived = local(start)
    day = arrived.date()
    if not calendar.is_working_day(day) or arrived.timetz().replace(tzinfo=None) >= closing:
        day = calendar.next_working_day(day)
    deadline = datetime.combine(day, closing, tzinfo=tz).astimezone(timezone.utc)
    return deadline, deadline


def create_tasks(session: Session, now: datetime, project, stage, items,
                 supersedes: Task | None = None) -> list[Task]:
    """One task per approval item, each sent to its department's queue (R3).

    ``supersedes``: the refused task a resubmission replaces (one item); the unique
    ``tasks.supersedes_id`` lets a refused task be resubmitted once only (R2).

    Written by one bulk ``INSERT ... RETURNING`` that loads the new rows as Task objects, not by
    the unit of work's flush of Task objects built one by one (bench_workflow: that flush was the
    largest part of a dispatch's Python, about 7 of its 19 ms for 8 tasks).  The relationships the
    rules then follow (project, stage, item, department) are set from what the caller holds, and the
    new tasks are added to the stage's and project's loaded task lists.  Items of the same clock
    (immediate or not, promised days) share one deadline computation.
    """
    windows, rows = {}, []
    for item in items:
        clock = (item.immediate, item.promised_days)
        if clock not in windows:
            windows[clock] = item_window(session, now, item)
        deadline, warn_at = windows[clock]
        rows.append(dict(project_id=project.id, stage_id=stage.id, department_id=item.department_id, item_id=item.id,
                         status="pending", outcome=None, outcome_reason=None, opinion="",
                         promised_days=item.promised_days, started_at=now, deadline=deadline, warn_at=warn_at,
                         warned_at=None, escalated_at=None, delivered_at=None, accepted_at=None, answered_at=None,
                         answered_by_id=None, supplement_count=0, paused_at=None, suspended_days_left=None,
                         supersedes_id=supersedes.id if supersedes else None, cancel_reason="", created_at=now))
    tasks = list(session.scalars(insert(Task).returning(Task, sort_by_parameter_order=True), rows))
    for task, item in zip(tasks, items):
        for name, value in (("project", project), ("stage", stage), ("item", item), ("department", item.department),
                            ("supplements", [])):
            set_committed_value(task, name, value)
    for owner in (stage, project):  # lists already loaded (under the project's lock) take the new tasks
        if "tasks" not in inspect(owner).unloaded:
            set_committed_value(owner, "tasks", sorted([*owner.tasks, *tasks], key=lambda t: t.id))
    write_jobs(session, now, [(department_queue(task.department.code), "workers.tasks.deliver_task", [task.id])
                              for task in tasks])  # a task just created has no job yet: no key to look up
    return tasks


def _move_many(session: Session, tasks: list[Task], from_states, *, where=(), unless_done=None, **values) -> list[Task]:
    """The conditional UPDATE of many tasks at once; the tasks this caller moved.

    One ``UPDATE ... WHERE id IN (...) AND status IN (...) RETURNING id``: a
    row either matches and is moved by this statement or is left alone, so
    every row still has exactly one winner.  ``where`` adds conditions (the
    deadline still past); ``unless_done`` names a timestamp column that marks
    a one-off fact (``warned_at``, ``escalated_at``): it must still be NULL.
    """
    if not tasks:
        return []
    ids = [t.id for t in tasks]
    table = Task.__table__  # Core on the connection: every transition pays it, the ORM's bulk UPDATE cost more
    conditions = [table.c.id == ids[0] if len(ids) == 1 else values_in(session, table.c.id, ids),
                  table.c.status.in_(from_states), *where]
    if unless_done is not None:
        conditions.append(table.c[unless_done].is_(None))
    moved = set(session.connection().execute(update(table).where(*conditions).values(**values)
                                             .returning(table.c.id)).scalars())
    won = [t for t in tasks if t.id in moved]
    for task in won:
        _moved(task, values)
    return won


def _moved(task: Task, values: dict) -> None:
    """The task's loaded columns as its conditional UPDATE wrote them (no statement)."""
    for name, value in values.items():
        set_committed_value(task, name, value)


@functools.cache
def _move_one(from_states: tuple, unless_done: str | None, columns: tuple, seen: bool = False) -> Update:
    """One task's transition as a statement built once per shape, its task and values as parameters
    (``moved_id``, ``new_<column>``): building the UPDATE anew cost a third of an answer's UPDATE (bench_workflow).

    ``seen`` (PostgreSQL): made only if the task's row is still the version its request's fetch saw
    (``seen_version``, ``agency.projects.locks.Seen``), and returning how many other tasks of its stage are
    open (``others_open``), counted by this statement, whose snapshot is taken under the project's lock.
    """
    table = Task.__table__
    conditions = [table.c.id == bindparam("moved_id"), table.c.status.in_(from_states)]
    if unless_done is not None:
        conditions.append(table.c[unless_done].is_(None))
    returning = [table.c.id]
    if seen:
        conditions.append(ROW_VERSION == bindparam("seen_version"))
        other = table.alias("other")
        returning.append(select(func.count()).where(other.c.stage_id == table.c.stage_id, other.c.id != table.c.id,
                                                    other.c.status.in_(OPEN_STATUSES))
                         .correlate(table).scalar_subquery().label("others_open"))
    return (update(table).where(*conditions).values({name: bindparam(f"new_{name}") for name in columns})
            .returning(*returning))


def _move(session: Session, task: Task, from_states, *, unless_done=None, audit: dict | None = None,
          seen: Seen | None = None, following: tuple[tuple, dict] = ((), {}), **values) -> Row | None:
    """One task's conditional UPDATE: its returned row when this caller won the transition, else None.

    ``audit``: ``record``'s arguments (``now``, ``actor``, ``action``, ``before``, ``after``, ``detail``) for
    the event of the transition, written only if it was won (``record_change``: on PostgreSQL by the
    UPDATE's own statement).  ``seen`` (with ``audit``): the task and audit head as the request's fetch saw
    them, checked by the statement (``_transition``); a transition not made is then not read again here.
    ``following`` (with ``audit``): writes made only with the transition and their parameters
    (``record_change``'s, e.g. ``agency.results.services.result_writes``).
    """
    statement = _move_one(tuple(from_states), unless_done, tuple(values), seen is not None)
    parameters = {"moved_id": task.id, **{f"new_{name}": value for name, value in values.items()}}
    writes, more = following
    if audit is None:
        moved = session.connection().execute(statement, parameters).first()
    elif seen is None:
        moved = record_change(session, statement, parameters | more, obj=task, following=writes, **audit)
    else:
        moved = record_change(session, statement, parameters | more | {"seen_version": seen.version}, obj=task,
                              head=seen.head, following=writes, **audit)
    if moved is not None:
        _moved(task, values)
    elif seen is None:
        session.refresh(task)
    return moved


def _transition(session: Session, now: datetime, task: Task, from_states, build,
                following: tuple[tuple, dict] = ((), {})) -> Row | None:
    """Lock the task's project, settle its clocks as of ``now``, and make the transition ``build(task)`` gives
    (its new values and ``record``'s arguments for its event, from the task as then known): the row of the
    transition when it was made, else None (the task's status does not allow it).

    Where the request's fetch locked the project and saw the task (``seen_by_fetch``: PostgreSQL), nothing
    is read after the lock: the transition is made only if the task's row and its project's audit head are
    still what the fetch saw (it may have read them before waiting for the lock), in one statement with its
    event, which also counts the stage's other open tasks (``others_open``: while there are, the stage
    rule needs no read).  If they were overtaken, or a clock of the task is due, the usual way: the
    project's stages and tasks read under the lock, the clocks settled, and the transition then.
    ``following``: writes made with the transition only (``_move``).
    """
    seen = seen_by_fetch(session, task)
    if seen is not None and not clocks_due(now, [task]):
        values, audit = build(task)
        moved = _move(session, task, from_states, audit=audit, seen=seen, following=following, **values)
        if moved is not None:
            return moved
    _lock_and_settle(session, now, task)
    values, audit = build(task)
    return _move(session, task, from_states, audit=audit, following=following, **values)


def _refuse_move(task: Task, action: str) -> TransitionNotAllowed:
    if task.status == "deemed_consent" and task.outcome_reason == "timeout":
        deadline = f"{local(task.deadline):%Y-%m-%d %H:%M}"
        return TransitionNotAllowed(f"task {task.id} was deemed consent at its deadline {deadline}; it cannot be "
                                    f"{action}", fields={"status": task.status, "deadline": deadline},
                                    shown=_l("办件已于期限 %(deadline)s 超时默认同意，不能再办理。", deadline=deadline))
    return TransitionNotAllowed(f"task {task.id} is {task.status}; it cannot be {action}",
                                fields={"status": task.status},
                                shown=_l("办件已不在可办理此操作的状态，请以页面上的最新状态为准。"))


def _lock(session: Session, task: Task) -> None:
    lock_projects(session, [task.project_id])


def _lock_and_settle(session: Session, now: datetime, task: Task) -> None:
    """Take the task's project and settle its clocks as of ``now``: a late answer meets the deemed task."""
    _lock(session, task)
    settle_clocks(session, now, [task])


def clocks_due(now: datetime, tasks) -> bool:
    """Whether any of ``tasks`` has a clock to settle as of ``now`` (in Python: no statement)."""
    return any(t.status in RUNNING_STATUSES and t.escalated_at is None and t.suspended_days_left is None
               and (t.deadline <= now or (t.warned_at is None and t.warn_at <= now)) for t in tasks)


def settle_clocks(session: Session, now: datetime, tasks) -> dict:
    """THE outcome of the task clocks as of ``now`` (R5): timeouts first, then one-working-day warnings.

    The sweep calls it for its batches, and every request touching a task or project calls it
    first, so what a user sees never depends on when the sweep last ran.  The due tasks are
    picked in Python from rows already loaded: nothing due costs no statement; something due
    costs what the sweep pays (apply_timeouts, apply_warnings), whoever comes first winning
    each task's conditional UPDATE.
    """
    counts = {"deemed_consent": 0, "escalated": 0, "warned": 0}
    running = [t for t in tasks if t.status in RUNNING_STATUSES and t.escalated_at is None
               and t.suspended_days_left is None]  # a suspended project's clocks are stopped (R2)
    late = [t for t in running if t.deadline <= now]
    if late:
        counts.update(apply_timeouts(session, now, late))
    warn = [t for t in running if t.status in RUNNING_STATUSES and t.warned_at is None and t.warn_at <= now < t.deadline]
    if warn:
        counts["warned"] = apply_warnings(session, now, warn)
    return counts


def accept_task(session: Session, now: datetime, actor: Actor, task: Task) -> Task:
    def accepted(task: Task) -> tuple[dict, dict]:
        return (dict(status="accepted", accepted_at=now),
                dict(now=now, actor=actor, action="task.accepted", before={"status": "pending"},
                     after={"status": "accepted"}, detail=f"{task.department.name}受理“{task.item.name}”"))
    if _transition(session, now, task, ("pending",), accepted) is None:
        raise _refuse_move(task, "accepted")
    return task


def request_supplement(session: Session, now: datetime, actor: Actor, task: Task, materials: list[str],
                       note: str = "") -> Task:
    """One-time notice: every missing material at once; the clock stops (R4)."""
    materials = [m.strip() for m in materials or [] if m and m.strip()]
    if not materials:
        raise BadInput("list every missing material", fields={"materials": "a non-empty list is required"},
                       shown=_l("请一次性列出全部需补正的材料。"))
    _lock_and_settle(session, now, task)
    before = task.status
    if not _move(session, task, RUNNING_STATUSES, status="supplement", paused_at=now, suspended_days_left=None,
                 supplement_count=task.supplement_count + 1, accepted_at=task.accepted_at or now):
        raise _refuse_move(task, "sent a supplement request")
    session.add(SupplementRequest(task_id=task.id, materials=materials, note=note, requested_at=now,
                                  requested_by_id=actor.id))
    record(session, now, actor, "task.supplement_requested", task, before={"status": before},
           after={"status": "supplement", "materials": materials, "count": task.supplement_count},
           detail=f"{task.department.name}一次性告知补正材料：{'；'.join(materials)}")
    if task.supplement_count > 1:
        give_card(session, now, key=f"second_supplement:task:{task.id}:{task.supplement_count}", color="yellow",
                  reason="second_supplement", department_id=task.department_id, project_id=task.project_id,
                  task_id=task.id, detail=f"第{task.supplement_count}次要求补正（违反一次性告知）")
    project = task.project
    notify_many(session, now, [project.agent, project.enterprise], f"需补正材料：{task.item.name}",
                f"{task.department.name}要求补正：{'；'.join(materials)}", key=f"supplement:{task.id}:{task.supplement_count}",
                link=f"/projects/{project.id}", project_id=project.id)
    return task


def supply_materials(session: Session, now: datetime, actor: Actor, task: Task) -> Task:
    """Materials arrived: the clock restarts with the full promised limit (R4); while the project is
    suspended it stays stopped, holding that limit for the resumption."""
    if actor.role == "agent":
        from agency.people.access import require_carrying_agent
        require_carrying_agent(actor, task.project, "register its materials")
    _lock_and_settle(session, now, task)
    deadline, warn_at = item_window(session, now, task.item, task.promised_days)
    held = task.promised_days if task.project.suspended else None
    if not _move(session, task, ("supplement",), status="accepted", started_at=now, deadline=deadline,
                 warn_at=warn_at, warned_at=None, paused_at=None, suspended_days_left=held):
        raise _refuse_move(task, "given materials (no supplement request is open)")
    for request in task.supplements:
        if request.supplied_at is None:
            request.supplied_at = now
    record(session, now, actor, "task.materials_supplied", task, before={"status": "supplement"},
           after={"status": "accepted", "deadline": deadline.isoformat()},
           detail=f"补正材料已提交，“{task.item.name}”重新计时{task.promised_days}个工作日")
    liaisons = [task.department.reachable_liaison()]
    notify_many(session, now, liaisons, f"补正材料已到：{task.item.name}", f"项目“{task.project.name}”已补正材料。",
                key=f"supplied:{task.id}:{task.supplement_count}", link=f"/tasks/{task.id}", project_id=task.project_id)
    return task


def answer_task(session: Session, now: datetime, actor: Actor, task: Task, decision: str, opinion: str = "",
                result: dict | None = None) -> Task:
    """Consent, consent with conditions, or refuse; an opinion is required unless plain consent.

    A consent records the task's result (``result``: kind, number, issue date; R16), written with the
    transition (``result_writes``).
    """
    from agency.results.services import result_writes
    opinion = (opinion or "").strip()
    if decision not in DECISIONS:
        raise BadInput("unknown decision", fields={"decision": f"one of {', '.join(DECISIONS)}"},
                       shown=_l("请选择答复意见。"))
    if decision != "consent" and not opinion:
        raise BadInput("an opinion is required", fields={"opinion": f"required for {decision}"},
                       shown=_l("除同意外须填写意见：附加的条件或不予办理的理由。"))
    if result and decision not in CONSENTING:
        raise BadInput("only a consent issues a result", fields={"result": f"not with {decision}"},
                       shown=_l("只有同意（或附条件同意）才出具办理结果。"))

    def answered(task: Task) -> tuple[dict, dict]:
        return (dict(status="answered", outcome=decision, opinion=opinion, answered_at=now, answered_by_id=actor.id,
                     accepted_at=task.accepted_at or now),
                dict(now=now, actor=actor, action="task.answered", before={"status": task.status},
                     after={"status": "answered", "outcome": decision, "opinion": opinion},
                     detail=f"{task.department.name}答复“{task.item.name}”：{DECISION_NAMES[decision]}"
                            + (f"（{opinion}）" if opinion else "")))
    consent = decision in CONSENTING
    moved = _transition(session, now, task, RUNNING_STATUSES, answered,
                        result_writes(now, task, result) if consent else ((), {}))
    if moved is None:
        raise _refuse_move(task, "answered")
    if consent:
        session.expire(task, ["result"])  # whoever reads it next loads the row just written
    project = task.project
    notify_many(session, now, [project.agent, project.enterprise], f"部门已答复：{task.item.name}",
                f"{task.department.name}：{DECISION_NAMES[decision]}。{opinion}", key=f"answered:{task.id}",
                link=f"/projects/{project.id}", project_id=project.id)
    _closed(session, now, task, moved._mapping.get("others_open"))
    return task


def deem_consent(session: Session, now: datetime, tasks: list[Task], reason: str, from_states=RUNNING_STATUSES,
                 actor: Actor = SYSTEM, *, due_by: datetime | None = None) -> list[Task]:
    """Close tasks as deemed consent (timeout or absence); the ones this call closed.

    A task closed meanwhile (answered, deemed by another sweep) is left out;
    with ``due_by``, so is one whose clock was restarted past that instant.
    The whole batch costs a few statements, not a few per task.
    """
    lock_projects(session, {t.project_id for t in tasks})
    before = {t.id: t.status for t in tasks}
    ticking = (Task.suspended_days_left.is_(None),)  # nothing is deemed while the project is suspended (R2)
    won = _move_many(session, tasks, from_states, where=ticking + ((Task.deadline <= due_by,) if due_by else ()),
                     status="deemed_consent", outcome="consent", outcome_reason=reason, answered_at=now)
    lock_chains(session, {chain_of(t.project_id) for t in won})
    why = "超时默认同意" if reason == "timeout" else "缺席默认同意"
    write_events(session, [next_event(session, now, actor, "task.deemed_consent", task,
                                      before={"status": before[task.id]},
                                      after={"status": "deemed_consent", "reason": reason},
                                      detail=f"{task.department.name}“{task.item.name}”{why}") for task in won])
    notices = []
    for task in won:
        body = (f"{task.department.name}未在时限内答复“{task.item.name}”，按规定视为同意。" if reason == "timeout"
                else f"{task.department.name}经正式邀请未出席联审会议，视为同意。")
        notices += [Notice(person, f"{why}：{task.item.name}", body, f"deemed:{task.id}", f"/projects/{task.project_id}",
                           task.project_id) for person in (task.project.agent, task.project.enterprise) if person]
    send_notices(session, now, notices)
    record_deemed_notices(session, now, won)
    for task in won:
        _closed(session, now, task)
    return won


def apply_timeouts(session: Session, now: datetime, tasks: list[Task]) -> dict:
    """Timeout = consent (R5) for due tasks: deemed with a red card, or escalated where it is not allowed."""
    deemed = deem_consent(session, now, [t for t in tasks if t.item.deemed_consent_allowed], "timeout", due_by=now)
    give_cards(session, now, [dict(key=f"timeout:task:{t.id}", color="red", reason="timeout",
                                   department_id=t.department_id, project_id=t.project_id, task_id=t.id,
                                   detail=f"“{t.item.name}”超过承诺时限未答复") for t in deemed])
    escalated = [t for t in tasks if not t.item.deemed_consent_allowed and _escalate_timeout(session, now, t)]
    return {"deemed_consent": len(deemed), "escalated": len(escalated)}


def _escalate_timeout(session: Session, now: datetime, task: Task) -> bool:
    """An item that the law does not let be deemed: the director is asked to step in, once."""
    _lock(session, task)
    if not _move_many(session, [task], RUNNING_STATUSES,
                      where=(Task.deadline <= now, Task.suspended_days_left.is_(None)),
                      unless_done="escalated_at", escalated_at=now):
        return False
    escalate(session, now, task, "timeout_deemed_consent_forbidden")
    give_card(session, now, key=f"timeout:task:{task.id}", color="red", reason="timeout",
              department_id=task.department_id, project_id=task.project_id, task_id=task.id,
              detail=f"“{task.item.name}”超时未答复，依法不适用默认同意，已提交主任督办")
    record(session, now, SYSTEM, "task.escalated", task, after={"reason": "timeout"},
           detail=f"“{task.item.name}”超时未答复（不适用默认同意），提交大厅主任督办")
    directors = session.scalars(select(User).where(User.role == "director", User.active.is_(True))).all()
    notify_many(session, now, [*directors, task.project.agent], f"超时督办：{task.item.name}",
                f"项目“{task.project.name}”的“{task.item.name}”已超时，且不适用默认同意，请督办。",
                key=f"escalated:{task.id}", link=f"/projects/{task.project_id}", project_id=task.project_id)
    return True


def apply_warnings(session: Session, now: datetime, tasks: list[Task]) -> int:
    """One working day left: a yellow-card warning, once per clock run; how many were warned."""
    lock_projects(session, {t.project_id for t in tasks})
    won = _move_many(session, tasks, RUNNING_STATUSES, where=(Task.warn_at <= now, Task.deadline > now,
                                                               Task.escalated_at.is_(None),
                                                               Task.suspended_days_left.is_(None)),
                     unless_done="warned_at", warned_at=now)
    give_cards(session, now, [dict(key=f"warning:task:{t.id}:{t.supplement_count}", color="yellow", reason="warning",
                                   department_id=t.department_id, project_id=t.project_id, task_id=t.id,
                                   detail=f"“{t.item.name}”剩余1个工作日") for t in won])
    lock_chains(session, {chain_of(t.project_id) for t in won})
    write_events(session, [next_event(session, now, SYSTEM, "task.warned", task,
                                      detail=f"预警：{task.department.name}“{task.item.name}”剩余1个工作日")
                           for task in won])
    notices = []
    for task in won:
        notices += [Notice(person, f"预警：{task.item.name}剩余1个工作日",
                           f"项目“{task.project.name}”的办件将于{local(task.deadline):%Y-%m-%d %H:%M}到期。",
                           f"warned:{task.id}:{task.supplement_count}", f"/tasks/{task.id}", task.project_id)
                    for person in (task.department.reachable_liaison(), task.project.agent) if person]
    send_notices(session, now, notices)
    return len(won)


def cancel_task(session: Session, now: datetime, actor: Actor, task: Task, reason: str) -> bool:
    before = task.status
    if not _move(session, task, OPEN_STATUSES, status="cancelled", cancel_reason=reason):
        return False
    record(session, now, actor, "task.cancelled", task, before={"status": before}, after={"status": "cancelled"},
           detail=f"“{task.item.name}”已取消：{reason}")
    return True


def stop_clocks(session: Session, now: datetime, tasks: list[Task]) -> dict[int, int]:
    """The project is suspended (R2): each running clock stops, keeping the working days it had left.

    Status, deadline and warning instant stay; ``suspended_days_left`` takes them out of the
    sweep's partial indexes and of every deeming.  A task already past its deadline is due, not
    running: it is left to the sweep.  One UPDATE; the caller holds the project's lock.
    """
    calendar, tz = get_calendar(session), hall_tz()
    left = {t.id: calendar.working_days_left(now, t.deadline, tz) for t in tasks
            if t.status in RUNNING_STATUSES and t.suspended_days_left is None and t.deadline > now}
    if left:
        session.execute(update(Task), [{"id": i, "suspended_days_left": n} for i, n in left.items()])
        for task in tasks:
            if task.id in left:
                set_committed_value(task, "suspended_days_left", left[task.id])
    return left


def restart_clocks(session: Session, now: datetime, tasks: list[Task]) -> dict[int, datetime]:
    """The project resumes (R2): each stopped clock gets back the working days it had left, counted
    from ``now`` (closing time on the last one, as ``clock_window``); not the full limit (that is R4's
    supplement).  One UPDATE; the caller holds the project's lock.  New deadlines by task id."""
    rows = []
    for task in tasks:
        if task.suspended_days_left is not None and task.status in RUNNING_STATUSES:
            deadline, warn_at = clock_window(session, now, task.suspended_days_left)
            rows.append({"id": task.id, "deadline": deadline, "warn_at": warn_at, "suspended_days_left": None})
    if rows:
        session.execute(update(Task), rows)
        by_id = {t.id: t for t in tasks}
        for row in rows:
            for name in ("deadline", "warn_at", "suspended_days_left"):
                set_committed_value(by_id[row["id"]], name, row[name])
    return {row["id"]: row["deadline"] for row in rows}
