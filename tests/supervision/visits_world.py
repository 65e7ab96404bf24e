"""Real projects completed with 0, 1 and 2 visits (R18), through the services a hall would use:
entrusted by the agent, dispatched (tests.tasks.dispatch: ready_for_dispatch first), answered with
consent by the department's liaison (the single-task REAL_ESTATE type then completes), visits
recorded by the agent."""
from datetime import date, timedelta

from agency.audit.services import Actor
from agency.tasks.services import answer_task
from agency.visits.services import record_visit
from tests.tasks import dispatch, entrust, liaison_of

ENTRUSTED = date(2026, 11, 16)  # Monday; completion on the ``now`` fixture, Monday 23 November 2026
REASONS = {"零次": [], "一次": [(date(2026, 11, 16), "现场核验身份证原件")],
           "两次": [(date(2026, 11, 16), "现场核验身份证原件"), (date(2026, 11, 18), "补签不动产登记申请表")]}


def completed_with_visits(session, now, hall, name: str, visits, complete: bool = True):
    """A REAL_ESTATE project of ``ent`` carried by ``agent`` with ``visits`` [(date, reason)], committed."""
    entrusted_at = now - timedelta(days=7)
    project = entrust(session, entrusted_at, hall, project_type="REAL_ESTATE", name=name)
    for on, reason in visits:
        record_visit(session, now, hall["agent"], project, on, reason)
    session.commit()
    if complete:
        (task,) = dispatch(session, now, project)
        answer_task(session, now, Actor.of(liaison_of(hall, task)), task, "consent")
        session.commit()
        assert project.status == "completed"
    return project


def build_visits(session, now, hall) -> dict:
    """零次, 一次, 两次 completed on ``now``; 三次 (three visits) still running, so left out."""
    projects = {name: completed_with_visits(session, now, hall, f"不动产登记{name}", visits)
                for name, visits in REASONS.items()}
    projects["三次"] = completed_with_visits(session, now, hall, "不动产登记三次",
                                            [*REASONS["两次"], (date(2026, 11, 19), "领取证书")], complete=False)
    return projects
