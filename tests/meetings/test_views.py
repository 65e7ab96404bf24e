"""The meeting pages through the test client: schedule, invitations, confirm and opinion, record, close,
minutes (printable and download), the director's calendar and the project page's panel."""
import re

from icalendar import Calendar
from sqlalchemy import func, select

from agency.audit.models import AuditEvent
from agency.meetings.models import Meeting

from tests.meetings.conftest import MONDAY
from tests.web.conftest import client, csrf_token, login, read_csrf  # noqa: F401  (page fixtures)


def html(response) -> str:
    return response.get_data(as_text=True)


def token(client, path) -> str:  # noqa: F811
    return read_csrf(html(client.get(path)))


def schedule(client, project, **overrides):  # noqa: F811
    path = f"/meetings/new?project={project.id}"
    form = {"csrf_token": token(client, path), "kind": "joint_review", "starts_at": "2026-11-25T09:00",
            "place": "三楼联审室", "departments": ["FGW", "ZRGH"], **overrides}
    return client.post(path, data=form)


def test_agent_schedules_records_and_closes_through_pages(session, hall, project, client, login, clock,  # noqa: F811
                                                          run_jobs):
    clock.set(MONDAY)
    login("agent")
    index = html(client.get("/meetings/"))
    assert project.name in index and f"/meetings/new?project={project.id}" in index
    form = html(client.get(f"/meetings/new?project={project.id}"))
    assert re.search(r'value="FGW"[^>]*checked|checked[^>]*value="FGW"', form)  # open-task departments ticked
    assert not re.search(r'value="ZJ"[^>]*checked|checked[^>]*value="ZJ"', form)

    refused = schedule(client, project, starts_at="2026-11-28T09:00")  # a Saturday review
    assert refused.status_code == 200 and "无法办理" in html(refused)
    done = schedule(client, project)
    assert done.status_code == 302
    meeting_path = done.headers["Location"]
    meeting_id = int(meeting_path.rsplit("/", 1)[1])
    page = html(client.get(meeting_path))
    assert "联审会议：" in page and "三楼联审室" in page and "待送达" in page
    clock.set("2026-11-23T09:10:00+08:00")
    run_jobs()
    assert "按时送达" in html(client.get(meeting_path))
    ics = client.get(f"/meetings/{meeting_id}/invite.ics")
    assert ics.mimetype == "text/calendar" and Calendar.from_ical(ics.data)["METHOD"] == "REQUEST"

    login("fgw_a")
    invitations = html(client.get("/meetings/invitations"))
    assert f"/meetings/{meeting_id}" in invitations and "按时送达" in invitations
    confirmed = client.post(f"/meetings/{meeting_id}/confirm",
                            data={"csrf_token": token(client, meeting_path), "representative": "王科长"})
    assert confirmed.status_code == 302
    assert "确认出席：王科长" in html(client.get(meeting_path))
    wrong = client.post(f"/meetings/{meeting_id}/opinion", data={"csrf_token": token(client, meeting_path),
                                                                 "decision": "objection", "opinion": ""})
    # refused: the form comes back as typed, the reason at the opinion (#13.4)
    assert wrong.status_code == 400 and "反对请写明理由" in html(wrong)
    assert '<option selected value="objection">' in html(wrong)
    login("zj_a")  # a department not invited sees nothing
    assert client.get(meeting_path).status_code == 404

    clock.set("2026-11-25T11:00:00+08:00")
    login("agent")
    page = html(client.get(meeting_path))
    assert 'class="record-attendance"' in page
    recorded = client.post(f"/meetings/{meeting_id}/record", data={
        "csrf_token": read_csrf(page), "attendance-FGW": "present", "decision-FGW": "consent",
        "representative-FGW": "王科长"})
    assert recorded.status_code == 302
    # ZRGH's attendance is not recorded: the close is refused, the page says who, nothing is closed
    refused = client.post(f"/meetings/{meeting_id}/close", data={"csrf_token": token(client, meeting_path),
                                                                 "conclusion": "同意进入下一阶段"})
    assert refused.status_code == 422
    text = html(refused)
    assert "尚未记录到会情况" in text and "自然资源和规划局（ZRGH）" in text and "发展和改革局（FGW）" not in text
    assert "同意进入下一阶段</textarea>" in text  # the conclusion typed is kept
    assert 'class="invitation unrecorded" id="invitation-ZRGH"' in text
    session.expire_all()
    meeting = session.get(Meeting, meeting_id)
    assert meeting.status == "held" and meeting.closed_at is None
    assert {t.status for t in project.tasks if t.department.code == "ZRGH"} == {"pending"}
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "meeting.closed")) == 0
    recorded = client.post(f"/meetings/{meeting_id}/record", data={
        "csrf_token": token(client, meeting_path), "attendance-ZRGH": "absent"})
    assert recorded.status_code == 302
    closed = client.post(f"/meetings/{meeting_id}/close", data={"csrf_token": token(client, meeting_path),
                                                                "conclusion": "同意进入下一阶段"})
    assert closed.status_code == 302 and closed.headers["Location"].endswith(f"/meetings/{meeting_id}/minutes")
    minutes = html(client.get(f"/meetings/{meeting_id}/minutes"))
    for expected in ("会议纪要", "出席，代表：王科长", "视为同意（缺席默认", "同意进入下一阶段"):
        assert expected in minutes
    download = client.get(f"/meetings/{meeting_id}/minutes.txt")
    assert download.mimetype == "text/plain" and "attachment" in download.headers["Content-Disposition"]
    again = client.post(f"/meetings/{meeting_id}/close", data={"csrf_token": token(client, meeting_path),
                                                               "conclusion": "再次"})
    assert again.status_code == 302 and "无法办理" in html(client.get(meeting_path))

    project_page = html(client.get(f"/projects/{project.id}"))  # the project page includes the meetings panel
    assert 'id="meetings"' in project_page and f"/meetings/{meeting_id}" in project_page
    assert f"/meetings/new?project={project.id}" in project_page

    login("ent")
    assert "同意进入下一阶段" in html(client.get(f"/meetings/{meeting_id}/minutes"))
    login("ent2")
    assert client.get(f"/meetings/{meeting_id}/minutes").status_code == 404

    login("director")
    calendar = html(client.get("/meetings/calendar?month=2026-11"))
    assert f"/meetings/{meeting_id}" in calendar and project.name in calendar
    assert client.get("/meetings/calendar?month=nonsense").status_code == 400


def test_pages_are_for_their_roles(session, hall, client, login):  # noqa: F811
    login("fgw_a")
    assert client.get("/meetings/").status_code == 403
    assert client.get("/meetings/calendar").status_code == 403
    login("agent")
    assert client.get("/meetings/invitations").status_code == 403
    assert client.get("/meetings/calendar").status_code == 403


def test_minutes_print_each_stance_once_with_a_print_button(session, hall, make_meeting, client, login):  # noqa: F811
    """The minutes page is the document: the stances table, the conclusion and what closing did, once each
    (the kept text is a download, not printed a second time)."""
    from agency.meetings import services
    from tests.meetings.conftest import WEDNESDAY, at

    meeting = make_meeting()
    after = at(WEDNESDAY, hours=2)
    opinion = "请补充园区排水接驳方案的盖章件"
    services.record_attendance(session, after, hall["agent"], meeting, [
        {"department_code": "FGW", "present": True, "representative": "王科长", "decision": "consent"},
        {"department_code": "ZRGH", "present": True, "representative": "李科长", "decision": "supplement_needed",
         "opinion": opinion}])
    services.close_meeting(session, after, hall["agent"], meeting, "补正后进入下一阶段")
    session.commit()
    login("agent")
    page = html(client.get(f"/meetings/{meeting.id}/minutes"))
    assert page.count(opinion) == 1 and page.count("补正后进入下一阶段") == 1
    assert page.count("出席，代表：王科长") == 1
    assert "minutes-text" not in page and "纪要全文" not in page
    outcomes = page[page.index('class="minutes-outcomes"'):]
    outcomes = outcomes[:outcomes.index("</ul>")]
    assert outcomes.count("<li>") == outcomes.count("：一次性告知补正材料") == 2  # ZRGH's two tasks, once each
    assert page.count("一次性告知补正材料") == 2
    assert re.search(r'<button type="button" class="button small primary" data-print>打印纪要</button>', page)
    assert "js/print.js" in page
    text = client.get(f"/meetings/{meeting.id}/minutes.txt").get_data(as_text=True)
    assert opinion in text and "办理结果" in text  # the full text stays downloadable
