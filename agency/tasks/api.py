"""Department tasks: the liaison's queue and its answers."""
from functools import lru_cache

from flask import jsonify, url_for
from sqlalchemy import Select, bindparam, select, tuple_

from agency import clock
from agency.api import Blueprint, caller, current_user, reads, roles
from agency.audit.services import Actor
from agency.extensions import db
from agency.people.access import Caller, get_task, visible_tasks
from agency.projects.clocks import settle_task_rows
from agency.projects.decisions import resubmit_task  # the project lifecycle creates a project's tasks
from agency.tasks import services
from agency.tasks.services import clocks_due
from agency.tasks.models import OPEN_CLAUSE, OPEN_STATUSES, Task
from agency.tasks.schemas import (AnswerInput, ResubmitInput, SupplementInput, TaskQuery, TaskSchema,
                                  dump_task_rows, task_rows)
from agency.transaction import read_outside_transaction

blp = Blueprint("tasks_api", __name__, description="Department tasks (办件)")

LINK = {"description": "only when there are more tasks: `<URL of the next page>; rel=\"next\"` (RFC 8288), the "
                       "same filters and limit with the cursor `after`", "schema": {"type": "string"}}
_QUERY = TaskQuery()


@blp.get("/tasks")
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskSchema(many=True), headers={"Link": LINK})
@reads
def list_tasks(query):
    """Liaison: its department's tasks; agent: its projects'; director: all.  Soonest deadline first.

    A page at a time: `limit` tasks (default 50, at most 200); when there are more, the `Link`
    header gives the URL of the next page (`rel="next"`), with the same filters and an opaque
    cursor `after`.  Pages follow (deadline, id), not an offset: tasks arriving or leaving between
    two requests do not make others repeat or go missing.
    ---
    Keyset pagination on ``(deadline, id)``: a page is one index range scan wherever it starts.
    One statement reads the page as rows (``task_rows``), written as TaskSchema writes a task
    (``dump_task_rows``).  Clocks due on the page (``clocks_due``: picked in Python, no
    statement when none is) are settled in a transaction of their own and committed first,
    and the page read again: the legal outcome is never skipped.  Until then the request
    reads outside a transaction (``@reads``: no BEGIN, no COMMIT).
    """
    limit = query["limit"]
    page, parameters = task_page(query)
    rows = read_page(page, parameters)
    now = clock.now()
    if clocks_due(now, rows[:limit]):  # a clock came due since the sweep: its outcome first
        db.session.commit()  # the reads end; the settling is one transaction
        settle_task_rows(db.session, now, rows[:limit])
        db.session.commit()
        rows = read_page(page, parameters)
    response = jsonify(dump_task_rows(rows[:limit]))
    if len(rows) > limit:
        response.headers["Link"] = next_link(query, rows[limit - 1])
    # COMMIT ends the read (a transaction only if it settled clocks) so that the teardown sends no
    # ROLLBACK: on ROLLBACK psycopg drops every statement it prepared on the connection, and each
    # request would parse and plan its statements again (PostgreSQL CPU per inbox request: ~1.9 ms
    # instead of ~0.8 on the bench).
    db.session.commit()
    return response


def task_page(query) -> tuple[Select, dict]:
    """The statement reading a page of the caller's tasks matching the filters, after the cursor, in
    the list's order (``task_rows``), and its parameters."""
    who = caller()
    statement = _page_statement(Caller(who.role, who.id, who.department_id), query.get("status"),
                                bool(query.get("project_id")), bool(query.get("after")), query["limit"] + 1)
    parameters = {}
    if query.get("project_id"):
        parameters["project_id"] = query["project_id"]
    if query.get("after"):
        parameters["after_deadline"], parameters["after_id"] = query["after"]
    return statement, parameters


@lru_cache(maxsize=1024)
def _page_statement(who: Caller, status: str | None, by_project: bool, after: bool, rows: int) -> Select:
    """Built once per caller and shape in a process, the values of the filters as parameters.

    Building the statement (and its cache key) on every request cost ~0.3 ms of the inbox's
    ~3 ms of CPU in process on the bench's data; a built statement is immutable and shared by threads.
    """
    statement = visible_tasks(who)
    if status == "open" or status in OPEN_STATUSES:
        # A literal predicate: a generic plan can use the open-tasks indexes (status = $1 cannot).
        statement = statement.where(OPEN_CLAUSE)
    if status and status != "open":
        statement = statement.where(Task.status == status)
    if by_project:
        statement = statement.where(Task.project_id == bindparam("project_id", type_=Task.project_id.type))
    if after:
        statement = statement.where(tuple_(Task.deadline, Task.id) > tuple_(
            bindparam("after_deadline", type_=Task.deadline.type), bindparam("after_id", type_=Task.id.type)))
    return task_rows(statement.order_by(Task.deadline, Task.id).limit(page_limit(rows)))


def read_page(page: Select, parameters: dict) -> list:
    """The page's rows, through the session's connection: plain rows, no ORM loading."""
    return db.session.connection().execute(page, parameters).all()


def page_limit(rows: int):
    """LIMIT ``rows`` written into the SQL rather than sent as a parameter.

    With LIMIT as a parameter PostgreSQL never settles on a generic plan for the list's
    prepared statement and plans it again on every execution (about 1 ms on the bench's
    data, where executing the page takes 0.4 ms); with a literal it keeps one plan per size.
    """
    return bindparam("page_limit", rows, literal_execute=True)


def next_link(query, last) -> str:
    """The Link header to the page after ``last`` (RFC 8288): the same filters and limit, and its cursor."""
    params = {key: query[key] for key in ("status", "project_id") if query.get(key)}
    params = _QUERY.dump({**params, "limit": query["limit"], "after": (last.deadline, last.id)})
    return f'<{url_for("tasks_api.list_tasks", _external=True, **params)}>; rel="next"'


def as_written(task_id: int):
    """The answer of a task's read or change: the task as committed, read as one row (``task_rows``) and
    written as TaskSchema writes it (``dump_task_rows``, the list's), its result and deferrals only if any.

    Dumped from the Task object (expired by a change's commit) the answer read it again piece by piece:
    the task, its project, stage, supplement requests, result and deferrals, up to 7 statements.  Read
    outside a transaction (``read_outside_transaction``), as the list reads.
    """
    read_outside_transaction(db.session())
    response = jsonify(dump_task_rows([read_page(task_rows(select(Task).where(Task.id == task_id)), {})[0]])[0])
    db.session.commit()
    return response


@blp.get("/tasks/<bigint:task_id>")
@blp.response(200, TaskSchema)
def read(task_id):
    get_task(db.session, caller(), task_id)  # seen by the caller (else 404), its clocks settled
    return as_written(task_id)


@blp.post("/tasks/<bigint:task_id>/accept")
@roles("liaison")
@blp.response(200, TaskSchema)
def accept(task_id):
    who = caller()  # id, role and department: all a task's transition needs of its caller, no User built
    task = get_task(db.session, who, task_id, to_change=True)
    services.accept_task(db.session, clock.now(), Actor.of(who), task)
    db.session.commit()
    return as_written(task_id)


@blp.post("/tasks/<bigint:task_id>/supplement")
@roles("liaison")
@blp.arguments(SupplementInput)
@blp.response(200, TaskSchema)
def supplement(data, task_id):
    """One-time notice: list every missing material at once; the clock stops."""
    who = caller()
    task = get_task(db.session, who, task_id, to_change=True)
    services.request_supplement(db.session, clock.now(), Actor.of(who), task, data["materials"],
                                data["note"])
    db.session.commit()
    return as_written(task_id)


@blp.post("/tasks/<bigint:task_id>/materials-supplied")
@roles("agent", "enterprise")
@blp.response(200, TaskSchema)
def materials_supplied(task_id):
    """The materials arrived: the clock restarts with the full promised limit."""
    who = caller()
    task = get_task(db.session, who, task_id, to_change=True)
    services.supply_materials(db.session, clock.now(), Actor.of(who), task)
    db.session.commit()
    return as_written(task_id)


@blp.post("/tasks/<bigint:task_id>/answer")
@roles("liaison")
@blp.arguments(AnswerInput)
@blp.response(200, TaskSchema)
def answer(data, task_id):
    who = caller()
    task = get_task(db.session, who, task_id, to_change=True)
    services.answer_task(db.session, clock.now(), Actor.of(who), task, data["decision"], data["opinion"],
                         data.get("result"))
    db.session.commit()
    return as_written(task_id)


@blp.post("/tasks/<bigint:task_id>/resubmit")
@blp.arguments(ResubmitInput)
@blp.response(201, TaskSchema)
def resubmit(data, task_id):
    """After a refusal and rectification, the carrying agent resubmits the item: a new task, fresh clock."""
    task = get_task(db.session, current_user(), task_id)
    new = resubmit_task(db.session, clock.now(), current_user(), task, data["note"])
    db.session.commit()
    return new
