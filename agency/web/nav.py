"""The navigation of each role.  An entry shows once its page exists."""
from flask import Flask, current_app
from flask_babel import get_locale, lazy_gettext as _l
from flask_login import current_user

NAV = {
    "enterprise": [("web.home", _l("首页")), ("projects.mine", _l("我的项目")), ("projects.entrust", _l("委托代办")),
                   ("notifications.inbox", _l("消息")), ("catalog.index", _l("事项目录"))],
    "agent": [("web.home", _l("首页")), ("projects.mine", _l("我的项目")), ("meetings.index", _l("会议")),
              ("notifications.inbox", _l("消息")), ("catalog.index", _l("事项目录"))],
    "liaison": [("web.home", _l("首页")), ("tasks.inbox", _l("部门办件")), ("meetings.invitations", _l("会议邀请")),
                ("enterprise.notices", _l("不满意件")), ("notifications.inbox", _l("消息")),
                ("catalog.index", _l("事项目录"))],
    "director": [("web.home", _l("首页")), ("projects.all", _l("全部项目")), ("director.workload", _l("工作量")),
                 ("supervision.board", _l("电子监察")), ("director.rankings", _l("排名")),
                 ("director.reports", _l("报表")), ("meetings.calendar", _l("会议日历")),
                 ("enterprise.complaints", _l("投诉")), ("director.settings", _l("目录与日历")),
                 ("catalog.index", _l("事项目录"))],
}
ROLE_LABELS = {"enterprise": _l("企业"), "agent": _l("代办员"), "liaison": _l("部门联络员"), "director": _l("大厅主任")}
ROLE_INTROS = {
    "enterprise": _l("委托项目、跟踪每一步进度、持企业联系卡、评价服务。"),
    "agent": _l("承办项目：拆分并联审批任务、派发到部门、组织联审会议、跟踪办结。"),
    "liaison": _l("受理本部门的办件：一次性告知补正材料、按时答复、参加联审会议。"),
    "director": _l("分配代办员、查看电子监察与排名、管理目录与日历、处理投诉。"),
}


def nav_items() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    return [(e, label) for e, label in NAV.get(current_user.role, []) if e in current_app.view_functions]


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation():
        return {"nav_items": nav_items, "get_locale": get_locale, "role_label": lambda r: ROLE_LABELS.get(r, r),
                "role_intro": lambda r: ROLE_INTROS.get(r, "")}
