"""Results and how they reach the enterprise (R16: 电子证照, 快递送达).

A task answered with consent records its result; a deemed task gets the
system's notice of deemed consent.  Either fills the checklist entries named by
its item's ``result_name`` (agency.materials).  A result is released to the
enterprise only once its task owes no deferred material (R15).
"""
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agency.audit.services import Actor, record
from agency.clock import local
from agency.enterprise import uploads
from agency.errors import BadInput, NotFound, RuleViolation, TransitionNotAllowed
from agency.materials.services import fill_from_results, owed_materials, supplied_by_result
from agency.notifications.services import notify
from agency.people.access import is_assigned_agent, require_carrying_agent
from agency.people.models import User
from agency.projects.models import Project
from agency.results.models import DEEMED_NOTICE, DELIVERY_METHODS, RESULT_KINDS, Shipment, TaskResult
from agency.tasks.models import Task

KIND_NAMES = {"licence": "证照", "approval": "批复", "filing": "备案", "opinion": "意见",
              DEEMED_NOTICE: "默认同意告知书"}
METHOD_NAMES = {"download": "电子送达（下载）", "post": "快递送达", "pickup": "窗口领取"}


def result_writes(now: datetime, task: Task, result: dict | None) -> tuple[tuple, dict]:
    """The writes of a consent's result, checked (BadInput) before anything is written: for
    ``agency.audit.services.record_change``'s ``following`` and its parameters (``result_<name>``).

    Every consent writes it: the result's INSERT, and where the item names its result (``result_name``)
    the UPDATE supplying the deferrals of that name (``supplied_by_result``); with the
    answer's transition on PostgreSQL, one statement with it (a round trip less an answer).  The
    checklist entry it fills is derived from the result, not written.
    """
    result = result or {}
    kind = result.get("kind") or "approval"
    if kind not in RESULT_KINDS:
        raise BadInput("unknown kind of result", fields={"result": f"kind is one of {', '.join(RESULT_KINDS)}"},
                       shown=_l("未知的结果类型。"))
    parameters = {"result_task_id": task.id, "result_project_id": task.project_id, "result_kind": kind,
                  "result_number": (result.get("number") or "").strip(),
                  "result_issued_on": result.get("issued_on") or local(now).date(), "result_created_at": now}
    if not task.item.result_name:
        return (_result_written,), parameters
    return (_result_written, supplied_by_result), parameters | {"result_name": task.item.result_name}


_RESULT_COLUMNS = ("task_id", "project_id", "kind", "number", "issued_on", "created_at")


def _result_written(changed):
    """The result's INSERT, its values the parameters ``result_<column>``; from ``changed`` (a CTE of the
    task's transition): only if it was made."""
    table = TaskResult.__table__
    values = select(*(bindparam(f"result_{name}", type_=table.c[name].type) for name in _RESULT_COLUMNS))
    return (insert(table).from_select(_RESULT_COLUMNS, values if changed is None else values.select_from(changed))
            .returning(table.c.id))


def record_deemed_notices(session: Session, now: datetime, tasks: list[Task]) -> None:
    """Each deemed task's result: the system-issued notice of deemed consent, one INSERT for the batch.

    Core, not ORM objects: the sweep deems 500 tasks a batch and the unit of work cost 0.2 ms a task
    (bench_sweep).  Each task's ``result`` is expired, so whoever reads it next loads the notice.
    """
    if not tasks:
        return
    today = local(now).date()
    session.execute(insert(TaskResult), [dict(task_id=t.id, project_id=t.project_id, kind=DEEMED_NOTICE,
                                              number=f"MR-{t.id}", issued_on=today, created_at=now) for t in tasks])
    for task in tasks:
        session.expire(task, ["result"])
    fill_from_results(session, now, tasks)


def is_released(task: Task) -> bool:
    """The enterprise may have the result: there is one, and the task owes no deferred material."""
    return task.result is not None and not owed_materials(task)


def attach_result_file(session: Session, now: datetime, liaison: User, task: Task, filename: str | None,
                       stream) -> TaskResult:
    """The electronic result (a PDF) of a task in consent, attached by its department's liaison."""
    if liaison.role != "liaison" or liaison.department_id != task.department_id:
        raise NotFound(f"task {task.id} not found")
    if task.result is None or task.result.kind == DEEMED_NOTICE:
        raise TransitionNotAllowed(f"task {task.id} has no result of its department to attach a file to",
                                   fields={"status": task.status},
                                   shown=_l("该办件没有可附加文件的办理结果。"))
    name, data, content_type = uploads.check_upload(filename, stream, current_app.config["MAX_UPLOAD_BYTES"])
    if content_type != "application/pdf":
        raise uploads.UnsupportedFile("an electronic result is a PDF", fields={"file": "PDF only"})
    stored = uploads.store(current_app.config["UPLOAD_DIR"], data, content_type)
    try:
        result = task.result
        before = result.sha256
        result.filename, result.storage_key, result.content_type = name, stored.storage_key, content_type
        result.size, result.sha256, result.file_attached_at = stored.size, stored.sha256, now
        record(session, now, Actor.of(liaison), "result.file_attached", task,
               before={"sha256": before} if before else None, after={"sha256": stored.sha256, "size": stored.size},
               detail=f"{task.department.name}上传“{task.item.name}”电子证照：{name}")
        session.flush()
    except Exception:
        uploads.discard(stored)
        raise
    return result


def result_path(result: TaskResult):
    return uploads.path_for(current_app.config["UPLOAD_DIR"], result.sha256, result.storage_key)


def may_download_results(user: User, project: Project) -> bool:
    """Only the parties: the enterprise, its agent and the director (R16)."""
    return (user.role == "director" or (user.role == "enterprise" and project.enterprise_id == user.id)
            or is_assigned_agent(user, project))


def result_for_download(session: Session, user: User, task_id: int) -> TaskResult:
    """The result of ``task_id`` for ``user``: 404 for anyone but the parties; 409 while withheld."""
    result = session.scalar(select(TaskResult).where(TaskResult.task_id == task_id))
    if result is None or not may_download_results(user, result.task.project):
        raise NotFound(f"result of task {task_id} not found")
    if user.role == "enterprise" and not is_released(result.task):
        owed = "、".join(d.name for d in owed_materials(result.task))
        raise TransitionNotAllowed(f"withheld until the deferred material is supplied: {owed}",
                                   fields={"owed": [d.name for d in owed_materials(result.task)]},
                                   shown=_l("容缺材料补齐前暂不发放结果：%(names)s", names=owed))
    return result


# ------------------------------------------------------------------ delivery (送达)

def choose_delivery(session: Session, now: datetime, enterprise: User, project: Project, method: str,
                    address: str = "") -> Project:
    """How results reach the enterprise: download, post (with an address) or pickup at the hall."""
    if project.enterprise_id != enterprise.id:
        raise NotFound(f"project {project.id} not found")
    address = (address or "").strip()
    if method not in DELIVERY_METHODS:
        raise BadInput("unknown delivery method", fields={"method": f"one of {', '.join(DELIVERY_METHODS)}"},
                       shown=_l("请选择送达方式。"))
    if method == "post" and not address:
        raise BadInput("postal delivery needs an address", fields={"address": "required for post"},
                       shown=_l("快递送达须填写地址。"))
    before = {"method": project.delivery_method}
    project.delivery_method, project.delivery_address = method, address if method == "post" else ""
    record(session, now, Actor.of(enterprise), "project.delivery_chosen", project, before=before,
           after={"method": method}, detail=f"送达方式：{METHOD_NAMES[method]}" + (f"（{address}）" if address else ""))
    return project


def ship(session: Session, now: datetime, agent: User, project: Project, task_ids: list[int], waybill: str) -> Shipment:
    """The agent posts released results: the waybill is on the timeline."""
    require_carrying_agent(agent, project, "record a shipment")
    waybill = (waybill or "").strip()
    if not waybill:
        raise BadInput("give the waybill number", fields={"waybill": "required"},
                       shown=_l("请填写快递单号。"))
    if project.delivery_method != "post":
        raise RuleViolation("the enterprise has not chosen postal delivery", fields={"method": project.delivery_method},
                            shown=_l("企业没有选择快递送达。"))
    tasks = {t.id: t for t in project.tasks}
    unknown = [i for i in task_ids if i not in tasks]
    if unknown or not task_ids:
        raise BadInput("name tasks of this project", fields={"task_ids": unknown or "at least one"},
                       shown=_l("请选择本项目的办件。"))
    withheld = [i for i in task_ids if not is_released(tasks[i])]
    if withheld:
        raise RuleViolation("only released results can be posted", fields={"task_ids": withheld},
                            shown=_l("只有已发放的结果才能寄送。"))
    shipment = Shipment(project_id=project.id, task_ids=sorted(set(task_ids)), waybill=waybill,
                        address=project.delivery_address, sent_at=now, created_by_id=agent.id)
    try:
        with session.begin_nested():  # uq_shipments_project_waybill: a double submit is recorded once
            session.add(shipment)
    except IntegrityError:
        raise TransitionNotAllowed(f"waybill {waybill} is already recorded for this project",
                                   fields={"waybill": "already recorded"},
                                   shown=_l("快递单号 %(waybill)s 已登记过。", waybill=waybill)) from None
    names = "、".join(tasks[i].item.name for i in shipment.task_ids)
    record(session, now, Actor.of(agent), "shipment.sent", shipment, project_id=project.id,
           after={"waybill": waybill, "task_ids": shipment.task_ids}, detail=f"快递寄出办理结果（{names}），运单号{waybill}")
    notify(session, now, project.enterprise, f"办理结果已寄出：{project.name}", f"{names}，运单号{waybill}。",
           key=f"shipment:{shipment.id}", link=f"/projects/{project.id}", project_id=project.id)
    return shipment


def sign_for(session: Session, now: datetime, agent: User, shipment: Shipment, signed_at: datetime | None = None) -> Shipment:
    """The enterprise signed for the shipment (the agent records when)."""
    require_carrying_agent(agent, shipment.project, "record a shipment")
    if shipment.signed_at is not None:
        raise TransitionNotAllowed("this shipment has already been signed for",
                                   shown=_l("该快递已签收。"))
    shipment.signed_at = signed_at or now
    record(session, now, Actor.of(agent), "shipment.signed", shipment, project_id=shipment.project_id,
           after={"signed_at": shipment.signed_at.isoformat()},
           detail=f"运单{shipment.waybill}已签收（{local(shipment.signed_at):%Y-%m-%d %H:%M}）")
    return shipment


def results_of(session: Session, project: Project) -> list[TaskResult]:
    return session.scalars(select(TaskResult).where(TaskResult.project_id == project.id)
                           .order_by(TaskResult.task_id)).all()


