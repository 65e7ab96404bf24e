"""The workload board and the suggested agent (R7), by SQL aggregation.

Size weight of a project, by its investment (万元):
    under 1,000 -> 1;  under 10,000 -> 2;  10,000 and over -> 3.

Load of an agent = sum over its open projects of
    (open tasks of the project) x (size weight of the project),
where an open project is neither completed nor terminated and an open task is
pending, accepted or in supplement.

Suggestion for a project: the candidates are the active agents not on
leave whose skills are empty (any type) or contain the project's type code;
the one with the least load wins, ties broken by fewer open projects, then by
the lowest id.  No candidate is a rule violation (422).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from agency.errors import RuleViolation
from agency.people.models import User
from agency.projects.models import Project, Stage
from agency.supervision.figures import OPEN_PROJECT_STATUSES
from agency.tasks.models import OPEN_CLAUSE, Task

SIZE_LIMITS = ((1000, 1), (10000, 2))  # (investment below, weight); 3 above
NOT_DISPATCHED = "未派发"


def size_weight(investment_wan) -> int:
    """The Python mirror of ``size_weight_sql`` (for reasons and tests)."""
    for limit, weight in SIZE_LIMITS:
        if investment_wan < limit:
            return weight
    return 3


def size_weight_sql():
    return case(*((Project.investment_wan < limit, weight) for limit, weight in SIZE_LIMITS), else_=3)


def open_project_clause():
    return Project.status.in_(OPEN_PROJECT_STATUSES)


@dataclass
class AgentLoad:
    agent_id: int
    open_projects: int = 0
    open_tasks: int = 0
    load: int = 0
    projects_by_stage: dict = field(default_factory=dict)


def agent_loads(session: Session) -> dict[int, AgentLoad]:
    """agent id -> open projects, open tasks, weighted load (agents with open projects only)."""
    open_tasks = (select(Task.project_id, func.count().label("n")).where(OPEN_CLAUSE)
                  .group_by(Task.project_id).subquery())
    n = func.coalesce(open_tasks.c.n, 0)
    rows = session.execute(
        select(Project.agent_id, func.count(Project.id), func.coalesce(func.sum(n), 0),
               func.coalesce(func.sum(n * size_weight_sql()), 0))
        .outerjoin(open_tasks, open_tasks.c.project_id == Project.id)
        .where(Project.agent_id.is_not(None), open_project_clause())
        .group_by(Project.agent_id))
    return {a: AgentLoad(a, int(p), int(t), int(w)) for a, p, t, w in rows}


def projects_by_stage(session: Session) -> dict[int, dict[str, int]]:
    """agent id -> {name of the running stage: open projects}; projects with no running stage count
    under ``NOT_DISPATCHED``."""
    result: dict[int, dict[str, int]] = {}
    staged = session.execute(
        select(Project.agent_id, Stage.name, func.count(func.distinct(Project.id)))
        .join(Stage, Stage.project_id == Project.id)
        .where(Stage.status == "open", Project.agent_id.is_not(None), open_project_clause())
        .group_by(Project.agent_id, Stage.name))
    for agent_id, name, n in staged:
        result.setdefault(agent_id, {})[name] = int(n)
    return result


def workload(session: Session, loads: dict[int, AgentLoad] | None = None) -> list[dict]:
    """The board: one row per active agent (by id) with its open work, leave and skills."""
    loads = agent_loads(session) if loads is None else loads
    stages = projects_by_stage(session)
    rows = []
    for agent in session.scalars(select(User).where(User.role == "agent", User.active.is_(True)).order_by(User.id)):
        load = loads.get(agent.id, AgentLoad(agent.id))
        by_stage = dict(stages.get(agent.id, {}))
        waiting = load.open_projects - sum(by_stage.values())
        if waiting > 0:
            by_stage[NOT_DISPATCHED] = waiting
        rows.append({"agent_id": agent.id, "name": agent.display_name, "phone": agent.phone,
                     "open_projects": load.open_projects, "open_tasks": load.open_tasks, "load": load.load,
                     "on_leave": agent.on_leave, "skills": list(agent.skills or []),
                     "projects_by_stage": by_stage})
    return rows


@dataclass(frozen=True)
class Suggestion:
    """The suggested agent and why: ``reason`` is the API's sentence (Chinese, as API.md's clients read it);
    ``text`` is the same sentence in the page's language, names marked as user data."""
    agent_id: int
    reason: str
    load: int
    candidates: int
    agent_name: str = ""
    type_name: str | None = None  # the project type the agent is skilled in; None: takes any type
    open_projects: int = 0
    open_tasks: int = 0
    runner_name: str | None = None
    tie: str | None = None  # "load": same load, fewer projects; "both": same load and projects, lower id

    @property
    def text(self) -> Markup:
        from agency.web.filters import user_data
        skill = (Markup(_("擅长“%(type)s”")) % {"type": user_data(self.type_name)} if self.type_name
                 else _("未限定项目类型"))
        text = Markup(_("建议指派 %(name)s：未休假，%(skill)s；当前加权负荷 %(load)s（在办项目 %(projects)s 个、"
                        "未办结任务 %(tasks)s 件，按投资规模加权），在 %(n)s 名候选代办员中最低")) % {
            "name": user_data(self.agent_name), "skill": skill, "load": self.load, "projects": self.open_projects,
            "tasks": self.open_tasks, "n": self.candidates}
        if self.tie == "load":
            text += Markup(_("；与 %(name)s 负荷相同，在办项目更少")) % {"name": user_data(self.runner_name)}
        elif self.tie == "both":
            text += Markup(_("；与 %(name)s 负荷和在办项目数均相同，按编号靠前选定")) % {"name": user_data(self.runner_name)}
        return text + _("。")


def available_agents(session: Session) -> list[User]:
    """Active agents not on leave, by id."""
    return list(session.scalars(select(User).where(User.role == "agent", User.active.is_(True),
                                                   User.on_leave.is_(False)).order_by(User.id)))


def candidates_for(session: Session, type_code: str, exclude: set[int] = frozenset(),
                   agents: list[User] | None = None) -> list[User]:
    agents = available_agents(session) if agents is None else agents
    return [a for a in agents if a.id not in exclude and (not a.skills or type_code in a.skills)]


def suggest_agent(session: Session, project: Project, loads: dict[int, AgentLoad] | None = None,
                  exclude: set[int] = frozenset(), agents: list[User] | None = None) -> Suggestion:
    """The suggested agent for ``project`` and why (R7); raises RuleViolation without a candidate.

    ``loads`` and ``agents`` (``agent_loads``, ``available_agents``) may be passed in when suggesting
    for many projects at once.
    """
    ptype = project.project_type
    candidates = candidates_for(session, ptype.code, exclude, agents)
    if not candidates:
        raise RuleViolation(
            f"没有可指派的代办员：没有未休假、且擅长“{ptype.name}”（或未限定类型）的在岗代办员",
            fields={"project_type": ptype.code},
            shown=_l("没有可指派的代办员：没有未休假、且擅长该类型（或未限定类型）的在岗代办员"))
    loads = agent_loads(session) if loads is None else loads

    def rank(agent: User):
        load = loads.get(agent.id, AgentLoad(agent.id))
        return (load.load, load.open_projects, agent.id)

    ordered = sorted(candidates, key=rank)
    best, runner = ordered[0], ordered[1] if len(ordered) > 1 else None
    mine = loads.get(best.id, AgentLoad(best.id))
    skill = f"擅长“{ptype.name}”" if best.skills else "未限定项目类型"
    reason = (f"建议指派 {best.display_name}：未休假，{skill}；当前加权负荷 {mine.load}"
              f"（在办项目 {mine.open_projects} 个、未办结任务 {mine.open_tasks} 件，按投资规模加权），"
              f"在 {len(candidates)} 名候选代办员中最低")
    tie = None
    if runner is not None:
        other = rank(runner)
        if other[0] == mine.load:
            tie = "load" if other[1] != mine.open_projects else "both"
            reason += (f"；与 {runner.display_name} 负荷相同，在办项目更少" if other[1] != mine.open_projects
                       else f"；与 {runner.display_name} 负荷和在办项目数均相同，按编号靠前选定")
    return Suggestion(best.id, reason + "。", mine.load, len(candidates), best.display_name,
                      ptype.name if best.skills else None, mine.open_projects, mine.open_tasks,
                      runner.display_name if runner is not None else None, tie)


def unassigned_projects(session: Session, limit: int = 100) -> tuple[list[Project], int]:
    """Open projects with no agent (entrusted by the enterprise itself), oldest first, and their count."""
    where = (Project.agent_id.is_(None), open_project_clause())
    total = session.scalar(select(func.count()).select_from(Project).where(*where))
    projects = session.scalars(select(Project).where(*where).order_by(Project.entrusted_at, Project.id)
                               .limit(limit).options(selectinload(Project.project_type),
                                                     selectinload(Project.enterprise))).all()
    return list(projects), total
