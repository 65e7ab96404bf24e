"""The meeting forms never lose input (#13.4): a refused record comes back as typed with each message at its
field; a meeting with no department ticked is refused; an identical or same-day meeting is warned about."""
import re

from sqlalchemy import func, select

from agency.meetings.models import Invitation, Meeting
from tests.meetings.conftest import MONDAY, WEDNESDAY, at
from tests.web.conftest import client, csrf_token, login, read_csrf  # noqa: F401  (page fixtures)


def html(response) -> str:
    return response.get_data(as_text=True)


def row_of(page: str, code: str) -> str:
    return re.search(rf'<tr class="record-row[^"]*" data-department="{code}".*?</tr>', page, re.S).group(0)


def checked(row: str, value: str) -> bool:
    return re.search(rf'<input type="radio" name="attendance-\w+" value="{value}" checked', row) is not None


def test_a_refused_record_keeps_every_radio_representative_and_opinion(session, make_meeting, client, login, clock):
    meeting = make_meeting(codes=["FGW", "ZRGH"])
    clock.set(at(WEDNESDAY, hours=2))
    login("agent")
    path = f"/meetings/{meeting.id}"
    page = html(client.get(path))
    refused = client.post(f"{path}/record", data={
        "csrf_token": read_csrf(page),
        "attendance-FGW": "present", "representative-FGW": "王科长", "decision-FGW": "objection",
        "opinion-FGW": "",  # an objection needs its reason
        "attendance-ZRGH": "absent", "representative-ZRGH": "", "opinion-ZRGH": "未到场"})
    assert refused.status_code == 400
    page = html(refused)
    fgw, zrgh = row_of(page, "FGW"), row_of(page, "ZRGH")
    assert checked(fgw, "present") and not checked(fgw, "absent")
    assert checked(zrgh, "absent") and not checked(zrgh, "present")
    assert 'value="王科长"' in fgw and '<option value="objection" selected>' in fgw
    assert 'value="未到场"' in zrgh
    # the message stands at the opinion of FGW, and nowhere in ZRGH's row
    assert re.search(r'name="opinion-FGW"[^>]*aria-invalid="true">\s*<p class="error" role="alert">附条件同意、反对或需补正时须填写意见',
                     fgw)
    assert 'class="error"' not in zrgh and "到会情况未保存" in page
    session.expire_all()
    assert {i.attendance for i in session.scalars(select(Invitation).where(Invitation.meeting_id == meeting.id))} == {None}

    present_without_decision = client.post(f"{path}/record", data={
        "csrf_token": read_csrf(page), "attendance-FGW": "present", "representative-FGW": "王科长"})
    fgw = row_of(html(present_without_decision), "FGW")
    assert present_without_decision.status_code == 400 and "出席部门须选择表态" in fgw and checked(fgw, "present")
    nothing = client.post(f"{path}/record", data={"csrf_token": read_csrf(page), "opinion-ZRGH": "写了意见没选出席"})
    zrgh = row_of(html(nothing), "ZRGH")
    assert nothing.status_code == 400 and "请选择出席或缺席" in zrgh and 'value="写了意见没选出席"' in zrgh

    done = client.post(f"{path}/record", data={
        "csrf_token": read_csrf(page), "attendance-FGW": "present", "representative-FGW": "王科长",
        "decision-FGW": "objection", "opinion-FGW": "选址不符合规划", "attendance-ZRGH": "absent"})
    assert done.status_code == 302 and done.headers["Location"].endswith("#record")
    session.expire_all()
    recorded = {i.department.code: (i.attendance, i.decision, i.opinion, i.representative)
                for i in session.scalars(select(Invitation).where(Invitation.meeting_id == meeting.id))}
    assert recorded == {"FGW": ("present", "objection", "选址不符合规划", "王科长"), "ZRGH": ("absent", None, "", "")}


def schedule(client, project, **overrides):  # noqa: F811
    path = f"/meetings/new?project={project.id}"
    form = {"csrf_token": read_csrf(html(client.get(path))), "kind": "joint_review", "starts_at": "2026-11-25T09:00",
            "place": "三楼联审室", "departments": ["FGW", "ZRGH"], **overrides}
    return client.post(path, data=form)


def meetings(session) -> int:
    return session.scalar(select(func.count()).select_from(Meeting))


def test_a_meeting_with_no_department_ticked_is_refused_and_keeps_what_was_typed(session, project, client, login,
                                                                                  clock):
    clock.set(MONDAY)
    login("agent")
    refused = schedule(client, project, departments=[], place="二楼小会议室")
    page = html(refused)
    assert "请至少勾选一个邀请部门" in page and meetings(session) == 0
    assert 'value="二楼小会议室"' in page and 'value="2026-11-25T09:00"' in page
    assert re.search(r'<fieldset class="field departments has-error"', page)


def test_an_identical_meeting_is_refused_and_a_same_day_one_is_confirmed(session, project, make_meeting, client,
                                                                         login, clock):
    existing = make_meeting(codes=["FGW"])
    clock.set(MONDAY)
    login("agent")
    same = schedule(client, project)  # same project, kind and time
    page = html(same)
    assert "安排了联审会议" in page and "请改期或查看已安排的会议" in page and f'href="/meetings/{existing.id}"' in page
    assert meetings(session) == 1 and 'value="三楼联审室"' in page
    later = schedule(client, project, starts_at="2026-11-25T14:00")
    page = html(later)
    assert "同一天已安排了该项目的联审会议" in page and 'name="confirm_similar"' in page and meetings(session) == 1
    confirmed = schedule(client, project, starts_at="2026-11-25T14:00", confirm_similar="1")
    assert confirmed.status_code == 302 and meetings(session) == 2


def test_the_liaisons_and_the_agents_other_meeting_forms_come_back_as_typed(session, make_meeting, client, login,
                                                                            clock):
    meeting = make_meeting(codes=["FGW", "ZRGH"])
    path = f"/meetings/{meeting.id}"
    clock.set(MONDAY)
    login("fgw_a")
    page = html(client.get(path))
    nameless = client.post(f"{path}/confirm", data={"csrf_token": read_csrf(page), "representative": "  "})
    assert nameless.status_code == 400 and "请填写出席代表姓名" in html(nameless)
    reasonless = client.post(f"{path}/opinion", data={"csrf_token": read_csrf(page),
                                                      "decision": "consent_with_conditions", "opinion": ""})
    page = html(reasonless)
    assert reasonless.status_code == 400 and '<option selected value="consent_with_conditions">' in page
    assert re.search(r'<div class="field has-error[^"]*">\s*<label for="opinion">', page)

    login("agent")
    page = html(client.get(path))
    past = client.post(f"{path}/reschedule", data={"csrf_token": read_csrf(page), "starts_at": "2026-11-20T09:00",
                                                   "place": "五楼会议室"})
    page = html(past)
    assert past.status_code == 422 and 'value="2026-11-20T09:00"' in page and 'value="五楼会议室"' in page
    assert "会议时间须晚于当前时间" in page
    empty = client.post(f"{path}/cancel", data={"csrf_token": read_csrf(page), "reason": ""})
    assert empty.status_code == 400 and "请填写取消原因" in html(empty)
    session.expire_all()
    assert session.get(Meeting, meeting.id).status == "scheduled"


def test_a_department_left_unrecorded_with_its_confirmed_representative_is_no_error(session, make_meeting, client,
                                                                                      login, clock):
    """The form fills in the representative a liaison confirmed; recording only the others stays allowed."""
    from agency.meetings.services import confirm_attendance
    from tests.meetings.conftest import MONDAY as monday
    meeting = make_meeting(codes=["FGW", "ZRGH"])
    fgw = next(i for i in meeting.invitations if i.department.code == "FGW")
    confirm_attendance(session, at(monday, hours=1), fgw.liaison, meeting, None, "王科长")
    session.commit()
    clock.set(at(WEDNESDAY, hours=2))
    login("agent")
    path = f"/meetings/{meeting.id}"
    page = html(client.get(path))
    assert 'value="王科长"' in row_of(page, "FGW")
    done = client.post(f"{path}/record", data={"csrf_token": read_csrf(page), "representative-FGW": "王科长",
                                               "attendance-ZRGH": "absent"})
    assert done.status_code == 302
