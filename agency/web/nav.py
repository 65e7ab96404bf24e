"""The navigation of each role.  An entry shows once its page exists."""
from flask import Flask, current_app, request
from flask_babel import get_locale, lazy_gettext as _l
from flask_login import current_user

NAV = {
    "enterprise": [("web.home", _l("首页")), ("projects.mine", _l("我的项目")), ("projects.entrust", _l("委托代办")),
                   ("enterprise.notices", _l("不满意件")), ("enterprise.complaints", _l("投诉")),
                   ("notifications.inbox", _l("消息")), ("catalog.index", _l("事项目录"))],
    "agent": [("web.home", _l("首页")), ("projects.mine", _l("我的项目")), ("meetings.index", _l("会议")),
              ("enterprise.notices", _l("不满意件")), ("notifications.inbox", _l("消息")),
              ("catalog.index", _l("事项目录"))],
    "liaison": [("web.home", _l("首页")), ("tasks.inbox", _l("部门办件")), ("meetings.invitations", _l("会议邀请")),
                ("enterprise.notices", _l("不满意件")), ("notifications.inbox", _l("消息")),
                ("catalog.index", _l("事项目录"))],
    "director": [("web.home", _l("首页")), ("projects.all", _l("全部项目")), ("director.workload", _l("工作量")),
                 ("supervision.board", _l("电子监察")), ("director.rankings", _l("排名")),
                 ("director.reports", _l("报表")), ("meetings.calendar", _l("会议日历")),
                 ("enterprise.complaints", _l("投诉")), ("director.settings", _l("目录与日历")),
                 ("catalog.index", _l("事项目录")), ("ops.queues", _l("队列"))],
}
ROLE_LABELS = {"enterprise": _l("企业"), "agent": _l("代办员"), "liaison": _l("部门联络员"), "director": _l("大厅主任")}
ROLE_INTROS = {
    "enterprise": _l("委托项目、跟踪每一步进度、持企业联系卡、评价服务。"),
    "agent": _l("承办项目：拆分并联审批任务、派发到部门、组织联审会议、跟踪办结。"),
    "liaison": _l("受理本部门的办件：一次性告知补正材料、按时答复、参加联审会议。"),
    "director": _l("分配代办员、查看电子监察与排名、管理目录与日历、处理投诉。"),
}
# One line under each home-page tile; an endpoint without a hint shows its label only.
TILE_HINTS = {
    "projects.mine": _l("查看项目进度、阶段与各部门办件"),
    "projects.entrust": _l("填写项目信息，签署委托代办协议"),
    "projects.all": _l("全部项目及其承办代办员"),
    "notifications.inbox": _l("站内消息与提醒"),
    "catalog.index": _l("审批事项、所属部门、法定与承诺时限"),
    "meetings.index": _l("联合预审、联合踏勘与联审会议"),
    "meetings.invitations": _l("本部门收到的会议邀请"),
    "meetings.calendar": _l("近期联审会议一览"),
    "tasks.inbox": _l("受理、补正、答复本部门办件"),
    "enterprise.notices": _l("不满意件函告与整改复函"),
    "enterprise.complaints": _l("企业投诉的受理与处理"),
    "director.workload": _l("代办员工作量与项目分配"),
    "director.rankings": _l("部门与代办员的按时率、满意度排名"),
    "director.reports": _l("日清周结月通报季公示，可下载"),
    "director.settings": _l("维护事项目录与工作日历"),
    "supervision.board": _l("预警、黄牌与红牌"),
    "ops.queues": _l("后台任务队列、失败重试与时限扫描"),
}


def nav_items() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    return [(e, label) for e, label in NAV.get(current_user.role, []) if e in current_app.view_functions]


def nav_active(endpoint: str) -> bool:
    """The entry of the current page: its own endpoint, else the first entry of the same area."""
    current = request.endpoint or ""
    if current == endpoint:
        return True
    items = [e for e, _ in nav_items()]
    if current in items or "." not in current:
        return False
    area = current.split(".", 1)[0]
    same_area = [e for e in items if e.split(".", 1)[0] == area]
    return bool(same_area) and same_area[0] == endpoint


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation():
        return {"nav_items": nav_items, "nav_active": nav_active, "get_locale": get_locale,
                "role_label": lambda r: ROLE_LABELS.get(r, r), "role_intro": lambda r: ROLE_INTROS.get(r, ""),
                "tile_hint": lambda e: TILE_HINTS.get(e, "")}
