"""Each role's home page says what is due, and each count links to the list filtered the same way."""
import io
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from agency.audit.services import Actor
from agency.jobs.models import OutboxJob
from agency.supervision.models import Card
from agency.tasks.services import answer_task
from agency.web.home import liaison_home, queue_health
from tests.pages import login, page_client, text
from tests.support import PDF_BYTES
from tests.tasks import (LIST_NOW, MONDAY, app, dispatch, entrust, every_state, hall, hall_template,  # noqa: F401
                         shared_app, start)

UTC = timezone.utc
TUESDAY = MONDAY + timedelta(days=1)  # Tue 09:00 in Shanghai


def signed_in(app, user):
    client = page_client(app)
    login(client, user.username)
    return client


def card(html: str, title: str) -> str:
    """The work card whose heading starts with ``title``."""
    match = re.search(r'<section class="card work-card"[^>]*>\s*<h2 class="work-head"[^>]*>\s*<span>'
                      + re.escape(title) + r'.*?</section>', html, re.S)
    assert match, f"no card {title!r}"
    return match.group(0)


def count_of(section: str) -> tuple[int, str]:
    """(count, href) of a work card."""
    match = re.search(r'<a class="work-count[^"]*" href="([^"]+)"[^>]*>(\d+) 项</a>', section)
    return int(match.group(2)), match.group(1).replace("&amp;", "&")


def task_of(tasks, code):
    return next(t for t in tasks if t.item.code == code)


# -- the liaison ------------------------------------------------------------------------------------------

def test_liaison_sees_what_is_due_today_and_the_next_working_day(app, session, hall, clock):
    project, tasks = start(session, MONDAY, hall)  # FGW-01 due Tue 17:30, FGW-03 later
    fgw01, fgw03 = task_of(tasks, "FGW-01"), task_of(tasks, "FGW-03")
    clock.set(MONDAY)
    client = signed_in(app, hall["fgw_a"])
    html = text(client.get("/home"))
    assert count_of(card(html, "今天到期"))[0] == 0
    following, href = count_of(card(html, "下一个工作日到期"))
    assert following == 1 and href == "/tasks/inbox?due=next"
    assert f'href="/tasks/{fgw01.id}"' in card(html, "下一个工作日到期")
    assert f'/tasks/{fgw03.id}"' not in card(html, "下一个工作日到期")

    clock.set(TUESDAY)
    html = text(client.get("/home"))
    today, href = count_of(card(html, "今天到期"))
    assert today == 1 and href == "/tasks/inbox?due=today"
    listed = text(client.get(href))
    assert f'id="task-{fgw01.id}"' in listed and f'id="task-{fgw03.id}"' not in listed
    # the most urgent task is one click away, and its page has the answer form
    urgent = re.search(r'id="urgent-task" href="([^"]+)"|href="([^"]+)"[^>]*id="urgent-task"', html)
    href = next(g for g in urgent.groups() if g)
    assert href == f"/tasks/{fgw01.id}"
    assert 'class="answer-form"' in text(client.get(href))


def test_liaison_sees_escalated_tasks_first_and_this_weeks_meetings(app, session, hall, clock):
    from agency.meetings.services import schedule_meeting
    ids = every_state(app, session, hall)  # C:ZJ-05 is past its deadline and escalated (no deemed consent)
    project, _ = start(session, MONDAY, hall, name="会议项目")
    schedule_meeting(session, MONDAY, hall["agent"], project, kind="joint_review",
                     starts_at=datetime(2026, 11, 26, 1, 0, tzinfo=UTC), place="三楼", department_codes=["ZJ"])
    schedule_meeting(session, MONDAY, hall["agent"], project, kind="site_survey",  # next week: not shown
                     starts_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), place="现场", department_codes=["ZJ"])
    session.commit()
    clock.set(LIST_NOW)
    html = text(signed_in(app, hall["zj_a"]).get("/home"))
    escalated, href = count_of(card(html, "已超时并提交督办"))
    assert escalated == 1 and href == "/tasks/inbox?due=escalated"
    assert f'id="urgent-task" href="/tasks/{ids["C:ZJ-05"]}"' in html
    meetings, href = count_of(card(html, "本周会议"))
    assert meetings == 1 and href == "/meetings/invitations?start=2026-11-23&end=2026-11-29"
    assert "联审会议 · 会议项目" in card(html, "本周会议")
    listed = text(signed_in(app, hall["zj_a"]).get(href))
    assert listed.count('class="invitation"') == 1


def test_liaison_home_counts_with_a_fixed_number_of_queries(app, session, hall, clock):
    """No query per row: ten due tasks cost what one does."""
    from sqlalchemy import event

    from agency.extensions import db
    start(session, MONDAY, hall)

    def queries():
        seen = []
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            liaison_home(session, hall["fgw_a"], TUESDAY)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        session.expire_all()
        return len(seen)
    one = queries()
    for n in range(4):
        start(session, MONDAY, hall, name=f"项目{n}")
    assert queries() == one


# -- the agent --------------------------------------------------------------------------------------------

def test_agent_sees_prereview_refusals_and_meetings_to_record(app, session, hall, clock):
    from agency.materials.services import checklist, file_material
    from agency.meetings.services import schedule_meeting
    filed = entrust(session, MONDAY, hall, ready=False, name="待预审项目")
    name = next(e.name for e in checklist(session, filed) if not e.optional and not e.issuers)
    file_material(session, MONDAY, hall["ent"], filed, name, "a.pdf", io.BytesIO(PDF_BYTES))
    session.commit()
    refused, tasks = start(session, MONDAY, hall, name="被拒项目")
    answer_task(session, MONDAY, Actor.of(hall["fgw_a"]), task_of(tasks, "FGW-01"), "refuse", "不符合产业政策")
    meeting = schedule_meeting(session, MONDAY, hall["agent"], refused, kind="pre_review",
                     starts_at=MONDAY + timedelta(hours=3), place="二楼", department_codes=["ZRGH"])
    session.commit()
    other, _ = start(session, MONDAY, hall, by="agent2", name="别人的项目")
    clock.set(MONDAY + timedelta(hours=4))
    client = signed_in(app, hall["agent"])
    html = text(client.get("/home"))
    prereview, href = count_of(card(html, "待预审材料"))
    assert prereview == 1 and href == "/projects?need=prereview" and "待预审项目" in card(html, "待预审材料")
    listed = text(client.get(href))
    assert "待预审项目" in listed and "被拒项目" not in listed
    decision, href = count_of(card(html, "不予办理待决定"))
    assert decision == 1 and "被拒项目" in card(html, "不予办理待决定")
    assert "被拒项目" in text(client.get(href)) and "待预审项目" not in text(client.get(href))
    to_record, href = count_of(card(html, "待记录的会议"))
    assert to_record == 1 and href == "/meetings/?state=to_record"
    assert f'href="/meetings/{meeting.id}"' in card(html, "待记录的会议")
    listed = text(client.get(href))
    assert f'href="/meetings/{meeting.id}"' in listed and "共 1 条" in listed
    nearest = card(html, "临近期限的办件")
    assert "别人的项目" not in nearest and "建设项目用地预审与选址意见书" in nearest
    assert "别人的项目" not in text(signed_in(app, hall["agent2"]).get("/projects?need=decision"))


# -- the enterprise ---------------------------------------------------------------------------------------

def test_enterprise_sees_what_it_owes_and_what_arrived(app, session, hall, clock):
    from agency.materials.services import checklist, file_material, prereview
    from agency.projects.services import accept_agreement
    unsigned = entrust(session, MONDAY, hall, ready=False, name="未签协议项目")  # entrusted by the agent
    returned = entrust(session, MONDAY, hall, ready=False, name="退回材料项目")
    name = next(e.name for e in checklist(session, returned) if not e.optional and not e.issuers)
    file_material(session, MONDAY, hall["ent"], returned, name, "a.pdf", io.BytesIO(PDF_BYTES))
    prereview(session, MONDAY, hall["agent"], returned, [{"name": name, "accepted": False, "reason": "缺少盖章"}])
    accept_agreement(session, MONDAY, hall["ent"], returned)
    session.commit()
    done, tasks = start(session, MONDAY, hall, name="已有结果项目")
    answer_task(session, MONDAY, Actor.of(hall["fgw_a"]), task_of(tasks, "FGW-01"), "consent",
                result={"kind": "filing", "number": "BA-2026-1"})
    session.commit()
    clock.set(MONDAY + timedelta(hours=1))
    client = signed_in(app, hall["ent"])
    html = text(client.get("/home"))
    agreement, href = count_of(card(html, "待签署委托代办协议"))
    assert agreement == 1 and "未签协议项目" in card(html, "待签署委托代办协议")
    assert "未签协议项目" in text(client.get(href)) and "退回材料项目" not in text(client.get(href))
    back, href = count_of(card(html, "被退回的材料"))
    assert back == 1 and href == "/projects?need=returned"
    assert "退回材料项目" in text(client.get(href)) and "未签协议项目" not in text(client.get(href))
    results = card(html, "办理结果")
    assert "BA-2026-1" in results and "企业投资项目备案" in results
    assert "BA-2026-1" not in text(signed_in(app, hall["ent2"]).get("/home"))
    assert unsigned.agreement_accepted_at is None


# -- the director -----------------------------------------------------------------------------------------

def test_director_sees_todays_cards_decisions_and_queue_health(app, session, hall, clock):
    every_state(app, session, hall)
    refused, tasks = start(session, LIST_NOW, hall, name="被拒项目")
    answer_task(session, LIST_NOW, Actor.of(hall["fgw_a"]), task_of(tasks, "FGW-01"), "refuse", "不符合规划")
    session.commit()
    clock.set(LIST_NOW + timedelta(minutes=5))
    html = text(signed_in(app, hall["director"]).get("/home"))
    lo, hi = datetime(2026, 11, 23, 16, tzinfo=UTC), datetime(2026, 11, 24, 16, tzinfo=UTC)  # Tuesday in Shanghai
    red = session.scalar(select(func.count()).select_from(Card).where(Card.color == "red", Card.at >= lo,
                                                                      Card.at < hi))
    yellow = session.scalar(select(func.count()).select_from(Card).where(Card.color == "yellow", Card.at >= lo,
                                                                         Card.at < hi))
    assert red > 0 and yellow > 0
    assert count_of(card(html, "今日红牌")) == (red, "/supervision/?span=today")
    assert count_of(card(html, "今日预警")) == (yellow, "/supervision/?span=today")
    decision, href = count_of(card(html, "不予办理待决定"))
    assert decision == 1 and href == "/projects/all?need=decision" and "被拒项目" in card(html, "不予办理待决定")
    listed = text(signed_in(app, hall["director"]).get(href))
    assert "被拒项目" in listed and "竣工验收" not in listed
    waiting = session.scalar(select(func.count()).select_from(OutboxJob).where(
        OutboxJob.status.in_(("pending", "enqueued"))))
    health = queue_health(session, LIST_NOW)
    assert health["outbox_waiting"] == waiting > 0 and health["rq"]["waiting"] >= 0
    assert f'<dd class="outbox-waiting">{waiting}</dd>' in html
    assert f'<a class="small" href="/ops/queues">' in html  # the card links to the queue page


def test_queue_health_counts_a_parked_job(app, session, hall):
    from agency.jobs.services import enqueue_job, fail_job
    job = enqueue_job(session, MONDAY, "default", "workers.notifications.send_email", 1)
    session.commit()
    for _ in range(10):
        fail_job(session, MONDAY, job.id, "smtp down")
    session.commit()
    assert queue_health(session, LIST_NOW)["outbox_failed"] == 1
