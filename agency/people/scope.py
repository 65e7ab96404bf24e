"""What each party may read of one project (DESIGN.md section 3): its fields, tasks, timeline events, files.

``scope_of(session, user, project)`` is the one place that decides; the API (project detail, timeline,
checklist, results, shipments, visits, ratings), the pages (project page, its timeline and panels) and the
timeline itself ask it, and a route never filters on its own.  The project must already be one the user
sees (``agency.people.access.get_project``); this decides what of it.

Per party:

* director: everything.
* agent of the project (the carrying agent, or the first contact, who may still read after a
  reassignment: R7): the whole project, except ratings, notices and complaints that are not about it
  (``agency.enterprise.access``: its own ratings and notices, complaints assigned to it).
* enterprise (its own project): everything, except what is internal to the hall: the agent's handover
  request to the director and the supervision flag of an unclosed meeting.  Warnings, escalations and
  deemed consents are the enterprise's business (公开透明) and stay visible.
* liaison (its department has a task on the project): the project's identity and stage (name, type,
  tracking and project codes, location, investment, agent, status, stages, dates, elapsed working
  days), its own department's tasks with their results, the meetings it was invited to, the checklist
  entries (and files) its tasks need, its own department's ratings and notices, and the lifecycle events
  (entrusted, stage dispatched / closed, completed, terminated).  Never: the enterprise's contact
  person and phone (the agent is the departments' one contact: 一门受理、专人承办), the agreement and
  delivery (between the enterprise and the hall), visits, shipments, the contact card, other
  departments' tasks, opinions, supplement requests, results and ratings, complaints, pre-review,
  handover or assignment events.

Comments on a task (agency.comments) follow its task; the enterprise reads only the public ones.
"""
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.errors import NotFound
from agency.people.models import User
from agency.projects.models import Project

# Fields of ProjectDetailSchema a liaison is not shown.
LIAISON_HIDDEN = frozenset({"contact_name", "contact_phone", "agreement_accepted_at", "agreement_signed_at",
                            "agreement_method", "delivery_method", "visits", "shipments", "contact_card"})
# Events of the project's life a liaison follows (besides those about its tasks and meetings).
LIFECYCLE = frozenset({"project.entrusted", "stage.dispatched", "stage.closed", "project.completed"})
# Events between the agent and the director that the enterprise does not read.
INTERNAL = frozenset({"project.handover_requested", "meeting.unclosed_flagged"})


@dataclass
class ProjectView:
    """What ``user`` may read of ``project``; ``party`` is director, agent, enterprise or liaison."""

    session: Session
    user: User
    project: Project
    party: str = field(init=False)

    def __post_init__(self):
        self.party = self.user.role if self.user.role in ("director", "agent", "enterprise", "liaison") else "none"

    # -- fields and tasks

    def may_see(self, name: str) -> bool:
        """A field of the project (ProjectDetailSchema's names, plus ``shipments`` and ``contact_card``)."""
        if self.party == "liaison":
            return name not in LIAISON_HIDDEN
        return self.party != "none"

    def require(self, name: str) -> None:
        """NotFound unless the user may read ``name`` (a part with its own route, e.g. the contact card)."""
        if not self.may_see(name):
            raise NotFound(f"{name.replace('_', ' ')} of project {self.project.id} not found")

    @cached_property
    def tasks(self) -> list:
        if self.party == "liaison":
            return [t for t in self.project.tasks if t.department_id == self.user.department_id]
        return list(self.project.tasks) if self.party != "none" else []

    @cached_property
    def task_ids(self) -> set[int]:
        return {t.id for t in self.tasks}

    def sees_task(self, task) -> bool:
        return task.id in self.task_ids

    def dump(self, data: dict) -> dict:
        """A dumped project (ProjectSchema or ProjectDetailSchema) cut to what the user may read."""
        data = {k: v for k, v in data.items() if self.may_see(k)}
        if "tasks" in data:
            data["tasks"] = [t for t in data["tasks"] if t.get("id") in self.task_ids]
        return data

    # -- materials and results

    @cached_property
    def materials(self) -> set[str] | None:
        """Checklist names the user may read; None: all of them."""
        if self.party != "liaison":
            return None
        return {name for task in self.tasks for name in task.item.materials}

    def sees_material(self, name: str) -> bool:
        return self.materials is None or name in self.materials

    def results(self, results: list) -> list:
        return [r for r in results if r.task_id in self.task_ids]

    # -- ratings, notices, complaints, meetings: the object rules of agency.enterprise.access and people.access

    def _ids(self, statement, model) -> set[int]:
        return set(self.session.scalars(statement.where(model.project_id == self.project.id)
                                        .with_only_columns(model.id)))

    @cached_property
    def rating_ids(self) -> set[int]:
        from agency.enterprise.access import visible_ratings
        from agency.enterprise.models import Rating
        return self._ids(visible_ratings(self.user), Rating)

    @cached_property
    def notice_ids(self) -> set[int]:
        from agency.enterprise.access import visible_notices
        from agency.enterprise.models import DissatisfactionNotice
        return self._ids(visible_notices(self.user), DissatisfactionNotice)

    @cached_property
    def complaint_ids(self) -> set[int]:
        from agency.enterprise.access import visible_complaints
        from agency.enterprise.models import Complaint
        return self._ids(visible_complaints(self.user), Complaint)

    @cached_property
    def meeting_ids(self) -> set[int]:
        from agency.meetings.models import Meeting
        from agency.people.access import visible_meetings
        return self._ids(visible_meetings(self.user), Meeting)

    def ratings(self) -> list:
        from agency.enterprise.models import Rating
        return self.session.scalars(select(Rating).where(Rating.id.in_(self.rating_ids)).order_by(Rating.id)).all()

    # -- the timeline

    @cached_property
    def _owners(self) -> dict[str, dict[int, object]]:
        """object type -> {id: the task id, meeting id or material name that decides}, for this project."""
        from agency.meetings.models import Invitation, Meeting
        from agency.materials.models import Deferral
        from agency.supervision.models import Escalation
        from agency.tasks.models import MaterialFile
        pid = self.project.id
        rows = {
            "invitation": select(Invitation.id, Invitation.meeting_id).join(Meeting).where(Meeting.project_id == pid),
            "deferral": select(Deferral.id, Deferral.task_id).where(Deferral.project_id == pid),
            "escalation": select(Escalation.id, Escalation.task_id).where(Escalation.project_id == pid),
        }
        owners = {kind: dict(self.session.execute(statement).all()) for kind, statement in rows.items()}
        from agency.comments.models import TaskComment
        owners["taskcomment"] = {row.id: (row.task_id, row.internal) for row in self.session.execute(
            select(TaskComment.id, TaskComment.task_id, TaskComment.internal).where(TaskComment.project_id == pid))}
        owners["materialfile"] = {row.id: (row.task_id, row.material) for row in self.session.execute(
            select(MaterialFile.id, MaterialFile.task_id, MaterialFile.material).where(MaterialFile.project_id == pid))}
        return owners

    def sees_event(self, event) -> bool:
        """One audit event of the project (the timeline's filter)."""
        if self.party == "director":
            return True
        if self.party == "none":
            return False
        kind, oid, action = event.object_type, event.object_id, event.action
        owners = self._owners
        by_object = {
            "task": lambda: oid in self.task_ids,
            "deferral": lambda: owners["deferral"].get(oid) in self.task_ids,
            "escalation": lambda: owners["escalation"].get(oid) in self.task_ids,
            "meeting": lambda: oid in self.meeting_ids,
            "invitation": lambda: owners["invitation"].get(oid) in self.meeting_ids,
            "rating": lambda: oid in self.rating_ids,
            "dissatisfactionnotice": lambda: oid in self.notice_ids,
            "complaint": lambda: oid in self.complaint_ids,
            "materialfile": lambda: self._sees_file(*owners["materialfile"].get(oid, (None, None))),
            "taskcomment": lambda: self._sees_comment(*owners["taskcomment"].get(oid, (None, True))),
        }
        if kind in by_object:
            return by_object[kind]() and (self.party != "enterprise" or action not in INTERNAL)
        if self.party == "liaison":
            return self._lifecycle(event)
        return self.party != "enterprise" or action not in INTERNAL

    def _sees_comment(self, task_id, internal) -> bool:
        """A comment on a task (agency.comments): internal ones are never the enterprise's."""
        return task_id in self.task_ids and not (internal and self.party == "enterprise")

    def _sees_file(self, task_id, material) -> bool:
        if task_id is not None:
            return task_id in self.task_ids
        return material is not None and self.sees_material(material)

    def _lifecycle(self, event) -> bool:
        if event.action in LIFECYCLE:
            return True
        after = event.after or {}
        if event.action == "project.halted":
            return after.get("task_id") in self.task_ids
        return (event.action.startswith("project.") and event.object_type == "project"
                and after.get("status") in ("completed", "terminated"))


def scope_of(session: Session, user: User, project: Project) -> ProjectView:
    """What ``user`` may read of ``project`` (a project it sees)."""
    return ProjectView(session, user, project)
