"""A project from entrustment to completion (R2, R3, R7)."""
import functools
import re
import secrets
from datetime import date, datetime, time, timezone
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from agency.audit.services import SYSTEM, Actor, knew_head, record, record_change, record_together
from agency.catalog.services import get_project_type, items_by_code, project_type_of
from agency.clock import hall_tz, local
from agency.dbtypes import insert_skipping, write_columns
from agency.errors import BadInput, Forbidden, NotFound, RuleViolation, TransitionNotAllowed
from agency.notifications.services import notify, notify_many
from agency.people.access import is_assigned_agent, require_carrying_agent
from agency.people.models import User
from agency.projects.locks import lock_project, lock_projects  # noqa: F401  (also imported from here)
from agency.projects.models import Project, ProjectSuspension, Stage
from agency.tasks.models import OPEN_STATUSES, Task
from agency.tasks.services import cancel_task, create_tasks, on_task_closed

_TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


TRACKING_ATTEMPTS = 8  # 32**8 codes: a second attempt is already rare


def draw_tracking_code() -> str:
    return "DB" + "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(8))


def _insert_project(session: Session, values: dict) -> Project:
    """The new project, by one INSERT ... RETURNING that also draws its tracking code: a code another project
    holds is skipped (``ON CONFLICT (tracking_code) DO NOTHING``) and drawn again, instead of a read before
    the INSERT.  The last attempt is a plain INSERT, so a code that never frees fails loudly (IntegrityError).
    """
    dialect = session.get_bind().dialect.name
    for attempt in range(1, TRACKING_ATTEMPTS + 1):
        statement = _project_insert(dialect, attempt < TRACKING_ATTEMPTS)
        project = session.scalars(statement, [values | {"tracking_code": draw_tracking_code()}]).first()
        if project is not None:
            return project
    raise AssertionError("unreachable: the last attempt inserts or raises")


@functools.cache
def _project_insert(dialect: str, skip_taken_code: bool):
    return insert_skipping(dialect, Project, Project.tracking_code, skip_taken_code).returning(Project)


def entrust_project(session: Session, now: datetime, actor: User, *, name: str, project_type: str,
                    location: str, investment_wan, contact_name: str, contact_phone: str,
                    enterprise_id: int | None = None) -> Project:
    """An enterprise entrusts its project, or an agent does on its behalf (first contact, R7)."""
    ptype = get_project_type(session, project_type)
    errors = {}
    if ptype is None:
        errors["project_type"] = f"unknown project type {project_type!r}"
    if actor.role == "enterprise":
        if enterprise_id not in (None, actor.id):
            errors["enterprise_id"] = "an enterprise entrusts only its own projects"
        enterprise = actor
    elif actor.role == "agent":
        enterprise = session.get(User, enterprise_id) if enterprise_id else None
        if enterprise is None or enterprise.role != "enterprise":
            errors["enterprise_id"] = "an agent entrusts on behalf of an enterprise: give its enterprise_id"
    else:
        raise RuleViolation("only an enterprise, or an agent on its behalf, entrusts a project",
                            shown=_l("只有企业本身，或代办员代企业，才能委托项目。"))
    if errors:
        raise BadInput("invalid entrustment", fields=errors,
                       shown=_l("委托信息不完整或有误，请检查后重试。"))
    agent = actor if actor.role == "agent" else None
    # INSERT ... RETURNING loads the project (and writes its stages) at once, without the unit of work's
    # flush of new objects, which cost more than the statements (bench_workflow).
    project = _insert_project(session, dict(
        name=name, project_type_id=ptype.id, enterprise_id=enterprise.id, location=location,
        investment_wan=Decimal(str(investment_wan)), contact_name=contact_name, contact_phone=contact_phone,
        status="entrusted", entrusted_at=now, created_at=now,
        agent_id=agent.id if agent else None, first_contact_agent_id=agent.id if agent else None,
        agreement_accepted_at=now if actor.role == "enterprise" else None,
        agreement_method="online" if actor.role == "enterprise" else "",
    ))
    knew_head(session, project.id, None, None)  # a row no other transaction sees yet: its chain is empty, unlocked
    if ptype.stages:
        session.execute(insert(Stage), [dict(project_id=project.id, order=template.order, name=template.name,
                                             status="waiting") for template in ptype.stages])
    with record_together(session):  # the entrustment and its contact card: one INSERT
        record(session, now, Actor.of(actor), "project.entrusted", project,
               after={"name": name, "project_type": project_type, "tracking_code": project.tracking_code,
                      "first_contact_agent_id": project.first_contact_agent_id},
               detail=f"委托代办：{name}（{ptype.name}）")
        if agent is not None:
            from agency.projects.cards import issue_card
            issue_card(session, now, project, agent, first=True)
    return project


def accept_agreement(session: Session, now: datetime, actor: User, project: Project,
                     paper_signed_on: date | None = None) -> Project:
    """The entrustment agreement (voluntary, free, whole process) is signed before the first dispatch (R2).

    The enterprise signs it online; the agent carrying the project records a paper signature and its date.
    """
    if actor.role == "enterprise":
        if actor.id != project.enterprise_id:
            raise NotFound(f"project {project.id} not found")
        signed_at, method, detail = now, "online", "企业在线签署委托代办协议"
    elif is_assigned_agent(actor, project):
        if paper_signed_on is None:
            raise BadInput("give the date of the paper signature", fields={"paper_signed_on": "required"},
                           shown=_l("请填写纸质协议的签署日期。"))
        if paper_signed_on > local(now).date():
            raise BadInput("a paper signature cannot be dated in the future",
                           fields={"paper_signed_on": paper_signed_on.isoformat()},
                           shown=_l("纸质协议的签署日期不能晚于今天。"))
        signed_at = datetime.combine(paper_signed_on, time(12, 0), hall_tz())
        method, detail = "paper", f"代办员登记纸质委托代办协议（{paper_signed_on:%Y-%m-%d}签署）"
    else:
        raise Forbidden("the enterprise signs the agreement, or its agent records a paper signature",
                        shown=_l("委托代办协议由企业签署，或由承办代办员登记纸质协议。"))
    if project.agreement_accepted_at is None:
        _sign_once(session, now, actor, project, signed_at, method, detail)
    return project


def _sign_once(session: Session, now: datetime, actor: User, project: Project, signed_at: datetime, method: str,
               detail: str) -> None:
    """One conditional UPDATE (``agreement_accepted_at IS NULL``) and its event: of two signatures at once,
    one is recorded (``record_change``); the loser reads the signature that won."""
    if record_change(session, _SIGN_ONCE, {"project_id": project.id, "signed_at": signed_at, "method": method},
                     now, Actor.of(actor), "project.agreement_signed", project,
                     after={"method": method, "signed_at": signed_at.isoformat()}, detail=detail):
        set_committed_value(project, "agreement_accepted_at", signed_at.astimezone(timezone.utc))
        set_committed_value(project, "agreement_method", method)
    else:
        session.refresh(project, ["agreement_accepted_at", "agreement_method"])


_PROJECTS = Project.__table__
_SIGN_ONCE = (update(_PROJECTS).where(_PROJECTS.c.id == bindparam("project_id"),
                                      _PROJECTS.c.agreement_accepted_at.is_(None))
              .values(agreement_accepted_at=bindparam("signed_at"), agreement_method=bindparam("method"))
              .returning(_PROJECTS.c.id))


PROJECT_CODE = re.compile(r"(?P<year>[0-9]{4})-(?P<area>[0-9]{6})-(?P<industry>[0-9]{2})-(?P<type>[0-9]{2})"
                          r"-(?P<serial>[0-9]{6})")


def set_project_code(session: Session, now: datetime, actor: User, project: Project, code: str) -> Project:
    """The national investment project code, ``YYYY-AAAAAA-II-TT-NNNNNN`` (R17); the enterprise or its agent."""
    if not ((actor.role == "enterprise" and actor.id == project.enterprise_id) or is_assigned_agent(actor, project)):
        raise Forbidden("the enterprise or the agent carrying the project gives its project code",
                        shown=_l("项目代码由企业或承办代办员登记。"))
    code = (code or "").strip()
    match = PROJECT_CODE.fullmatch(code)
    if match is None or not 1990 <= int(match["year"]) <= local(now).year + 1 or match["area"][:2] == "00":
        raise BadInput("not an investment project code",
                       fields={"project_code": "YYYY-AAAAAA-II-TT-NNNNNN (year, area code, industry, type, serial)"},
                       shown=_l("项目代码格式不正确，应为 YYYY-AAAAAA-II-TT-NNNNNN。"))
    if project.project_code != code:
        before = project.project_code
        project.project_code = code
        record(session, now, Actor.of(actor), "project.code_set", project, before={"project_code": before},
               after={"project_code": code}, detail=f"登记项目代码：{code}")
    return project


def search(statement, q: str | None):
    """Projects whose name contains ``q``, or whose tracking code or project code is ``q`` (GET /projects?q=).

    On PostgreSQL the name is matched through its trigram index (ix_projects_name_trgm), the codes
    through their b-tree indexes: a bitmap OR of three index scans, not a scan of the table.
    """
    q = (q or "").strip()
    if not q:
        return statement
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return statement.where(or_(Project.name.ilike(pattern, escape="\\"), Project.tracking_code == q.upper(),
                               Project.project_code == q))


def assign_agent(session: Session, now: datetime, actor: User, project: Project, agent_id: int) -> Project:
    """The director assigns or reassigns the agent; the contact card is reissued (R7, R9)."""
    agent = session.get(User, agent_id)
    if agent is None or agent.role != "agent" or not agent.active:
        raise BadInput("unknown agent", fields={"agent_id": f"no active agent with id {agent_id}"},
                       shown=_l("请选择一名在岗代办员。"))
    lock_project(session, project.id)
    if not project.is_open:
        raise TransitionNotAllowed(f"project is {project.status}; it can no longer be reassigned",
                                   shown=_l("项目已办结或终止，不能再指派。"))
    if project.agent_id == agent.id:
        return project
    before = project.agent_id
    reassigned = session.execute(  # conditional on the agent read: SQLite ignores the lock, a double submit is 409
        update(Project).where(Project.id == project.id,
                              Project.agent_id.is_(None) if before is None else Project.agent_id == before)
        .values(agent_id=agent.id).execution_options(synchronize_session=False)).rowcount == 1
    if not reassigned:
        raise TransitionNotAllowed("the project was reassigned meanwhile; reload it", fields={"agent_id": "changed"},
                                   shown=_l("项目刚被他人重新指派，请刷新后重试。"))
    set_committed_value(project, "agent_id", agent.id)
    set_committed_value(project, "agent", agent)  # the relationship too: lock_project loaded the old one
    record(session, now, Actor.of(actor), "project.assigned", project, before={"agent_id": before},
           after={"agent_id": agent.id}, detail=f"指派代办员：{agent.display_name}")
    from agency.projects.cards import issue_card
    issue_card(session, now, project, agent)
    notify(session, now, agent, f"新指派项目：{project.name}", f"您被指派为项目“{project.name}”的代办员。",
           key=f"assigned:{project.id}:{agent.id}:{now.isoformat()}", link=f"/projects/{project.id}",
           project_id=project.id)
    return project


def withdraw_project(session: Session, now: datetime, actor: User, project: Project, reason: str) -> Project:
    """The enterprise withdraws its entrustment; every open task is cancelled with the reason."""
    if not reason or not reason.strip():
        raise BadInput("a reason is required", fields={"reason": "required"},
                       shown=_l("请填写原因。"))
    lock_project(session, project.id)
    if not project.is_open:
        raise TransitionNotAllowed(f"project is already {project.status}",
                                   shown=_l("项目已办结或终止。"))
    terminate_project(session, now, Actor.of(actor), project, f"企业撤回委托：{reason.strip()}", "withdrawn")
    return project


def terminate_project(session: Session, now: datetime, actor: Actor, project: Project, reason: str,
                      action: str, cause: str = "withdrawn", told: list[User] = ()) -> None:
    """Terminated (R2): withdrawn by the enterprise, or ended after a refusal; open tasks cancelled."""
    for task in project.tasks:
        if task.status in OPEN_STATUSES:
            cancel_task(session, now, actor, task, reason)
    for stage in project.stages:
        if stage.status in ("waiting", "open"):
            stage.status = "cancelled"
    end_suspension(session, now, actor, project)
    before = project.status
    project.status, project.terminated_at, project.termination_reason = "terminated", now, reason
    project.termination_cause = cause
    record(session, now, actor, f"project.{action}", project, before={"status": before},
           after={"status": "terminated", "cause": cause, "reason": reason}, detail=reason)
    people = [project.agent, project.enterprise, *told]
    notify_many(session, now, people, f"项目已终止：{project.name}", reason, key=f"terminated:{project.id}",
                link=f"/projects/{project.id}", project_id=project.id)


def end_suspension(session: Session, now: datetime, actor: Actor, project: Project):
    """Close the project's open suspension period, if any; the period closed (or None)."""
    period = session.scalar(select(ProjectSuspension).where(ProjectSuspension.project_id == project.id,
                                                            ProjectSuspension.ended_at.is_(None)))
    if period is not None:
        period.ended_at, period.ended_by_id = now, actor.id
    project.suspended = False
    return period


def next_stage(project: Project) -> Stage | None:
    return next((s for s in project.stages if s.status == "waiting"), None)


def dispatch_stage(session: Session, now: datetime, actor: Actor, project: Project,
                   item_codes: list[str] | None = None, deferred: list[dict] | None = None) -> tuple[Stage, list[Task]]:
    """Split the next stage into one task per approval item and send each to its department (R3).

    Refused (422) before the agreement is signed, without the project code its type needs, or while
    a required material of the stage's items is neither accepted, from a result, nor deferred (R2,
    R14, R15, R17).  ``deferred`` names materials dispatched as owed, each with a promised date.
    """
    from agency.materials.services import defer, plan_dispatch
    if actor.role == "agent":
        require_carrying_agent(actor, project, "dispatch it")
    lock_project(session, project.id)
    stage, items, template = _next_dispatch(session, project, item_codes)
    owed = plan_dispatch(session, now, project, items, deferred, template)
    open_stage(session, now, stage)  # the first write: the loser of a race stops here, having written nothing
    before = project.status
    if before != "in_progress":
        write_columns(session, project, status="in_progress")
    tasks = create_tasks(session, now, project, stage, items)
    defer(session, now, project, tasks, owed)
    codes = [item.code for item in items]
    record(session, now, actor, "stage.dispatched", stage, project_id=project.id,
           before={"project_status": before},
           after={"stage": stage.order, "items": codes, "deferred": [o.name for o in owed]},
           detail=f"派发第{stage.order}阶段“{stage.name}”：{len(tasks)}个部门任务并联审批"
                  + (f"；容缺受理：{'、'.join(dict.fromkeys(o.name for o in owed))}" if owed else ""))
    return stage, tasks


def open_stage(session: Session, now: datetime, stage: Stage) -> None:
    """waiting -> open in one conditional UPDATE: a stage is dispatched exactly once, whatever races it.

    Two dispatch requests at once (a double click, two tabs, a retry), a request and the automatic
    dispatch, two processes: the project's lock serialises them on PostgreSQL, but SQLite ignores
    ``FOR UPDATE``, so both may have read the stage as waiting.  The database decides: one UPDATE
    matches the row, the other finds it open and is refused (409) before it creates any task.
    """
    opened = session.connection().execute(_OPEN_STAGE, {"stage_id": stage.id, "now": now}).rowcount
    if opened != 1:
        raise TransitionNotAllowed(f"stage {stage.order} ({stage.name}) is already dispatched and running",
                                   fields={"stage": stage.order},
                                   shown=_l("第%(order)s阶段已派发，正在办理。", order=stage.order))
    set_committed_value(stage, "status", "open")
    set_committed_value(stage, "dispatched_at", now)


_STAGES = Stage.__table__
_OPEN_STAGE = (update(_STAGES).where(_STAGES.c.id == bindparam("stage_id"), _STAGES.c.status == "waiting")
               .values(status="open", dispatched_at=bindparam("now")))


def _next_dispatch(session: Session, project: Project, item_codes: list[str] | None):
    """The stage a dispatch opens and its items, once every condition outside the materials holds; and
    every item of the project's type (the checklist's), read with the stage's in one statement."""
    if project.status not in ("entrusted", "in_progress"):
        raise TransitionNotAllowed(f"project is {project.status}; nothing can be dispatched",
                                   shown=_l("项目已办结或终止，不能再派发。"))
    if project.halted_at is not None:
        raise TransitionNotAllowed("a refusal stopped this project; its agent ends it or resubmits the item",
                                   shown=_l("有部门不予办理，项目已停止推进：由代办员终止项目或整改后重新提交该事项。"))
    if project.suspended:
        raise TransitionNotAllowed("the project is suspended; resume it first",
                                   shown=_l("项目已暂停，请先恢复办理。"))
    current = next((s for s in project.stages if s.status == "open"), None)
    if current is not None:
        raise TransitionNotAllowed(f"stage {current.order} ({current.name}) is still running",
                                   shown=_l("第%(order)s阶段尚未办结。", order=current.order))
    stage = next_stage(project)
    if stage is None:
        raise TransitionNotAllowed("every stage has been dispatched",
                                   shown=_l("全部阶段均已派发。"))
    if project.agreement_accepted_at is None:
        raise RuleViolation("the entrustment agreement must be signed before the first dispatch",
                            fields={"agreement": "not signed"},
                            shown=_l("委托代办协议须在首次派发前签署。"))
    ptype = project_type_of(session, project)
    if ptype.needs_project_code and not project.project_code:
        raise RuleViolation("this project type needs its investment project code before dispatch",
                            fields={"project_code": "required"},
                            shown=_l("本类型项目派发前须登记投资项目统一代码。"))
    codes = list(next(t for t in ptype.stages if t.order == stage.order).item_codes)
    if item_codes is not None:
        unknown = [c for c in item_codes if c not in codes]
        if unknown or not item_codes:
            raise BadInput("items must be chosen from the stage's template",
                           fields={"items": f"not in stage {stage.order}: {', '.join(unknown)}" if unknown
                                   else "choose at least one item"},
                           shown=_l("请从本阶段的审批事项中选择。"))
        codes = [c for c in codes if c in item_codes]
    every_code = [code for template in ptype.stages for code in template.item_codes]
    items = items_by_code(session, every_code)
    missing = [c for c in codes if c not in items]
    if missing:
        raise BadInput("the catalog lacks items of this stage", fields={"items": ", ".join(missing)},
                       shown=_l("事项目录中缺少本阶段的审批事项：%(codes)s", codes=", ".join(missing)))
    return stage, [items[code] for code in codes], [items[c] for c in dict.fromkeys(every_code) if c in items]


def dispatch_next_by_itself(session: Session, now: datetime, project: Project) -> None:
    """The stage before closed in consent: the next goes out by itself, unless its materials are not
    ready, in which case the agent is told what is missing and dispatches it later (R16)."""
    try:
        dispatch_stage(session, now, SYSTEM, project)  # refuses before it writes anything
    except TransitionNotAllowed:
        return  # dispatched meanwhile by someone else (open_stage): once is enough
    except RuleViolation as waiting:
        stage = next_stage(project)
        missing = waiting.fields.get("missing") or []
        record(session, now, SYSTEM, "stage.waiting", stage, project_id=project.id,
               after={"stage": stage.order, "reason": waiting.message, "missing": missing},
               detail=f"第{stage.order}阶段“{stage.name}”暂不自动派发：{waiting.message}")
        notify(session, now, project.agent or project.first_contact_agent, f"下一阶段待派发：{project.name}",
               f"第{stage.order}阶段“{stage.name}”未能自动派发：" + ("、".join(missing) or waiting.message)
               + "。请补齐后派发。", key=f"stage-waiting:{stage.id}", link=f"/projects/{project.id}/materials",
               project_id=project.id)


def after_task_closed(session: Session, now: datetime, task: Task, others_open: int | None = None) -> None:
    """React to a closed task (registered with the task services, below): a refusal waits for the
    agent's decision (R2); a stage done (``Stage.is_done``) closes and opens the next (R3).

    ``others_open``: the other open tasks of its stage, as the closing statement counted them under the
    lock.  While there are any the stage is not done (an open task is neither a consent, nor cancelled,
    nor superseded: only a refused task is), and the stages need not be read.
    """
    if task.is_refused:
        halt_project(session, now, task.project, task)
        return
    if others_open:
        return
    project = lock_projects(session, [task.project_id])[0]  # its stages and tasks read under the lock, if not yet
    stage = task.stage
    if stage.status != "open" or not stage.is_done:
        return
    with record_together(session):  # the stage closing and what follows (completion, next dispatch): one INSERT
        write_columns(session, stage, status="closed", closed_at=now)
        record(session, now, SYSTEM, "stage.closed", stage, project_id=project.id, after={"stage": stage.order},
               detail=f"第{stage.order}阶段“{stage.name}”全部同意，阶段办结")
        go_on(session, now, project)


def go_on(session: Session, now: datetime, project: Project) -> None:
    """Between two stages: the next goes out by itself, or the last one completes the project;
    not while a refusal awaits a decision, nor while suspended (resuming calls this again)."""
    if project.halted_at is not None or project.suspended or project.status != "in_progress":
        return
    if any(s.status == "open" for s in project.stages) or not any(s.status == "closed" for s in project.stages):
        return
    if next_stage(project) is not None:
        dispatch_next_by_itself(session, now, project)
    else:
        complete_project(session, now, project)


def halt_project(session: Session, now: datetime, project: Project, task: Task) -> None:
    """A refusal: the project waits for its agent to end it or resubmit the item; agent and director told."""
    if project.halted_at is None:
        project.halted_at = now
        record(session, now, SYSTEM, "project.halted", project, after={"task_id": task.id},
               detail=f"{task.department.name}不予办理“{task.item.name}”，项目暂停推进，待代办员决定终止或整改后重新提交")
    directors = session.scalars(select(User).where(User.role == "director", User.active.is_(True))).all()
    notify_many(session, now, [project.agent, *directors], f"不予办理：{project.name}",
                f"{task.department.name}对“{task.item.name}”不予办理：{task.opinion}",
                key=f"refused:{task.id}", link=f"/projects/{project.id}", project_id=project.id)


def complete_project(session: Session, now: datetime, project: Project) -> None:
    write_columns(session, project, status="completed", completed_at=now)
    record(session, now, SYSTEM, "project.completed", project, after={"status": "completed"},
           detail="全部阶段办结，项目完成")
    notify_many(session, now, [project.agent, project.enterprise], f"项目办结：{project.name}",
                "项目全部审批事项已办结，欢迎对代办服务进行评价。", key=f"completed:{project.id}",
                link=f"/projects/{project.id}", project_id=project.id)


def request_handover(session: Session, now: datetime, user: User, project: Project, note: str) -> int:
    """The carrying agent asks the director to hand the project over; audited, and every director is told."""
    require_carrying_agent(user, project, "ask for its handover")
    note = (note or "").strip()
    if not note:
        raise BadInput("a note is required", fields={"note": "required"},
                       shown=_l("请填写说明。"))
    if not project.is_open:
        raise TransitionNotAllowed(f"project is {project.status}; it can no longer be handed over",
                                   shown=_l("项目已办结或终止，不能再移交。"))
    record(session, now, Actor.of(user), "project.handover_requested", project, after={"note": note},
           detail=f"代办员{user.display_name}申请移交项目：{note}")
    directors = session.scalars(select(User).where(User.role == "director", User.active.is_(True))).all()
    return notify_many(session, now, directors, f"移交申请：{project.name}",
                       f"代办员{user.display_name}申请移交项目“{project.name}”：{note}",
                       key=f"handover:{project.id}:{user.id}:{now.isoformat()}", link=f"/projects/{project.id}",
                       project_id=project.id)


on_task_closed(after_task_closed)  # the one way back from a task to its project (agency.tasks.services)
