"""The minutes (会议纪要) of a closed meeting: one text, written once at closing.

Kind, time, place, who attended for whom, each department's stance and how it
was reached (present, written, deemed, none), a site survey's findings, the
conclusion, and what closing did to the project's tasks.
"""
from datetime import datetime

from agency.clock import local
from agency.meetings.models import DECISION_NAMES, SOURCE_NAMES

HOW = {
    "present": "到会表态",
    "written": "会前书面意见",
    "deemed": "缺席默认：经按时邀请未出席，且会前未提交书面意见，视为同意",
    "none": "未形成意见：邀请未在通知期限前送达，不适用缺席默认，需重新邀请",
}


def stance_line(invitation) -> str:
    """One department's stance and how it was reached, in a sentence."""
    source = invitation.stance_source
    decision = DECISION_NAMES.get(invitation.decision, "") if invitation.decision else ""
    opinion = f"：{invitation.opinion}" if invitation.opinion else ""
    if source == "deemed":
        return f"视为同意（{HOW['deemed']}）"
    if source == "none":
        delivered = (f"邀请送达于{local(invitation.delivered_at):%Y-%m-%d %H:%M}" if invitation.delivered_at
                     else "邀请未送达")
        return f"{HOW['none']}（{delivered}）"
    return f"{decision}{opinion}（{HOW.get(source, SOURCE_NAMES.get(source, ''))}）"


def attendance_line(invitation) -> str:
    if invitation.attendance == "present":
        who = invitation.representative or "（未登记代表姓名）"
        return f"出席，代表：{who}"
    return "缺席"


def build_minutes(meeting, now: datetime, effects: dict) -> str:
    project = meeting.project
    agent = meeting.scheduled_by
    lines = [
        f"会议纪要（{meeting.kind_name}）",
        "",
        f"项目：{project.name}（跟踪码 {project.tracking_code}）",
        f"会议类型：{meeting.kind_name}",
        f"时间：{local(meeting.starts_at):%Y-%m-%d %H:%M}（北京时间）",
        f"地点：{meeting.place}",
        f"组织：{agent.display_name if agent is not None else ''}（代办员）",
        "",
        "一、出席情况",
    ]
    for n, invitation in enumerate(meeting.invitations, 1):
        lines.append(f"  {n}. {invitation.department.name}：{attendance_line(invitation)}")
    lines += ["", "二、各部门意见"]
    for n, invitation in enumerate(meeting.invitations, 1):
        lines.append(f"  {n}. {invitation.department.name}：{stance_line(invitation)}")
    if meeting.kind == "site_survey":
        lines += ["", "三、踏勘情况"]
        for n, invitation in enumerate(meeting.invitations, 1):
            lines.append(f"  {n}. {invitation.department.name}：{invitation.findings or '（无）'}")
    lines += ["", f"{'四' if meeting.kind == 'site_survey' else '三'}、会议结论", f"  {meeting.conclusion}"]
    consequences = []
    for task in effects.get("deemed", []):
        consequences.append(f"  {task.department.name}“{task.item.name}”：缺席默认同意（办结）")
    for task in effects.get("not_deemable", []):
        consequences.append(f"  {task.department.name}“{task.item.name}”：依法不适用默认同意，须由部门书面答复")
    for task in effects.get("supplements", []):
        consequences.append(f"  {task.department.name}“{task.item.name}”：一次性告知补正材料")
    for invitation in effects.get("objections", []):
        consequences.append(f"  {invitation.department.name}：反对意见记录在案；如需不予办理，须由该部门书面答复")
    for invitation in effects.get("reinvite", []):
        consequences.append(f"  {invitation.department.name}：需重新邀请")
    if consequences:
        lines += ["", f"{'五' if meeting.kind == 'site_survey' else '四'}{OUTCOME_HEADING}", *consequences]
    lines += ["", f"纪要形成时间：{local(now):%Y-%m-%d %H:%M}"]
    return "\n".join(lines) + "\n"


OUTCOME_HEADING = "、办理结果"


def outcome_lines(minutes: str) -> list[str]:
    """The lines of the minutes' "办理结果" section (what closing did to the tasks), as written at closing.

    Those consequences are known only at the moment of closing, so the minutes page prints them from
    the kept text (``build_minutes`` writes the heading ``四、办理结果`` or ``五、办理结果``) instead of
    the whole text a second time."""
    lines, inside = [], False
    for line in minutes.splitlines():
        if not inside:
            inside = line.endswith(OUTCOME_HEADING)
            continue
        if not line.strip():
            break
        lines.append(line.strip())
    return lines
