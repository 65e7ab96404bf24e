"""The workload board and the suggestion rule (R7) on crafted workloads."""
from decimal import Decimal

import pytest

from agency.director.workload import (NOT_DISPATCHED, agent_loads, size_weight, suggest_agent, unassigned_projects,
                                      workload)
from agency.errors import RuleViolation


@pytest.mark.parametrize("investment, weight", [(0, 1), (Decimal("999.99"), 1), (1000, 2), (9999, 2),
                                                (10000, 3), (500000, 3)])
def test_size_weight(investment, weight):
    assert size_weight(investment) == weight


@pytest.fixture
def crew(session, build, make_user):
    """Agents and their open work:

    any     skills any:         A (500 万, w1) 3 open tasks + 1 answered, B (5000 万, w2) 2 open -> load 3 + 4 = 7
    ind     skills IND_PERMIT:  C (20000 万, w3) 1 open task                               -> load 3, 1 project
    start   skills STARTUP:     nothing                                                     -> load 0
    resting on leave, any:      nothing                                                     -> load 0 (never chosen)
    twin    skills any:         D (800 万, w1) 3 open tasks, E (700 万) 0 open tasks         -> load 3, 2 projects
    """
    make = lambda name, **kw: make_user("agent", name, name=name, **kw)  # noqa: E731
    people = {"any": make("any"), "ind": make("ind", skills=["IND_PERMIT"]), "start": make("start", skills=["STARTUP"]),
              "resting": make("resting"), "twin": make("twin")}
    people["resting"].on_leave = True
    a = build.project(agent=people["any"], investment=500)
    for status in ("pending", "accepted", "supplement"):
        build.task(a, status=status)
    build.task(a, status="answered", answered=a.entrusted_at)
    b = build.project(agent=people["any"], investment=5000)
    build.task(b, status="pending")
    build.task(b, status="accepted")
    c = build.project(agent=people["ind"], investment=20000)
    build.task(c, status="pending")
    d = build.project(agent=people["twin"], investment=800)
    for _ in range(3):
        build.task(d, status="pending")
    build.project(agent=people["twin"], investment=700, stage_status="waiting")
    done = build.project(agent=people["start"], investment=900000, status="completed")
    build.task(done, status="pending")  # a completed project's stray task never counts
    session.commit()
    return people


def test_loads_are_open_tasks_weighted_by_project_size(session, crew):
    loads = agent_loads(session)
    assert (loads[crew["any"].id].open_projects, loads[crew["any"].id].open_tasks, loads[crew["any"].id].load) == (2, 5, 7)
    assert (loads[crew["ind"].id].open_projects, loads[crew["ind"].id].load) == (1, 3)
    assert (loads[crew["twin"].id].open_projects, loads[crew["twin"].id].load) == (2, 3)
    assert crew["start"].id not in loads


def test_board_rows(session, crew):
    rows = {r["name"]: r for r in workload(session)}
    assert rows["any"]["open_tasks"] == 5 and rows["any"]["skills"] == []
    assert rows["resting"]["on_leave"] is True
    assert rows["ind"]["skills"] == ["IND_PERMIT"]
    first_stage = "立项用地规划许可"
    assert rows["twin"]["projects_by_stage"] == {first_stage: 1, NOT_DISPATCHED: 1}
    assert rows["start"]["open_projects"] == 0 and rows["start"]["projects_by_stage"] == {}


def test_least_loaded_skilled_agent_not_on_leave(session, build, crew):
    project = build.project(type_code="STARTUP", investment=100)
    suggestion = suggest_agent(session, project)
    # candidates: any (7), start (0), twin (3); resting is on leave, ind lacks the skill
    assert suggestion.agent_id == crew["start"].id
    assert suggestion.candidates == 3
    assert "start" in suggestion.reason and "擅长" in suggestion.reason and "负荷 0" in suggestion.reason


def test_tie_on_load_goes_to_fewer_open_projects(session, build, crew):
    project = build.project(type_code="IND_PERMIT", investment=100)
    # candidates: any (7), ind (3, one project), twin (3, two projects)
    suggestion = suggest_agent(session, project)
    assert suggestion.agent_id == crew["ind"].id
    assert "负荷相同，在办项目更少" in suggestion.reason


def test_full_tie_goes_to_the_lowest_id(session, build, make_user, crew):
    crew["start"].skills = ["IND_PERMIT"]
    twin2 = make_user("agent", "twin2", name="twin2")
    twin3 = make_user("agent", "twin3", name="twin3")
    project = build.project(type_code="COMPLETION", investment=100)
    # COMPLETION candidates: any (7), twin (3), twin2 (0, no project), twin3 (0, no project)
    suggestion = suggest_agent(session, project)
    assert suggestion.agent_id == min(twin2.id, twin3.id)
    assert "按编号靠前选定" in suggestion.reason


def test_leave_and_skills_can_leave_no_candidate(session, build, crew):
    for name in ("any", "twin"):
        crew[name].on_leave = True
    project = build.project(type_code="REAL_ESTATE", investment=100)
    with pytest.raises(RuleViolation) as error:
        suggest_agent(session, project)
    assert "没有可指派的代办员" in error.value.message


def test_inactive_agents_are_never_suggested(session, build, crew):
    crew["start"].active = False
    project = build.project(type_code="STARTUP", investment=100)
    assert suggest_agent(session, project).agent_id == crew["twin"].id  # twin 3 < any 7


def test_unassigned_projects_are_the_open_ones_without_agent(session, build, crew):
    mine = build.project(type_code="STARTUP")
    build.project(type_code="STARTUP", status="terminated")
    projects, total = unassigned_projects(session)
    assert [p.id for p in projects] == [mine.id] and total == 1
