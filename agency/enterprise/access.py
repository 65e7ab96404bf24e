"""Who may see which rating, notice, complaint and material file (DESIGN.md section 3).

Another party's object is a 404, as in agency.people.access.
"""
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from agency.enterprise.models import Complaint, DissatisfactionNotice, Rating
from agency.errors import NotFound
from agency.catalog.models import ApprovalItem
from agency.people.access import get_visible, settled, visible_projects, visible_tasks
from agency.people.models import User
from agency.projects.models import Project
from agency.tasks.models import MaterialFile, Task


def _own_projects(user: User):
    return select(Project.id).where(Project.enterprise_id == user.id)


def visible_notices(user: User) -> Select:
    """Liaison: its department's; agent: its own; director: all; enterprise: those about its ratings."""
    query = select(DissatisfactionNotice)
    if user.role == "director":
        return query
    if user.role == "liaison":
        return query.where(DissatisfactionNotice.department_id == user.department_id,
                           DissatisfactionNotice.department_id.is_not(None))
    if user.role == "agent":
        return query.where(DissatisfactionNotice.agent_id == user.id)
    if user.role == "enterprise":
        return query.where(DissatisfactionNotice.project_id.in_(_own_projects(user)))
    return query.where(False)


def is_notice_addressee(user: User, notice: DissatisfactionNotice) -> bool:
    """The one who must reply: a liaison of the department, or the agent named."""
    if notice.department_id is not None:
        return user.role == "liaison" and user.department_id == notice.department_id
    return user.role == "agent" and user.id == notice.agent_id


def get_notice(session: Session, user: User, notice_id: int) -> DissatisfactionNotice:
    """The notice, its reply clock settled as of now (an overdue one carries its red card already)."""
    from agency.projects.clocks import settle_notice
    return settled(session, settle_notice, get_visible(session, visible_notices(user), DissatisfactionNotice,
                                                       notice_id, "notice"))


def visible_complaints(user: User) -> Select:
    """Director: all; enterprise: its own; anyone else: those assigned to it."""
    query = select(Complaint)
    if user.role == "director":
        return query
    if user.role == "enterprise":
        return query.where(Complaint.enterprise_id == user.id)
    return query.where(Complaint.assignee_id == user.id)


def get_complaint(session: Session, user: User, complaint_id: int) -> Complaint:
    return get_visible(session, visible_complaints(user), Complaint, complaint_id, "complaint")


def visible_ratings(user: User) -> Select:
    query = select(Rating)
    if user.role == "director":
        return query
    if user.role == "enterprise":
        return query.where(Rating.project_id.in_(_own_projects(user)))
    if user.role == "agent":
        return query.where(Rating.agent_id == user.id)
    if user.role == "liaison":
        return query.where(Rating.department_id == user.department_id, Rating.department_id.is_not(None))
    return query.where(False)


def get_material_file(session: Session, user: User, file_id: int) -> MaterialFile:
    """A supplement's file is seen by whoever may see its task; a checklist file by the parties of its
    project, and by a liaison only when a task of its department needs that material (R14)."""
    tasks = visible_tasks(user).with_only_columns(Task.id)
    if user.role == "liaison":
        checklist = MaterialFile.project_id.in_(select(Task.project_id).where(Task.department_id == user.department_id))
    else:
        checklist = MaterialFile.project_id.in_(visible_projects(user).with_only_columns(Project.id))
    visible = select(MaterialFile).where(or_(MaterialFile.task_id.in_(tasks),
                                             and_(MaterialFile.task_id.is_(None), checklist)))
    found = get_visible(session, visible, MaterialFile, file_id, "file")
    if user.role == "liaison" and found.task_id is None and not _department_needs(session, user, found):
        raise NotFound(f"file {file_id} not found")
    return found


def _department_needs(session: Session, user: User, material: MaterialFile) -> bool:
    """A task of the liaison's department on the file's project lists the material."""
    items = session.scalars(select(ApprovalItem).join(Task, Task.item_id == ApprovalItem.id).where(
        Task.project_id == material.project_id, Task.department_id == user.department_id)).all()
    return any(material.material in item.materials for item in items)
