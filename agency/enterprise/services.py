"""The enterprise's side: ratings (R10), dissatisfaction notices, complaints, materials.

Plain functions: session and ``now`` first, then objects, then data.  They
flush, never commit, and raise domain errors.
"""
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agency.audit.services import SYSTEM, Actor, record
from agency.catalog.models import Department
from agency.enterprise import uploads
from agency.enterprise.models import RATING_LEVELS, Complaint, DissatisfactionNotice, Rating
from agency.errors import BadInput, Forbidden, NotFound, RuleViolation, TransitionNotAllowed
from agency.notifications.services import notify, notify_many
from agency.people.access import is_assigned_agent
from agency.people.models import User
from agency.projects.models import Project
from agency.tasks.models import MaterialFile, SupplementRequest, Task

LEVEL_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
DISSATISFIED = (1, 2)
COMPLAINT_WORKING_DAYS = 5


def directors(session: Session) -> list[User]:
    return session.scalars(select(User).where(User.role == "director", User.active.is_(True))).all()


def _working_days_from(session: Session, now: datetime, days: int) -> datetime:
    from agency.tasks.services import clock_window
    return clock_window(session, now, days)[0]


def project_agent(project: Project) -> User | None:
    return project.agent or project.first_contact_agent


# ---------------------------------------------------------------- ratings (R10)

def rating_target(session: Session, project: Project, department_code: str | None):
    """(department, tasks) the rating is about; the whole project when no department is given."""
    if not department_code:
        return None, []
    department = session.scalar(select(Department).where(Department.code == department_code))
    tasks = [t for t in project.tasks if department is not None and t.department_id == department.id]
    if not tasks:
        raise BadInput("no task of this department on the project",
                       fields={"department_code": f"{department_code} has no task on this project"},
                       shown=_l("本项目没有该部门的办件。"))
    return department, tasks


def existing_rating(session: Session, project: Project, department: Department | None) -> Rating | None:
    query = select(Rating).where(Rating.project_id == project.id)
    if department is None:
        query = query.where(Rating.task_id.is_(None))
    else:
        query = query.where(Rating.department_id == department.id, Rating.task_id.is_not(None))
    return session.scalar(query)


def can_rate(project: Project, tasks: list[Task]) -> bool:
    """The project is closed, or every task of the department on it is (and one was not cancelled)."""
    if not tasks:
        return not project.is_open
    return all(not t.is_open for t in tasks) and any(t.status != "cancelled" for t in tasks)


def rate(session: Session, now: datetime, enterprise: User, project: Project, level: int, comment: str = "",
         department_code: str | None = None) -> Rating:
    """The enterprise rates its closed project (or one department's closed tasks on it), once."""
    if project.enterprise_id != enterprise.id:
        raise NotFound(f"project {project.id} not found")
    if not isinstance(level, int) or isinstance(level, bool) or level not in RATING_LEVELS:
        raise BadInput("level must be 1 (very dissatisfied) to 5 (very satisfied)", fields={"level": "1..5"},
                       shown=_l("请选择评价等级（1 至 5）。"))
    comment = (comment or "").strip()
    department, tasks = rating_target(session, project, department_code)
    if existing_rating(session, project, department) is not None:
        raise TransitionNotAllowed("already rated; a rating is given once", fields={"rating": "exists"},
                                   shown=_l("已经评价过；每项只评价一次。"))
    if not can_rate(project, tasks):
        what = f"the tasks of {department.code}" if department else "the project"
        raise RuleViolation(f"{what} must be closed before it is rated", fields={"status": project.status},
                            shown=_l("办结后才能评价。"))
    agent = project_agent(project)
    rating = Rating(project_id=project.id, task_id=max(t.id for t in tasks) if tasks else None,
                    department_id=department.id if department else None,
                    agent_id=None if department else (agent.id if agent else None),
                    level=level, comment=comment, rated_by_id=enterprise.id, created_at=now)
    session.add(rating)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise TransitionNotAllowed("already rated; a rating is given once", fields={"rating": "exists"},
                                   shown=_l("已经评价过；每项只评价一次。")) from None
    about = department.name if department else "代办服务"
    record(session, now, Actor.of(enterprise), "rating.given", rating, project_id=project.id,
           after={"level": level, "department": department.code if department else None},
           detail=f"企业评价{about}：{LEVEL_NAMES[level]}" + (f"（{comment}）" if comment else ""))
    if level in DISSATISFIED:
        open_notice(session, now, rating, project, department, None if department else agent)
    return rating


def open_notice(session: Session, now: datetime, rating: Rating, project: Project, department: Department | None,
                agent: User | None) -> DissatisfactionNotice:
    """不满意件函告 to the department (or the agent), due in RECTIFICATION_WORKING_DAYS working days."""
    days = current_app.config.get("RECTIFICATION_WORKING_DAYS", 5)
    notice = DissatisfactionNotice(rating_id=rating.id, project_id=project.id,
                                   department_id=department.id if department else None,
                                   agent_id=agent.id if agent else None, created_at=now,
                                   due=_working_days_from(session, now, days), reply="")
    session.add(notice)
    session.flush()
    addressee = department.name if department else (f"代办员{agent.display_name}" if agent else "代办中心")
    record(session, now, SYSTEM, "notice.opened", notice, project_id=project.id,
           after={"rating_id": rating.id, "due": notice.due.isoformat()},
           detail=f"不满意件函告{addressee}，须在{days}个工作日内整改复函")
    people = ([department.primary_liaison, department.backup_liaison] if department else [agent]) + directors(session)
    notify_many(session, now, people, f"不满意件函告：{project.name}",
                f"企业对{addressee}的评价为“{LEVEL_NAMES[rating.level]}”：{rating.comment}。"
                f"请在{days}个工作日内提交整改复函。", key=f"notice:{notice.id}", link=f"/notices/{notice.id}",
                project_id=project.id)
    return notice


def reply_notice(session: Session, now: datetime, user: User, notice: DissatisfactionNotice,
                 text: str) -> DissatisfactionNotice:
    """The rectification reply (整改复函); the enterprise is told."""
    from agency.enterprise.access import is_notice_addressee
    text = (text or "").strip()
    if not text:
        raise BadInput("write the rectification reply", fields={"text": "required"},
                       shown=_l("请填写整改复函。"))
    if not is_notice_addressee(user, notice):
        raise Forbidden("only the department or agent the notice is addressed to replies",
                        shown=_l("只有被函告的部门或代办员可以复函。"))
    result = session.execute(
        update(DissatisfactionNotice).where(DissatisfactionNotice.id == notice.id,
                                            DissatisfactionNotice.replied_at.is_(None))
        .values(reply=text, replied_at=now, replied_by_id=user.id).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise TransitionNotAllowed("this notice has already been replied to",
                                   shown=_l("该函告已经复函。"))
    session.refresh(notice)
    late = notice.red_carded_at is not None
    record(session, now, Actor.of(user), "notice.replied", notice, project_id=notice.project_id,
           after={"late": late}, detail=f"整改复函：{text}" + ("（逾期）" if late else ""))
    project = session.get(Project, notice.project_id)
    notify(session, now, project.enterprise, f"整改复函：{project.name}", text, key=f"notice-reply:{notice.id}",
           link=f"/notices/{notice.id}", project_id=project.id)
    return notice


# ---------------------------------------------------------------- complaints

def file_complaint(session: Session, now: datetime, enterprise: User, project: Project, text: str) -> Complaint:
    text = (text or "").strip()
    if not text:
        raise BadInput("write the complaint", fields={"text": "required"},
                       shown=_l("请填写投诉内容。"))
    if project.enterprise_id != enterprise.id:
        raise NotFound(f"project {project.id} not found")
    complaint = Complaint(project_id=project.id, enterprise_id=enterprise.id, text=text, status="open",
                          answer="", created_at=now)
    session.add(complaint)
    session.flush()
    record(session, now, Actor.of(enterprise), "complaint.filed", complaint, project_id=project.id,
           detail=f"企业投诉：{text}")
    notify_many(session, now, directors(session), f"企业投诉：{project.name}", text,
                key=f"complaint:{complaint.id}", link=f"/complaints/{complaint.id}", project_id=project.id)
    return complaint


def assign_complaint(session: Session, now: datetime, director: User, complaint: Complaint, assignee_id: int,
                     due_days: int | None = None) -> Complaint:
    """The director hands the complaint to a person (an agent, or a director) with a time limit."""
    if complaint.status == "answered":
        raise TransitionNotAllowed("this complaint has already been answered",
                                   shown=_l("该投诉已经答复。"))
    assignee = session.get(User, assignee_id)
    if assignee is None or not assignee.active or assignee.role not in ("agent", "director"):
        raise BadInput("unknown assignee", fields={"assignee_id": "an active agent or director"},
                       shown=_l("请选择在岗的代办员或大厅主任。"))
    days = due_days or COMPLAINT_WORKING_DAYS
    if days < 1 or days > 60:
        raise BadInput("the time limit is 1 to 60 working days", fields={"due_days": "1..60"},
                       shown=_l("办理时限为 1 至 60 个工作日。"))
    before = {"status": complaint.status, "assignee_id": complaint.assignee_id}
    complaint.assignee_id, complaint.status = assignee.id, "assigned"
    complaint.due = _working_days_from(session, now, days)
    session.flush()
    record(session, now, Actor.of(director), "complaint.assigned", complaint, project_id=complaint.project_id,
           before=before, after={"assignee_id": assignee.id, "due": complaint.due.isoformat()},
           detail=f"投诉交由{assignee.display_name}处理，{days}个工作日内答复")
    notify(session, now, assignee, f"投诉待处理：{complaint.project.name}", complaint.text,
           key=f"complaint-assigned:{complaint.id}:{assignee.id}", link=f"/complaints/{complaint.id}",
           project_id=complaint.project_id)
    return complaint


def answer_complaint(session: Session, now: datetime, user: User, complaint: Complaint, text: str) -> Complaint:
    text = (text or "").strip()
    if not text:
        raise BadInput("write the answer", fields={"text": "required"},
                       shown=_l("请填写答复。"))
    if user.role != "director" and user.id != complaint.assignee_id:
        raise Forbidden("only the director or the assignee answers a complaint",
                        shown=_l("只有大厅主任或承办人可以答复投诉。"))
    result = session.execute(
        update(Complaint).where(Complaint.id == complaint.id, Complaint.status != "answered")
        .values(status="answered", answer=text, answered_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise TransitionNotAllowed("this complaint has already been answered",
                                   shown=_l("该投诉已经答复。"))
    session.refresh(complaint)
    record(session, now, Actor.of(user), "complaint.answered", complaint, project_id=complaint.project_id,
           detail=f"投诉答复：{text}")
    notify(session, now, complaint.project.enterprise, f"投诉已答复：{complaint.project.name}", text,
           key=f"complaint-answered:{complaint.id}", link=f"/complaints/{complaint.id}",
           project_id=complaint.project_id)
    return complaint


# ---------------------------------------------------------------- materials

def open_supplement(task: Task) -> SupplementRequest | None:
    """The one-time notice still waiting for materials."""
    if task.status != "supplement":
        return None
    return next((r for r in reversed(task.supplements) if r.supplied_at is None), None)


def missing_materials(request: SupplementRequest) -> list[str]:
    have = {f.material for f in request.files}
    return [m for m in request.materials if m not in have]


def may_upload(user: User, task: Task) -> bool:
    project = task.project
    return (user.role == "enterprise" and project.enterprise_id == user.id) or is_assigned_agent(user, project)


def upload_material(session: Session, now: datetime, user: User, task: Task, material: str,
                    filename: str | None, stream) -> MaterialFile:
    """Store one file for one material of the open one-time notice; the last missing one restarts the clock."""
    if not may_upload(user, task):
        raise Forbidden("materials are supplied by the enterprise or the agent carrying the project",
                        shown=_l("补正材料由企业或承办代办员提交。"))
    request = open_supplement(task)
    if request is None:
        raise TransitionNotAllowed(f"task {task.id} is {task.status}; no one-time notice is waiting for materials",
                                   shown=_l("该办件没有待补正的材料。"))
    material = (material or "").strip()
    if material not in request.materials:
        raise BadInput("not a material of the one-time notice",
                       fields={"material": f"one of: {'；'.join(request.materials)}"},
                       shown=_l("该材料不在一次性告知的补正清单中。"))
    name, data, content_type = uploads.check_upload(filename, stream, current_app.config["MAX_UPLOAD_BYTES"])
    stored = uploads.store(current_app.config["UPLOAD_DIR"], data, content_type)
    try:
        row = MaterialFile(task_id=task.id, supplement_request_id=request.id, material=material, filename=name,
                           storage_key=stored.storage_key, content_type=content_type, size=stored.size,
                           sha256=stored.sha256, uploaded_by_id=user.id, uploaded_at=now)
        session.add(row)
        session.flush()
        session.refresh(request)
        record(session, now, Actor.of(user), "material.uploaded", row, project_id=task.project_id,
               after={"material": material, "sha256": stored.sha256, "size": stored.size},
               detail=f"上传补正材料“{material}”：{name}")
        if not missing_materials(request):
            from agency.tasks.services import supply_materials
            supply_materials(session, now, Actor.of(user), task)
    except Exception:
        uploads.discard(stored)
        raise
    return row


def material_path(material: MaterialFile):
    return uploads.path_for(current_app.config["UPLOAD_DIR"], material.sha256, material.storage_key)
