"""Rating (R10): once, after closing, 1..5; a dissatisfied rating opens a notice, replied or red-carded."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from agency.enterprise.models import DissatisfactionNotice, Rating
from agency.enterprise.rules import sweep_notices
from agency.notifications.models import Message
from agency.supervision.models import Card


def test_rating_before_closing_is_422(world, session):
    project = world.entrust()
    world.dispatch(project["id"])
    response = world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 5, "comment": "好"})
    assert response.status_code == 422
    response = world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 5, "department_code": "FGW"})
    assert response.status_code == 422


@pytest.mark.parametrize("level", [0, 6, -1, "5", None, 3.5])
def test_level_out_of_range_is_400(world, level):
    project = world.completed_project()
    response = world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": level, "comment": ""})
    assert response.status_code == 400
    assert "level" in response.get_json()["error"]["fields"]


def test_rating_twice_is_409(world):
    project = world.completed_project()
    first = world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 5, "comment": "很好"})
    assert first.status_code == 201
    assert first.get_json()["level"] == 5 and first.get_json()["notice_id"] is None
    second = world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 1, "comment": "改主意"})
    assert second.status_code == 409
    ratings = world.as_("ent").get(f"/projects/{project['id']}/ratings").get_json()
    assert [r["level"] for r in ratings] == [5]


def test_only_the_enterprise_rates_and_only_its_own(world):
    project = world.completed_project()
    assert world.as_("agent").post(f"/projects/{project['id']}/rating", json={"level": 5}).status_code == 403
    assert world.as_("ent2").post(f"/projects/{project['id']}/rating", json={"level": 5}).status_code == 404


def test_unknown_department_is_400(world):
    project = world.completed_project()
    response = world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 4, "department_code": "ZJ"})
    assert response.status_code == 400


def test_department_rating_once_its_tasks_are_closed(world):
    project = world.entrust()
    tasks = world.dispatch(project["id"])
    for task in tasks:
        if task["department"] == "FGW":
            world.answer(task)
    response = world.as_("ent").post(f"/projects/{project['id']}/rating",
                                     json={"level": 4, "comment": "", "department_code": "FGW"})
    assert response.status_code == 201
    assert response.get_json()["department"] == "FGW"
    assert world.as_("ent").post(f"/projects/{project['id']}/rating",
                                 json={"level": 3, "department_code": "FGW"}).status_code == 409
    # ZRGH is still working
    assert world.as_("ent").post(f"/projects/{project['id']}/rating",
                                 json={"level": 3, "department_code": "ZRGH"}).status_code == 422


def test_dissatisfied_rating_notice_reply_and_enterprise_reads_it(world, session, run_jobs, mail):
    project = world.completed_project()
    response = world.as_("ent").post(f"/projects/{project['id']}/rating",
                                     json={"level": 2, "comment": "窗口答复太慢", "department_code": "BDC"})
    assert response.status_code == 201
    rating = response.get_json()
    assert rating["notice_id"] is not None

    notices = world.as_("bdc_a").get("/notices?status=open").get_json()
    assert [n["id"] for n in notices] == [rating["notice_id"]]
    notice = notices[0]
    assert notice["department"] == "BDC" and notice["rating_id"] == rating["id"] and notice["reply"] == ""
    # due = 5 working days later at closing time: entrusted Monday 23 Nov 2026 -> Monday 30 Nov 17:30
    assert notice["due"] == "2026-11-30T17:30:00+08:00"
    assert world.as_("director").get("/notices").get_json()[0]["id"] == notice["id"]
    assert world.as_("fgw_a").get("/notices").get_json() == []
    assert world.as_("agent").get("/notices").get_json() == []
    assert world.as_("fgw_a").post(f"/notices/{notice['id']}/reply", json={"text": "x"}).status_code == 404
    assert world.as_("ent").post(f"/notices/{notice['id']}/reply", json={"text": "x"}).status_code == 403
    assert world.as_("bdc_a").post(f"/notices/{notice['id']}/reply", json={"text": " "}).status_code == 400

    reply = world.as_("bdc_b").post(f"/notices/{notice['id']}/reply", json={"text": "已增设窗口，两日内办结"})
    assert reply.status_code == 200 and reply.get_json()["status"] == "replied"
    assert world.as_("bdc_a").post(f"/notices/{notice['id']}/reply", json={"text": "again"}).status_code == 409
    assert world.as_("bdc_a").get("/notices?status=open").get_json() == []

    seen = world.as_("ent").get("/notices").get_json()
    assert [(n["id"], n["reply"]) for n in seen] == [(notice["id"], "已增设窗口，两日内办结")]
    assert world.as_("ent2").get("/notices").get_json() == []
    told = session.scalars(select(Message).where(Message.user_id == world.people["ent"].id)).all()
    assert any("已增设窗口" in m.body for m in told)
    run_jobs()
    assert any("整改复函" in str(m["Subject"]) and m["To"] == "ent@corp.test" for m in mail)


def test_very_dissatisfied_project_rating_goes_to_the_agent(world, session):
    project = world.completed_project()
    response = world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 1, "comment": "没人跟进"})
    assert response.status_code == 201
    [notice] = world.as_("agent").get("/notices").get_json()
    assert notice["department"] is None and notice["agent_id"] == world.people["agent"].id
    assert world.as_("agent2").get("/notices").get_json() == []
    assert world.as_("agent").post(f"/notices/{notice['id']}/reply", json={"text": "已安排每周回访"}).status_code == 200


def test_satisfied_rating_opens_no_notice(world, session):
    project = world.completed_project()
    assert world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 3}).status_code == 201
    assert session.scalar(select(DissatisfactionNotice.id)) is None


def test_overdue_notice_gives_one_red_card(world, session):
    project = world.completed_project()
    world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 2, "department_code": "BDC"})
    notice = session.scalar(select(DissatisfactionNotice))
    due = notice.due
    assert sweep_notices(session, due - timedelta(seconds=1)) == {"notice_red_cards": 0}
    assert sweep_notices(session, due) == {"notice_red_cards": 1}
    session.commit()
    assert sweep_notices(session, due + timedelta(days=3)) == {"notice_red_cards": 0}  # idempotent
    session.commit()
    [card] = session.scalars(select(Card).where(Card.reason == "notice_overdue")).all()
    assert (card.color, card.key, card.department_id, card.notice_id) == (
        "red", f"notice_overdue:{notice.id}", notice.department_id, notice.id)
    session.refresh(notice)
    assert notice.red_carded_at is not None
    listed = world.as_("bdc_a").get("/notices?status=overdue").get_json()
    assert [n["id"] for n in listed] == [notice.id] and listed[0]["red_carded"] is True
    # a late reply is still taken; the card stays
    assert world.as_("bdc_a").post(f"/notices/{notice.id}/reply", json={"text": "迟到的复函"}).status_code == 200
    assert sweep_notices(session, due + timedelta(days=10)) == {"notice_red_cards": 0}


def test_replied_notice_is_never_carded(world, session):
    project = world.completed_project()
    world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 1, "department_code": "BDC"})
    notice = session.scalar(select(DissatisfactionNotice))
    world.as_("bdc_a").post(f"/notices/{notice.id}/reply", json={"text": "整改完毕"})
    session.expire_all()
    assert sweep_notices(session, datetime(2030, 1, 1, tzinfo=timezone.utc)) == {"notice_red_cards": 0}
    assert session.scalar(select(Card.id).where(Card.reason == "notice_overdue")) is None


def test_agent_notice_overdue_cards_the_agent(world, session):
    project = world.completed_project()
    world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 2})
    notice = session.scalar(select(DissatisfactionNotice))
    assert sweep_notices(session, notice.due + timedelta(minutes=1)) == {"notice_red_cards": 1}
    card = session.scalar(select(Card).where(Card.reason == "notice_overdue"))
    assert card.agent_id == world.people["agent"].id and card.department_id is None


def test_rating_page_flow(world, client, login, csrf_token, session):
    project = world.completed_project()
    login("ent")
    page = client.get(f"/projects/{project['id']}").get_data(as_text=True)
    assert 'class="rating-form"' in page and f'action="/projects/{project["id"]}/rating"' in page
    token = csrf_token(f"/projects/{project['id']}")
    bad = client.post(f"/projects/{project['id']}/rating", data={"csrf_token": token, "level": "6"})
    assert bad.status_code == 400
    assert re.search(r'<p class="error level-error">请选择一至五级的评价。</p>', bad.get_data(as_text=True))
    assert session.scalar(select(DissatisfactionNotice.id)) is None
    response = client.post(f"/projects/{project['id']}/rating",
                           data={"csrf_token": token, "level": "2", "comment": "等了很久", "department_code": "BDC"})
    assert response.status_code == 302
    page = client.get(f"/projects/{project['id']}").get_data(as_text=True)
    assert "等了很久" in page and "不满意" in page and "整改复函期限" in page
    again = client.post(f"/projects/{project['id']}/rating",
                        data={"csrf_token": token, "level": "5", "department_code": "BDC"})
    assert "已经评价过" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_notice_pages_for_liaison(world, client, login, csrf_token, session):
    project = world.completed_project()
    world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 2, "comment": "慢", "department_code": "BDC"})
    notice = session.scalar(select(DissatisfactionNotice))
    login("bdc_a")
    listing = client.get("/notices")
    assert listing.status_code == 200 and f"/notices/{notice.id}" in listing.get_data(as_text=True)
    page = client.get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "提交整改复函" in page
    token = csrf_token(f"/notices/{notice.id}")
    response = client.post(f"/notices/{notice.id}", data={"csrf_token": token, "text": "已整改"})
    assert response.status_code == 302
    assert "已整改" in client.get(f"/notices/{notice.id}").get_data(as_text=True)


def test_a_comment_over_the_limit_says_so_through_the_api(world, session):
    project = world.completed_project()
    response = world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 4, "comment": "慢" * 2001})
    assert response.status_code == 400
    fields = response.get_json()["error"]["fields"]
    assert fields == {"comment": ["the comment is too long: at most 2000 characters"]}
    assert session.scalar(select(func.count()).select_from(Rating)) == 0
    at_limit = world.as_("ent").post(f"/projects/{project['id']}/rating", json={"level": 4, "comment": "慢" * 2000})
    assert at_limit.status_code == 201


def test_a_comment_over_the_limit_says_so_on_the_page_next_to_the_comment(world, client, login, csrf_token,
                                                                          session):
    project = world.completed_project()
    login("ent")
    token = csrf_token(f"/projects/{project['id']}")
    comment = "等了很久" * 501  # 2004 characters
    refused = client.post(f"/projects/{project['id']}/rating",
                          data={"csrf_token": token, "level": "2", "comment": comment, "department_code": "BDC"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    form = page[page.index('id="rating-form-bdc"'):]
    form = form[:form.index("</form>")]
    # the message sits in the comment's field, the typed text and level are kept, no level complaint
    assert re.search(r'<div class="field has-error">\s*<label for="comment-bdc">.*?</label>\s*'
                     r'<textarea [^>]*>' + comment + r'</textarea>\s*'
                     r'<p class="error comment-error">意见与建议过长：最多 2000 个字。</p>', form, re.S)
    assert 'value="2" id="level-bdc-2" required checked' in form
    assert "请选择一至五级的评价" not in page
    assert 'class="error' not in page[page.index('id="rating-form-project"'):].split("</form>")[0]
    assert session.scalar(select(func.count()).select_from(Rating)) == 0
    assert session.scalar(select(DissatisfactionNotice.id)) is None
