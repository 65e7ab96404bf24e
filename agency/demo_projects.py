"""Demo projects in several states, built through the same services as the pages."""
from datetime import datetime, timedelta

from sqlalchemy import func, select

from agency.audit.services import Actor
from agency.projects.models import Project
from agency.projects.services import dispatch_stage, entrust_project, withdraw_project
from agency.tasks.services import accept_task, answer_task, request_supplement


def _entrust(session, now, actor, enterprise, name, ptype, location, investment, contact, phone):
    return entrust_project(session, now, actor, name=name, project_type=ptype, location=location,
                           investment_wan=investment, contact_name=contact, contact_phone=phone,
                           enterprise_id=enterprise.id)


def _liaison(users, task):
    return users[f"{task.department.code.lower()}_a"]


def build_projects(session, now: datetime, users: dict) -> None:
    """Once: a completed start-up, a construction project mid-way, an unassigned one, a withdrawn one."""
    if session.scalar(select(func.count()).select_from(Project)):
        return
    agent1, agent2 = users["agent1"], users["agent2"]
    ent1, ent2 = users["ent1"], users["ent2"]
    earlier = now - timedelta(days=14)

    done = _entrust(session, earlier, agent2, ent2, "青禾食品科技有限公司设立", "STARTUP", "高新区文一路18号",
                    200, "陈总", "138-0000-0002")
    _, tasks = dispatch_stage(session, earlier, Actor.of(agent2), done)
    for task in tasks:
        answer_task(session, earlier + timedelta(hours=3), Actor.of(_liaison(users, task)), task, "consent")

    factory = _entrust(session, earlier, agent1, ent1, "年产十万台精密机床项目", "IND_PERMIT", "经开区创业路8号",
                       32000, "张经理", "138-0000-0001")
    _, tasks = dispatch_stage(session, earlier, Actor.of(agent1), factory)
    by_item = {t.item.code: t for t in tasks}
    answer_task(session, earlier + timedelta(days=1), Actor.of(users["fgw_a"]), by_item["FGW-01"], "consent")
    accept_task(session, earlier + timedelta(days=1), Actor.of(users["zrgh_a"]), by_item["ZRGH-01"])
    request_supplement(session, earlier + timedelta(days=2), Actor.of(users["zrgh_a"]), by_item["ZRGH-02"],
                       ["土地出让合同", "规划条件"])
    answer_task(session, earlier + timedelta(days=3), Actor.of(users["fgw_a"]), by_item["FGW-03"],
                "consent_with_conditions", "须在施工图阶段落实节能措施")

    _entrust(session, now, ent1, ent1, "二期仓储物流中心", "COMPLETION", "经开区创业路10号", 8000, "张经理",
             "138-0000-0001")

    withdrawn = _entrust(session, earlier, agent2, ent2, "冷链仓库不动产转移", "REAL_ESTATE", "临港路66号", 1500,
                         "陈总", "138-0000-0002")
    dispatch_stage(session, earlier, Actor.of(agent2), withdrawn)
    withdraw_project(session, earlier + timedelta(days=2), ent2, withdrawn, "企业调整投资计划")
