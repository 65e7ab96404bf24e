"""What the hall director changes: assignment, leave, skills, liaison slots, catalog and stages.

Plain functions: session and ``now`` first, then the acting user, then the
objects and data.  They flush, never commit.
"""
from __future__ import annotations

from datetime import date, datetime, tzinfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from agency.audit.services import Actor, record
from agency.catalog.models import ApprovalItem, Department, ProjectType, StageTemplate
from agency.director.workload import agent_loads, open_project_clause, suggest_agent
from agency.errors import BadInput, NotFound, RuleViolation
from agency.people.models import User
from agency.people.services import set_leave
from agency.projects.models import Project
from agency.projects.services import assign_agent
from agency.tasks.models import RUNNING_CLAUSE, Task


def calendar_years(session: Session, today: date, tz: tzinfo) -> list[int]:
    """The years whose calendar the director must see confirmed (R1): this one, the next, and every
    one in which a running task's deadline falls (from the earliest to the latest: one statement)."""
    earliest, latest = session.execute(select(func.min(Task.deadline), func.max(Task.deadline))
                                       .where(RUNNING_CLAUSE)).one()
    first, last = today.year, today.year + 1
    if earliest is not None:
        first, last = min(first, earliest.astimezone(tz).year), max(last, latest.astimezone(tz).year)
    return list(range(first, last + 1))


def get_agent(session: Session, agent_id: int) -> User:
    agent = session.get(User, agent_id)
    if agent is None or agent.role != "agent":
        raise NotFound(f"agent {agent_id} not found")
    return agent


def get_liaison(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.role != "liaison":
        raise NotFound(f"liaison {user_id} not found")
    return user


def open_projects_of(session: Session, agent: User) -> list[Project]:
    return list(session.scalars(select(Project).where(Project.agent_id == agent.id, open_project_clause())
                                .order_by(Project.id)))


def work_to_reassign(session: Session, user: User) -> dict:
    """What a user carries that someone else must take while it is inactive: its open projects (as
    agent) and its liaison slot."""
    slot = ({"department": user.department.code, "slot": user.liaison_slot}
            if user.role == "liaison" and user.liaison_slot and user.department is not None else None)
    return {"open_projects": open_projects_of(session, user) if user.role == "agent" else [], "liaison_slot": slot}


def orphaned_work(session: Session) -> tuple[list[Project], list[User]]:
    """For the board: open projects whose agent is inactive, and liaison slots held by inactive users."""
    projects = session.scalars(select(Project).join(User, Project.agent_id == User.id)
                               .where(User.active.is_(False), open_project_clause())
                               .options(selectinload(Project.agent)).order_by(User.id, Project.id)).all()
    slots = session.scalars(select(User).where(User.role == "liaison", User.active.is_(False),
                                               User.liaison_slot.is_not(None))
                            .options(selectinload(User.department)).order_by(User.department_id)).all()
    return list(projects), list(slots)


def release_liaison_slot(session: Session, now: datetime, actor: User, liaison: User) -> None:
    """Free the slot of an inactive liaison, so another can take it (R8)."""
    if liaison.active:
        raise RuleViolation(f"{liaison.display_name} 仍在用，请先停用或用A/B角互换",
                            shown=_l("%(name)s 仍在用，请先停用或用A/B角互换", name=liaison.display_name))
    if liaison.liaison_slot is None:
        return
    before, where = liaison.liaison_slot, liaison.department.name if liaison.department else ""
    liaison.liaison_slot = None
    session.flush()
    record(session, now, Actor.of(actor), "user.slot_released", liaison, before={"liaison_slot": before},
           after={"liaison_slot": None},
           detail=f"腾出{where}的{'A角' if before == 'primary' else 'B角'}岗位（{liaison.display_name} 已停用）")


def assign_suggested(session: Session, now: datetime, actor: User, project: Project) -> Project:
    """Assign the suggested agent (one action from the board)."""
    return assign_agent(session, now, actor, project, suggest_agent(session, project).agent_id)


def reassign_projects(session: Session, now: datetime, actor: User, agent: User,
                      to_agent_id: int | None = None) -> list[tuple[Project, User]]:
    """Hand every open project of ``agent`` over: to ``to_agent_id``, or each to its suggested agent.

    ``assign_agent`` audits each hand-over and reissues the contact card (the old one is void).
    """
    target = None
    if to_agent_id is not None:
        target = session.get(User, to_agent_id)
        if target is None or target.role != "agent" or not target.active:
            raise BadInput("unknown agent", fields={"reassign_to": f"no active agent with id {to_agent_id}"},
                           shown=_l("请选择在岗代办员。"))
        if target.id == agent.id:
            raise BadInput("the same agent", fields={"reassign_to": "choose another agent"},
                           shown=_l("请选择另一名代办员。"))
        if target.on_leave:
            raise RuleViolation(f"{target.display_name} 正在休假，不能接手项目", fields={"reassign_to": "on leave"},
                                shown=_l("%(name)s 正在休假，不能接手项目", name=target.display_name))
    moved = []
    for project in open_projects_of(session, agent):
        if target is not None:
            new = target
        else:
            session.flush()
            new = session.get(User, suggest_agent(session, project, agent_loads(session), exclude={agent.id}).agent_id)
        assign_agent(session, now, actor, project, new.id)
        moved.append((project, new))
    session.flush()
    return moved


def set_agent_leave(session: Session, now: datetime, actor: User, agent: User, on_leave: bool,
                    reassign_to: int | None = None, reassign_suggested: bool = False) -> list[tuple[Project, User]]:
    """Leave on or off; going on leave may hand the open projects over in bulk."""
    if (reassign_to is not None or reassign_suggested) and not on_leave:
        raise BadInput("reassignment goes with leave", fields={"reassign_to": "only when going on leave"},
                       shown=_l("只有在登记休假时才能移交项目。"))
    set_leave(session, now, Actor.of(actor), agent, on_leave)
    session.flush()
    if reassign_to is not None or reassign_suggested:
        return reassign_projects(session, now, actor, agent, reassign_to)
    return []


def set_skills(session: Session, now: datetime, actor: User, agent: User, codes: list[str]) -> User:
    """The project types an agent takes (empty: any type)."""
    codes = sorted({c.strip() for c in codes if c and c.strip()})
    known = set(session.scalars(select(ProjectType.code)))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise BadInput("unknown project type", fields={"skills": f"unknown: {', '.join(unknown)}"},
                       shown=_l("未知的项目类型。"))
    before = list(agent.skills or [])
    if before != codes:
        agent.skills = codes
        record(session, now, Actor.of(actor), "user.skills", agent, before={"skills": before},
               after={"skills": codes}, detail=f"{agent.display_name} 擅长类型：{'、'.join(codes) or '不限'}")
    return agent


def set_liaison_leave(session: Session, now: datetime, actor: User, liaison: User, on_leave: bool) -> User:
    set_leave(session, now, Actor.of(actor), liaison, on_leave)
    return liaison


def swap_liaison_slots(session: Session, now: datetime, actor: User, department: Department) -> None:
    """Exchange the primary (A角) and backup (B角) of a department (R8)."""
    before = {u: u.liaison_slot for u in department.liaisons if u.liaison_slot in ("primary", "backup")}
    if not before:
        raise RuleViolation(f"{department.name} 没有联络员",
                            shown=_l("%(name)s 没有联络员", name=department.name))
    for person in before:  # through NULL: (department, slot) is unique
        person.liaison_slot = None
    session.flush()
    for person, slot in before.items():
        person.liaison_slot = "backup" if slot == "primary" else "primary"
    session.flush()
    record(session, now, Actor.of(actor), "department.liaisons_swapped", department,
           before={u.username: s for u, s in before.items()}, after={u.username: u.liaison_slot for u in before},
           detail=f"{department.name} A/B角互换")


def unreachable_departments(session: Session) -> list[Department]:
    """Departments where neither liaison can be reached (no primary nor backup, or both on leave)."""
    departments = session.scalars(select(Department).order_by(Department.code)
                                  .options(selectinload(Department.liaisons)))
    return [d for d in departments if d.reachable_liaison() is None]


# -- catalog -----------------------------------------------------------------------


def update_item(session: Session, now: datetime, actor: User, item: ApprovalItem, *, name: str,
                statutory_days: int, promised_days: int, immediate: bool, deemed_consent_allowed: bool) -> ApprovalItem:
    errors = {}
    if not name or not name.strip():
        errors["name"] = "required"
    if statutory_days < 1:
        errors["statutory_days"] = "at least 1"
    if promised_days < 1:
        errors["promised_days"] = "at least 1"
    elif promised_days > statutory_days:
        errors["promised_days"] = f"cannot exceed the statutory limit ({statutory_days})"
    if errors:
        over = "promised_days" in errors and promised_days > statutory_days
        raise BadInput("invalid approval item", fields=errors,
                       shown=_l("承诺时限不能超过法定时限（%(days)s 个工作日）。", days=statutory_days) if over
                       else _l("审批事项信息有误：时限须为正数，承诺时限不超过法定时限。"))
    values = {"name": name.strip(), "statutory_days": statutory_days, "promised_days": promised_days,
              "immediate": immediate, "deemed_consent_allowed": deemed_consent_allowed}
    before = {k: getattr(item, k) for k in values}
    if before != values:
        for k, v in values.items():
            setattr(item, k, v)
        record(session, now, Actor.of(actor), "catalog.item_updated", item, before=before, after=values,
               detail=f"修改审批事项 {item.code}")
    return item


def move_item_to_stage(session: Session, now: datetime, actor: User, item: ApprovalItem,
                       stage: StageTemplate) -> None:
    """Put the item in ``stage``, out of the other stages of the same project type."""
    changed = False
    for other in stage.project_type.stages:
        codes = list(other.item_codes or [])
        if other is stage and item.code not in codes:
            other.item_codes = codes + [item.code]
            changed = True
        elif other is not stage and item.code in codes:
            other.item_codes = [c for c in codes if c != item.code]
            changed = True
    if changed:
        record(session, now, Actor.of(actor), "catalog.item_stage", item,
               after={"project_type": stage.project_type.code, "stage": stage.order},
               detail=f"{item.code} 调整到“{stage.project_type.name}”第{stage.order}阶段“{stage.name}”")


def update_project_type(session: Session, now: datetime, actor: User, ptype: ProjectType, *, name: str,
                        target_days: int) -> ProjectType:
    if not name or not name.strip():
        raise BadInput("invalid project type", fields={"name": "required"},
                       shown=_l("请填写项目类型名称。"))
    if target_days < 1:
        raise BadInput("invalid project type", fields={"target_days": "at least 1"},
                       shown=_l("目标工作日至少为 1。"))
    before = {"name": ptype.name, "target_days": ptype.target_days}
    after = {"name": name.strip(), "target_days": target_days}
    if before != after:
        ptype.name, ptype.target_days = after["name"], target_days
        record(session, now, Actor.of(actor), "project_type.updated", ptype, before=before, after=after,
               detail=f"修改项目类型 {ptype.code}：目标 {target_days} 个工作日")
    return ptype


def _check_codes(session: Session, codes: list[str]) -> list[str]:
    codes = [c.strip() for c in codes if c and c.strip()]
    if not codes:
        raise BadInput("a stage needs items", fields={"item_codes": "at least one approval item"},
                       shown=_l("每个阶段至少包含一个审批事项。"))
    known = set(session.scalars(select(ApprovalItem.code).where(ApprovalItem.code.in_(codes))))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise BadInput("unknown approval item", fields={"item_codes": f"unknown: {', '.join(unknown)}"},
                       shown=_l("未知的审批事项：%(codes)s", codes=", ".join(unknown)))
    return list(dict.fromkeys(codes))


def update_stage(session: Session, now: datetime, actor: User, stage: StageTemplate, *, name: str,
                 item_codes: list[str]) -> StageTemplate:
    if not name or not name.strip():
        raise BadInput("invalid stage", fields={"name": "required"},
                       shown=_l("请填写阶段名称。"))
    codes = _check_codes(session, item_codes)
    before = {"name": stage.name, "item_codes": list(stage.item_codes)}
    after = {"name": name.strip(), "item_codes": codes}
    if before != after:
        stage.name, stage.item_codes = after["name"], codes
        record(session, now, Actor.of(actor), "project_type.stage_updated", stage.project_type, before=before,
               after=after, detail=f"修改“{stage.project_type.name}”第{stage.order}阶段")
    return stage


def add_stage(session: Session, now: datetime, actor: User, ptype: ProjectType, *, name: str,
              item_codes: list[str]) -> StageTemplate:
    if not name or not name.strip():
        raise BadInput("invalid stage", fields={"name": "required"},
                       shown=_l("请填写阶段名称。"))
    codes = _check_codes(session, item_codes)
    order = max((s.order for s in ptype.stages), default=0) + 1
    stage = StageTemplate(order=order, name=name.strip(), item_codes=codes)
    ptype.stages.append(stage)
    session.flush()
    record(session, now, Actor.of(actor), "project_type.stage_added", ptype, after={"order": order, "name": name,
                                                                                     "item_codes": codes},
           detail=f"“{ptype.name}”新增第{order}阶段“{name}”")
    return stage
