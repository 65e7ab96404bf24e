"""File once, online (R14), pre-review, and deferred materials (R15).

A project's checklist is the union of the materials of its type's items, one
entry per distinct name: the enterprise (or the agent for it) uploads each
once, and every task that needs it uses that file.  A result issued by one
task fills the entry of the same name (``from_result``).  Before a stage is
dispatched the agent pre-reviews what was filed; a stage goes out only when
every required material of its items is accepted, comes from a result, or is
deferred (容缺受理) with a promised date.

Plain functions: session and ``now`` first, then objects, then data.  They
flush, never commit, and raise domain errors.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload

from agency.audit.services import SYSTEM, Actor, record
from agency.catalog.models import ApprovalItem, is_optional
from agency.clock import closing_time, hall_tz, local
from agency.dbtypes import pairs_in
from agency.enterprise import uploads
from agency.errors import BadInput, Forbidden, RuleViolation, TransitionNotAllowed
from agency.materials.models import Deferral, ProjectMaterial
from agency.notifications.services import Notice, notify, send_notices
from agency.people.access import is_assigned_agent, require_carrying_agent
from agency.people.models import User
from agency.projects.models import Project
from agency.tasks.models import CONSENTING, MaterialFile, Task

DEFAULT_DEFERRAL_WORKING_DAYS = 5


@dataclass
class Entry:
    """One line of the checklist, as GET /projects/{id}/materials shows it."""

    name: str
    items: list[str]
    optional: bool
    status: str = "missing"
    file: MaterialFile | None = None
    reason: str = ""
    deferred_until: datetime | None = None
    from_task_id: int | None = None
    issuers: list[str] = field(default_factory=list)  # items whose result fills it

    @property
    def sha256(self) -> str | None:
        return self.file.sha256 if self.file else None

    @property
    def uploaded_at(self) -> datetime | None:
        return self.file.uploaded_at if self.file else None

    @property
    def ready(self) -> bool:
        """Good for a dispatch without deferral."""
        return self.status in ("accepted", "from_result")


# ------------------------------------------------------------------ the checklist

def template_items(session: Session, project: Project) -> list[ApprovalItem]:
    """Every item of the project's type, in stage order (the checklist is theirs)."""
    codes = [code for stage in project.project_type.stages for code in stage.item_codes]
    items = {i.code: i for i in session.scalars(select(ApprovalItem).where(ApprovalItem.code.in_(codes)))}
    return [items[c] for c in dict.fromkeys(codes) if c in items]


def checklist(session: Session, project: Project, items: list[ApprovalItem] | None = None) -> list[Entry]:
    """The project's checklist: one entry per distinct material name of its items (``template_items``,
    given when the caller has them), in first-needed order."""
    items = template_items(session, project) if items is None else items
    entries: dict[str, Entry] = {}
    issuers: dict[str, list[str]] = {}
    for item in items:
        if item.result_name:
            issuers.setdefault(item.result_name, []).append(item.code)
        for name in item.materials:
            entries.setdefault(name, Entry(name=name, items=[], optional=is_optional(name))).items.append(item.code)
    stored = {row.name: row for row in session.scalars(
        select(ProjectMaterial).where(ProjectMaterial.project_id == project.id)
        .options(joinedload(ProjectMaterial.file)))}
    dispatched = project.status not in ("consulting", "entrusted")  # before: no task, so nothing owed or issued
    owed = {}
    for name, until in session.execute(select(Deferral.name, Deferral.until).where(
            Deferral.project_id == project.id, Deferral.supplied_at.is_(None))) if dispatched else ():
        owed[name] = min(owed.get(name, until), until)
    issued = dict(session.execute(  # results issued so far (consents of the project's tasks), latest last
        select(ApprovalItem.result_name, Task.id).join(Task, Task.item_id == ApprovalItem.id).where(
            Task.project_id == project.id, ApprovalItem.result_name != "",
            or_(Task.status == "deemed_consent", and_(Task.status == "answered", Task.outcome.in_(CONSENTING))))
        .order_by(Task.answered_at, Task.id)).all()) if dispatched and any(issuers.get(n) for n in entries) else {}
    for name, entry in entries.items():
        entry.issuers = [c for c in issuers.get(name, []) if c not in entry.items]
        row = stored.get(name)
        if row is not None:
            entry.status, entry.file, entry.reason, entry.from_task_id = (row.status, row.file, row.reason,
                                                                          row.from_task_id)
        if name in issued and entry.status != "accepted":  # a copy the agent accepted stays what it is
            entry.status, entry.from_task_id, entry.reason = "from_result", issued[name], ""
        if name in owed and entry.status not in ("uploaded", "accepted", "from_result"):
            entry.status, entry.deferred_until = "deferred", owed[name]
        elif entry.status == "missing" and entry.issuers and name not in issued:
            entry.status = "awaiting_result"
    return list(entries.values())


def entry_named(session: Session, project: Project, name: str) -> Entry:
    """The checklist entry ``name``; 422 when the checklist has none."""
    name = check_name(session, project, name)
    return next(entry for entry in checklist(session, project) if entry.name == name)


def check_name(session: Session, project: Project, name: str) -> str:
    """``name`` (stripped) when an item of the project lists it, else 422."""
    name = (name or "").strip()
    if not any(name in item.materials for item in template_items(session, project)):
        raise RuleViolation(f"{name!r} is not on this project's material checklist",
                            fields={"name": "not on the checklist"},
                            shown=_l("“%(name)s”不在本项目的材料清单上。", name=name))
    return name


def _owed(session: Session, project: Project, name: str) -> bool:
    return session.scalar(select(Deferral.id).where(Deferral.project_id == project.id, Deferral.name == name,
                                                    Deferral.supplied_at.is_(None)).limit(1)) is not None


def may_file(user: User, project: Project) -> bool:
    return (user.role == "enterprise" and project.enterprise_id == user.id) or is_assigned_agent(user, project)


def _row(session: Session, now: datetime, project: Project, name: str) -> ProjectMaterial:
    """The stored entry ``name`` (created on first use); the caller holds the project's lock."""
    row = session.scalar(select(ProjectMaterial).where(ProjectMaterial.project_id == project.id,
                                                       ProjectMaterial.name == name))
    if row is None:
        row = ProjectMaterial(project_id=project.id, name=name, status="uploaded", reason="", updated_at=now)
        session.add(row)
    return row


def file_material(session: Session, now: datetime, user: User, project: Project, name: str,
                  filename: str | None, stream) -> MaterialFile:
    """Upload one material of the checklist, once for every task that needs it; a newer upload replaces it.

    The file replaced stays in the history (its row is kept and the upload is audited with both checksums).
    """
    from agency.projects.services import lock_project
    if not may_file(user, project):
        raise Forbidden("materials are filed by the enterprise or the agent carrying the project",
                        shown=_l("材料由企业或承办代办员提交。"))
    name = check_name(session, project, name)
    if not project.is_open and not _owed(session, project, name):  # a result waits for it: still welcome
        raise TransitionNotAllowed(f"project is {project.status}; nothing more can be filed",
                                   shown=_l("项目已办结或终止，不能再提交材料。"))
    filename, data, content_type = uploads.check_upload(filename, stream, current_app.config["MAX_UPLOAD_BYTES"])
    stored = uploads.store(current_app.config["UPLOAD_DIR"], data, content_type)
    try:
        lock_project(session, project.id)
        row = _row(session, now, project, name)
        replaced = row.file
        upload = MaterialFile(project_id=project.id, task_id=None, material=name, filename=filename,
                              storage_key=stored.storage_key, content_type=content_type, size=stored.size,
                              sha256=stored.sha256, uploaded_by_id=user.id, uploaded_at=now)
        session.add(upload)
        session.flush()
        row.file, row.status, row.reason, row.updated_at = upload, "uploaded", "", now
        row.reviewed_at = row.reviewed_by_id = None
        record(session, now, Actor.of(user), "material.filed", upload, project_id=project.id,
               before={"sha256": replaced.sha256} if replaced else None,
               after={"material": name, "sha256": stored.sha256, "size": stored.size},
               detail=f"网上申报材料“{name}”：{filename}" + ("（替换旧版本）" if replaced else ""))
        session.flush()
    except Exception:
        uploads.discard(stored)
        raise
    return upload


# ------------------------------------------------------------------ pre-review (预审)

def prereview(session: Session, now: datetime, agent: User, project: Project, decisions: list[dict]) -> list[Entry]:
    """The carrying agent accepts or returns filed materials; every return of the call reaches the
    enterprise in one message (one-time notice for the project).  Each decision is a conditional UPDATE of
    the entry as this request read it: a decision someone made meanwhile (a double submit) is theirs, not
    audited or sent again here; when none of the call's decisions still applies (each entry decided
    already, or replaced by a newer upload), 409."""
    from agency.projects.services import lock_project
    require_carrying_agent(agent, project, "pre-review its materials")
    if not decisions:
        raise BadInput("decide on at least one material", fields={"decisions": "a non-empty list is required"},
                       shown=_l("请至少对一项材料作出预审决定。"))
    entries = {e.name: e for e in checklist(session, project)}
    errors, seen = {}, set()
    for decision in decisions:
        name = (decision.get("name") or "").strip()
        if name in seen:
            errors[name] = "decided twice in one pre-review"
        seen.add(name)
        if name not in entries:
            raise RuleViolation(f"{name!r} is not on this project's material checklist",
                                fields={"name": f"{name}: not on the checklist"},
                                shown=_l("“%(name)s”不在本项目的材料清单上。", name=name))
        if entries[name].file is None:
            raise RuleViolation(f"nothing has been filed for {name!r} yet", fields={"name": f"{name}: not filed"},
                                shown=_l("“%(name)s”尚未提交。", name=name))
        if not decision.get("accepted") and not (decision.get("reason") or "").strip():
            errors[name] = "a returned material needs a reason"
    if errors:
        raise BadInput("every return needs a reason, once per material", fields=errors,
                       shown=_l("退回须写明原因，每项材料一条。"))
    read = {r.name: r for r in session.execute(  # the entries as this request saw them
        select(ProjectMaterial.id, ProjectMaterial.name, ProjectMaterial.file_id)
        .where(ProjectMaterial.project_id == project.id, ProjectMaterial.name.in_(seen)))}
    lock_project(session, project.id)
    accepted, returned = [], []
    for decision in decisions:
        name, reason = decision["name"].strip(), (decision.get("reason") or "").strip()
        if _decide(session, now, agent, read[name], bool(decision.get("accepted")), reason):
            (accepted if decision.get("accepted") else returned).append((name, reason))
    if not accepted and not returned:
        raise TransitionNotAllowed("these materials were pre-reviewed meanwhile; reload the checklist",
                                   fields={"decisions": "already decided"},
                                   shown=_l("材料刚被预审过，请刷新清单后重试。"))
    record(session, now, Actor.of(agent), "materials.prereviewed", project,
           after={"accepted": [n for n, _ in accepted], "returned": {n: r for n, r in returned}},
           detail="材料预审：" + "；".join([f"“{n}”通过" for n, _ in accepted]
                                        + [f"“{n}”退回（{r}）" for n, r in returned]))
    supply_deferred(session, now, project.id, [n for n, _ in accepted])
    if returned:
        body = "以下材料预审未通过，请一次性补正后重新上传：\n" + "\n".join(f"· {n}：{r}" for n, r in returned)
        notify(session, now, project.enterprise, f"材料预审退回：{project.name}", body,
               key=f"prereview:{project.id}:{now.isoformat()}", link=f"/projects/{project.id}/materials",
               project_id=project.id)
    return checklist(session, project)


def _decide(session: Session, now: datetime, agent: User, read, accept: bool, reason: str) -> bool:
    """One pre-review decision: a conditional UPDATE of the stored entry still uploaded with the file ``read``
    before the project's lock.  False when it was decided meanwhile, or a newer file replaced it (SQLite
    ignores the lock; on PostgreSQL the lock makes the later request find the entry changed)."""
    row = ProjectMaterial
    return session.execute(
        update(row).where(row.id == read.id, row.status == "uploaded", _same(row.file_id, read.file_id))
        .values(status="accepted" if accept else "returned", reason="" if accept else reason,
                reviewed_at=now, reviewed_by_id=agent.id, updated_at=now)
        .execution_options(synchronize_session="fetch")).rowcount == 1


def _same(column, value):
    return column.is_(None) if value is None else column == value


# ------------------------------------------------------------------ dispatch readiness and deferral (R15)

@dataclass(frozen=True)
class Owed:
    """A material a task is dispatched without: promised by ``until`` or awaiting ``issuer``'s result."""

    item_code: str
    name: str
    until: datetime | None = None
    issuer: str | None = None  # item code of the same dispatch whose result supplies it


def plan_dispatch(session: Session, now: datetime, project: Project, items: list[ApprovalItem],
                  deferred: list[dict] | None = None, template: list[ApprovalItem] | None = None) -> list[Owed]:
    """What the dispatch of ``items`` owes; RuleViolation naming every material that is not ready.

    A material is ready when accepted or from a result.  One named in ``deferred`` may be owed if
    the item lists it in ``deferrable_materials``; one that an item of the same dispatch issues is
    owed by itself until that result (FGW-03 and FGW-01's 项目备案证明).  Writes nothing.  ``template``:
    every item of the project's type (``template_items``), when the caller has them.  Items that
    require no material need no checklist: nothing is read.
    """
    needed = any(item.required_materials for item in items)
    entries = {e.name: e for e in checklist(session, project, template)} if needed else {}
    asked = {}
    for choice in deferred or []:
        name = (choice.get("name") or "").strip()
        asked[name] = choice.get("until")
    issuers = {item.result_name: item.code for item in items if item.result_name}
    deferrable_anywhere = {m for item in items for m in item.deferrable_materials}
    refused = [n for n in asked if n not in deferrable_anywhere]
    if refused:
        raise RuleViolation("only a material its item allows to defer may be deferred",
                            fields={"deferred": refused},
                            shown=_l("只有事项允许容缺的材料才能容缺受理。"))
    owed, missing = [], []
    for item in items:
        for name in item.required_materials:
            entry = entries.get(name)
            if entry is not None and entry.ready:
                continue
            if name in item.deferrable_materials and issuers.get(name) not in (None, item.code):
                owed.append(Owed(item.code, name, issuer=issuers[name]))
            elif name in item.deferrable_materials and name in asked:
                owed.append(Owed(item.code, name, until=_promised(session, now, asked[name])))
            elif name not in missing:
                missing.append(name)
    if missing:
        raise RuleViolation("materials are not ready: " + "、".join(missing), fields={"missing": missing},
                            shown=_l("材料尚未齐备：%(names)s", names="、".join(missing)))
    return owed


def _promised(session: Session, now: datetime, until: date | None) -> datetime:
    """The promised date's closing time, by default DEFAULT_DEFERRAL_WORKING_DAYS working days on."""
    from agency.tasks.services import clock_window
    if until is None:
        return clock_window(session, now, DEFAULT_DEFERRAL_WORKING_DAYS)[0]
    if until < local(now).date():
        raise BadInput("a promised date cannot be in the past", fields={"deferred": until.isoformat()},
                       shown=_l("承诺补齐日期不能早于今天。"))
    return datetime.combine(until, closing_time(), hall_tz())


def defer(session: Session, now: datetime, project: Project, tasks: list[Task], owed: list[Owed]) -> list[Deferral]:
    """Record what each new task owes (the plan of ``plan_dispatch``)."""
    by_item = {t.item.code: t for t in tasks}
    rows = []
    for entry in owed:
        task, issuer = by_item[entry.item_code], by_item.get(entry.issuer) if entry.issuer else None
        rows.append(Deferral(project_id=project.id, task_id=task.id, name=entry.name,
                             until=entry.until or issuer.deadline, awaiting_task_id=issuer.id if issuer else None,
                             created_at=now))
    session.add_all(rows)
    return rows


def supply_deferred(session: Session, now: datetime, project_id: int, names) -> int:
    """The project's materials ``names`` are there now: every task owing one of them is settled."""
    names = list(names)
    if not names:
        return 0
    return session.execute(update(Deferral).where(Deferral.project_id == project_id, Deferral.name.in_(names),
                                                  Deferral.supplied_at.is_(None))
                           .values(supplied_at=now).execution_options(synchronize_session=False)).rowcount


def fill_from_results(session: Session, now: datetime, tasks: list[Task]) -> None:
    """Results issued by ``tasks`` settle the deferrals of the same name (R15, R16): one statement a batch
    (an answer's, with its transition: ``supplied_by_result``).

    The checklist entry a result fills is not written: ``checklist`` derives ``from_result`` from the
    consents of the project's tasks, so a deemed task (the sweep deems 500 a batch) writes no checklist row.
    """
    filled = {(t.project_id, t.item.result_name) for t in tasks if t.item.result_name}
    if filled:
        session.execute(update(Deferral).where(pairs_in(session, Deferral.project_id, Deferral.name, filled),
                                               Deferral.supplied_at.is_(None))
                        .values(supplied_at=now).execution_options(synchronize_session=False))


def supplied_by_result(changed):
    """``fill_from_results`` for one consent, as a write that follows its transition (``record_change``'s
    ``following``): the project's deferrals named ``result_name``, still owed, supplied at
    ``result_created_at`` (its parameters ``result_project_id``, ``result_name``, ``result_created_at``);
    with ``changed`` (a CTE of the transition), only if the transition was made."""
    table = Deferral.__table__
    conditions = [table.c.project_id == bindparam("result_project_id"), table.c.name == bindparam("result_name"),
                  table.c.supplied_at.is_(None)]
    if changed is not None:
        conditions.append(select(changed).exists())
    return (update(table).where(*conditions).values(supplied_at=bindparam("result_created_at"))
            .returning(table.c.id))


def owed_materials(task: Task) -> list[Deferral]:
    return [d for d in task.deferrals if d.supplied_at is None]


def warn_overdue_deferrals(session: Session, now: datetime, *where) -> int:
    """A deferred material still owed after its promised date: the agent and the enterprise are told, once.

    The sweep runs it over every deferral; a request touching a project narrows it (``where``) to that
    project's (agency.projects.clocks), so the warning shows whether or not the sweep has run.
    """
    due = session.scalars(select(Deferral).where(Deferral.supplied_at.is_(None), Deferral.warned_at.is_(None),
                                                 Deferral.until <= now, *where).order_by(Deferral.id).limit(500)).all()
    if not due:
        return 0
    won = set(session.scalars(update(Deferral).where(Deferral.id.in_([d.id for d in due]),
                                                     Deferral.supplied_at.is_(None), Deferral.warned_at.is_(None))
                              .values(warned_at=now).returning(Deferral.id)
                              .execution_options(synchronize_session=False)))
    notices = []
    for deferral in due:
        if deferral.id not in won:
            continue
        project = session.get(Project, deferral.project_id)
        record(session, now, SYSTEM, "material.deferral_overdue", deferral, project_id=project.id,
               after={"name": deferral.name, "until": deferral.until.isoformat()},
               detail=f"容缺材料“{deferral.name}”已过承诺补齐日期（{local(deferral.until):%Y-%m-%d}）仍未补齐")
        for person in (project.agent, project.enterprise):
            if person is not None:
                notices.append(Notice(person, f"容缺材料逾期未补齐：{deferral.name}",
                                      f"项目“{project.name}”承诺于{local(deferral.until):%Y-%m-%d}前补齐"
                                      f"“{deferral.name}”，至今未补齐；办理结果将暂不送达。",
                                      f"deferral-overdue:{deferral.id}", f"/projects/{project.id}/materials",
                                      project.id))
    send_notices(session, now, notices)
    return len(won)


def filed_files(session: Session, project: Project) -> list[MaterialFile]:
    return session.scalars(select(MaterialFile).where(MaterialFile.project_id == project.id,
                                                      MaterialFile.task_id.is_(None))
                           .order_by(MaterialFile.id)).all()
