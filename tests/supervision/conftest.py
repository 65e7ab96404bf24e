"""Rows written directly, at hand-chosen instants, so every figure can be worked out by hand."""
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from agency.catalog.models import ApprovalItem, Department, ProjectType
from agency.enterprise.models import Rating
from agency.projects.models import Project, Stage
from agency.supervision.models import Card
from agency.tasks.models import Task
from tests.projects.conftest import entrust_body, hall  # noqa: F401  (fixtures)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A local Shanghai time, e.g. at("2026-11-16 09:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Builder:
    def __init__(self, session, now):
        self.session, self.now, self.count = session, now, 0

    def enterprise(self):
        from agency.people.models import User
        user = self.session.scalar(select(User).where(User.role == "enterprise"))
        if user is None:
            from tests.support import UserFactory
            user = UserFactory(self.session, self.now)("enterprise", "builder-ent", organization="造数公司")
        return user

    def project(self, *, type_code="IND_PERMIT", agent=None, investment=500, status="in_progress",
                entrusted=None, completed=None, name=None, stage_status="open", project_code=None):
        self.count += 1
        ptype = self.session.scalar(select(ProjectType).where(ProjectType.code == type_code))
        entrusted = entrusted or at("2026-11-02 10:00")
        project = Project(name=name or f"项目{self.count}", project_type_id=ptype.id, enterprise_id=self.enterprise().id,
                          agent_id=agent.id if agent else None, investment_wan=Decimal(str(investment)),
                          tracking_code=f"DBTEST{self.count:04d}", status=status, entrusted_at=entrusted,
                          created_at=entrusted, completed_at=completed, contact_name="联系人",
                          terminated_at=completed if status == "terminated" else None, project_code=project_code)
        self.session.add(project)
        self.session.flush()
        first = ptype.stages[0]
        self.session.add(Stage(project_id=project.id, order=first.order, name=first.name, status=stage_status,
                               dispatched_at=entrusted if stage_status != "waiting" else None))
        self.session.flush()
        return project

    def task(self, project, *, item="FGW-01", status="pending", started=None, deadline=None, answered=None,
             outcome=None, reason=None, promised=None, supplements=0):
        item_row = self.session.scalar(select(ApprovalItem).where(ApprovalItem.code == item))
        stage = project.stages[0] if project.stages else self.session.scalar(
            select(Stage).where(Stage.project_id == project.id))
        started = started or at("2026-11-16 09:00")
        deadline = deadline or started + timedelta(days=7)
        if status == "answered" and outcome is None:
            outcome = "consent"
        if status == "deemed_consent":
            outcome = "consent"
        task = Task(project_id=project.id, stage_id=stage.id, department_id=item_row.department_id,
                    item_id=item_row.id, status=status, outcome=outcome, outcome_reason=reason, opinion="",
                    promised_days=promised if promised is not None else item_row.promised_days, started_at=started,
                    deadline=deadline, warn_at=deadline - timedelta(days=1), answered_at=answered,
                    supplement_count=supplements, created_at=started)
        self.session.add(task)
        self.session.flush()
        return task

    def card(self, department_code, color, reason, when, task=None, agent=None, project=None):
        self.count += 1
        department = self.session.scalar(select(Department).where(Department.code == department_code))
        card = Card(key=f"test:{self.count}", color=color, reason=reason,
                    department_id=department.id if department else None, agent_id=agent.id if agent else None,
                    task_id=task.id if task else None, project_id=(project or (task.project if task else None)).id
                    if (project or task) else None, at=when)
        self.session.add(card)
        self.session.flush()
        return card

    def rating(self, project, level, when, department_code=None, agent=None, task=None):
        department = (self.session.scalar(select(Department).where(Department.code == department_code))
                      if department_code else None)
        rating = Rating(project_id=project.id, task_id=task.id if task else None, department_id=department.id if department else None,
                        agent_id=agent.id if agent else None, level=level, rated_by_id=project.enterprise_id,
                        created_at=when)
        self.session.add(rating)
        self.session.flush()
        return rating


@pytest.fixture
def build(session, now, catalog):
    return Builder(session, now)
