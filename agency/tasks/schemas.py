import base64
import binascii
import re
from datetime import UTC, datetime, timedelta

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import Select, literal_column, select

from agency import clock
from agency.api.fields import Id, LocalDateTime
from agency.calendar.services import get_calendar
from agency.catalog.models import ApprovalItem, Department
from agency.extensions import db
from agency.materials.models import Deferral
from agency.materials.schemas import DeferralSchema
from agency.results.models import TaskResult
from agency.results.schemas import ResultInput, TaskResultSchema
from agency.projects.models import Project, Stage
from agency.tasks.models import DECISIONS, RUNNING_STATUSES, TASK_STATUSES, SupplementRequest, Task


class TaskSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    project_name = fields.Function(lambda t: t.project.name)
    stage = fields.Function(lambda t: t.stage.order)
    department = fields.Function(lambda t: t.department.code, metadata={"description": "department code"})
    department_name = fields.Function(lambda t: t.department.name)
    item = fields.Function(lambda t: t.item.code, metadata={"description": "approval item code"})
    item_name = fields.Function(lambda t: t.item.name)
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))
    outcome = fields.String(allow_none=True)
    outcome_reason = fields.String(allow_none=True, metadata={"description": "timeout or absence when deemed"})
    opinion = fields.String()
    promised_days = fields.Integer()
    started_at = LocalDateTime()
    deadline = LocalDateTime()
    answered_at = LocalDateTime(allow_none=True)
    supplement_count = fields.Integer()
    working_days_left = fields.Function(
        lambda t: t.working_days_left(get_calendar(db.session), clock.now(), clock.hall_tz()),
        metadata={"description": "working days to the deadline; null while the clock is stopped or closed"})
    escalated = fields.Function(lambda t: t.escalated_at is not None)
    suspended = fields.Function(lambda t: t.suspended_days_left is not None, metadata={
        "description": "its project is suspended: the clock is stopped (status stays pending or accepted)"})
    suspended_days_left = fields.Integer(allow_none=True, metadata={
        "description": "while suspended, the working days it gets back on resumption; else null"})
    supersedes_id = fields.Integer(allow_none=True, metadata={
        "description": "a resubmission after a refusal: the refused task it replaces"})
    materials_requested = fields.Function(lambda t: t.supplements[-1].materials if t.supplements else [])
    result = fields.Nested(TaskResultSchema, allow_none=True,
                           metadata={"description": "null until answered with consent or deemed"})
    deferred = fields.List(fields.Nested(DeferralSchema), attribute="deferrals",
                           metadata={"description": "materials the task was dispatched without (容缺受理)"})


# -- the task list, read as rows ---------------------------------------------------
# GET /tasks answers up to 200 tasks a request.  Loaded as ORM objects with their project,
# stage, department, item and supplements (6 statements) and dumped through TaskSchema, the
# inbox's page of 50 took about 13 ms on the bench's data; read as one row per task (one
# statement) and built into the same dicts, about 5 ms.  TaskSchema stays the one definition
# of the answer (and its OpenAPI): tests/tasks/test_list*.py check that these dicts equal
# TaskSchema().dump(task), field for field, for tasks in every state.

# A task's project and stage by correlated subqueries, not joins: joined, PostgreSQL's generic
# plan for a department's list of every status memoised those lookups for its whole history
# (sized for 140,000 rows): 3 ms a page instead of 0.7 (the bench's data).  The LIMIT 1 is a
# literal for the reason given in agency.tasks.api.page_limit.
_PROJECT_NAME = select(Project.name).where(Project.id == Task.project_id).scalar_subquery()
_STAGE_ORDER = select(Stage.order).where(Stage.id == Task.stage_id).scalar_subquery()
_LAST_MATERIALS = (select(SupplementRequest.materials).where(SupplementRequest.task_id == Task.id)
                   .order_by(SupplementRequest.id.desc()).limit(literal_column("1")).scalar_subquery())

TASK_ROW = (Task.id, Task.project_id, _PROJECT_NAME.label("project_name"), _STAGE_ORDER.label("stage"),
            Department.code.label("department"), Department.name.label("department_name"),
            ApprovalItem.code.label("item"), ApprovalItem.name.label("item_name"), Task.status, Task.outcome,
            Task.outcome_reason, Task.opinion, Task.promised_days, Task.started_at, Task.deadline,
            Task.answered_at, Task.supplement_count, Task.escalated_at, Task.suspended_days_left, Task.supersedes_id,
            _LAST_MATERIALS.label("materials_requested"),
            Task.warn_at, Task.warned_at,  # for clocks_due only (CLOCK_ONLY): not written out
            # whether a result or deferrals are to be read (NOT_WRITTEN): most pages of the inbox have
            # neither, and then no statement reads them (two index probes a row instead)
            select(TaskResult.id).where(TaskResult.task_id == Task.id).exists().label("has_result"),
            select(Deferral.id).where(Deferral.task_id == Task.id).exists().label("has_deferrals"))

CLOCK_ONLY = ("warn_at", "warned_at")
NOT_WRITTEN = (*CLOCK_ONLY, "has_result", "has_deferrals")


def task_rows(statement: Select) -> Select:
    """``statement`` (tasks, filtered, ordered and limited) reading ``TASK_ROW`` instead of Task objects."""
    return (statement.with_only_columns(*TASK_ROW)
            .join_from(Task, Department, Task.department_id == Department.id)
            .join_from(Task, ApprovalItem, Task.item_id == ApprovalItem.id))


def dump_task_rows(rows) -> list[dict]:
    """Rows of ``task_rows`` as ``TaskSchema(many=True).dump`` writes their tasks.

    A row's labels are TaskSchema's field names; what the schema computes is put in after.
    (A dict of the row, then amended, costs two thirds of a dict written out key by key.)
    """
    now, tz = clock.now(), clock.hall_tz()
    calendar = get_calendar(db.session) if any(r.status in RUNNING_STATUSES for r in rows) else None
    results, deferred = _results_and_deferrals([r.id for r in rows if r.has_result],
                                                [r.id for r in rows if r.has_deferrals])
    today = now.astimezone(tz).date()
    tasks = []
    names = rows[0]._fields if rows else ()
    for row in rows:
        task = dict(zip(names, row))
        deadline = row.deadline.astimezone(tz)
        # Task.working_days_left's rule, with the day of ``now`` worked out once for the page
        task["working_days_left"] = (calendar.working_days_between(today, deadline.date())
                                     if row.status in RUNNING_STATUSES and row.suspended_days_left is None else None)
        task["escalated"] = task.pop("escalated_at") is not None
        for key in NOT_WRITTEN:
            del task[key]
        task["suspended"] = row.suspended_days_left is not None
        if task["materials_requested"] is None:  # no supplement request
            task["materials_requested"] = []
        task["deadline"] = deadline.isoformat()  # LocalDateTime
        task["started_at"] = row.started_at.astimezone(tz).isoformat()
        if row.answered_at is not None:
            task["answered_at"] = row.answered_at.astimezone(tz).isoformat()
        owed = deferred.get(row.id, [])
        task["deferred"] = DeferralSchema(many=True).dump(owed) if owed else []
        result = results.get(row.id)
        task["result"] = None if result is None else {
            "kind": result.kind, "number": result.number, "issued_on": result.issued_on.isoformat(),
            "sha256": result.sha256, "released": all(d.supplied_at is not None for d in owed)}
        tasks.append(task)
    return tasks


def _results_and_deferrals(with_result: list[int], with_deferrals: list[int]) -> tuple[dict, dict]:
    """The page's results and deferrals by task id: a statement each for the page, whatever its size,
    and none when no task of the page has one."""
    results = {r.task_id: r for r in db.session.execute(
        select(TaskResult.task_id, TaskResult.kind, TaskResult.number, TaskResult.issued_on, TaskResult.sha256)
        .where(TaskResult.task_id.in_(with_result)))} if with_result else {}
    deferred: dict[int, list] = {}
    if with_deferrals:
        for deferral in db.session.execute(
                select(Deferral.task_id, Deferral.name, Deferral.until, Deferral.supplied_at, Deferral.awaiting_task_id)
                .where(Deferral.task_id.in_(with_deferrals)).order_by(Deferral.id)):  # rows: DeferralSchema's fields
            deferred.setdefault(deferral.task_id, []).append(deferral)
    return results, deferred


# By default a page holds what the list held before it had pages (up to 1,000), so a client that
# does not follow Link gets what it got; the inbox asks for pages of 50.
PAGE_SIZE, MAX_PAGE_SIZE = 1000, 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR = re.compile(r"[0-9]{1,17}\.[0-9]{1,18}")  # both fit a BIGINT


class Cursor(fields.String):
    """Where a page of the task list ends: the (deadline, id) of its last task, the list's sort key.

    Opaque to clients (base64url of ``<deadline in µs since 1970 UTC>.<id>``): they follow the
    ``Link`` header, so the encoding can change without breaking them.
    """

    def _serialize(self, value, attr, obj, **kwargs):
        deadline, task_id = value
        raw = f"{(deadline - _EPOCH) // _MICROSECOND}.{task_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _deserialize(self, value, attr, data, **kwargs):
        token = super()._deserialize(value, attr, data, **kwargs)
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            if not _CURSOR.fullmatch(raw):
                raise ValueError(raw)
            micros, task_id = raw.split(".")
            return _EPOCH + int(micros) * _MICROSECOND, int(task_id)
        except (ValueError, OverflowError, binascii.Error):
            raise ValidationError("not a cursor of this list: use the Link header's rel=\"next\" URL") from None


class TaskQuery(Schema):
    status = fields.String(validate=validate.OneOf((*TASK_STATUSES, "open")),
                           metadata={"description": "a status, or 'open' for pending, accepted and supplement"})
    project_id = Id()
    limit = fields.Integer(load_default=PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
                           metadata={"description": f"tasks per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE})"})
    after = Cursor(metadata={"description": "opaque: where the previous page ended; take the whole URL of the "
                                            "Link header (rel=\"next\") rather than building it"})


class SupplementInput(Schema):
    materials = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                            validate=validate.Length(min=1, max=200,
                                                     error="list every missing material (1 to {max})"))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class AnswerInput(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    opinion = fields.String(load_default="", validate=validate.Length(max=4000))
    result = fields.Nested(ResultInput, load_default=None, metadata={
        "description": "with consent: the result it issues (kind, number, issued_on; default an approval of today)"})


class ResubmitInput(Schema):
    """POST /tasks/{id}/resubmit: what was rectified (required, checked by the service)."""
    note = fields.String(load_default="", validate=validate.Length(max=2000))
