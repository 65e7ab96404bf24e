"""The liaison's pages: department inbox, accept, one-time notice, answer; bad input changes nothing."""
import re

import pytest
from sqlalchemy import func, select

from agency.audit.services import Actor
from agency.projects.services import dispatch_stage, entrust_project
from agency.tasks.models import SupplementRequest
from tests.pages import login, page_client, post, text
from tests.projects.conftest import entrust_body, hall  # noqa: F401  (the hall's people, shared fixtures)
from tests.support import ready_for_dispatch


@pytest.fixture
def client(app):
    return page_client(app)


@pytest.fixture
def project(session, hall, clock, now, entrust_body, run_jobs):
    """An entrusted project whose first stage (FGW-01, FGW-03, ZRGH-01, ZRGH-02) is dispatched and delivered."""
    clock.set(now)
    project = entrust_project(session, now, hall["agent"], enterprise_id=hall["ent"].id, **entrust_body)
    session.commit()
    ready_for_dispatch(session, now, project)
    dispatch_stage(session, now, Actor.of(hall["agent"]), project)
    session.commit()
    run_jobs()
    return project


def task_of(project, code):
    return next(t for t in project.tasks if t.item.code == code)


def _row(html: str, task) -> str:
    return re.search(rf'<tr class="task" id="task-{task.id}">.*?</tr>', html, re.S).group(0)


def test_inbox_lists_the_departments_open_tasks_by_deadline(client, session, project):
    login(client, "fgw_a")
    response = client.get("/tasks/inbox")
    assert response.status_code == 200
    html = text(response)
    fgw01, fgw03 = task_of(project, "FGW-01"), task_of(project, "FGW-03")
    assert html.index(f'id="task-{fgw01.id}"') < html.index(f'id="task-{fgw03.id}"')  # due first
    assert "建设项目用地预审与选址意见书" not in html  # another department's task
    assert 'class="badge warn">1<' in _row(html, fgw01)  # one working day left
    assert "2026-11-24 17:30" in _row(html, fgw01)
    assert 'class="badge ">' in _row(html, fgw03) and "待受理" in _row(html, fgw03)
    assert "发展和改革局" in html


def test_inbox_is_for_liaisons_only(client, project):
    login(client, "agent")
    assert client.get("/tasks/inbox").status_code == 403


def test_overdue_task_is_red_in_the_inbox(client, clock, project):
    clock.set("2026-11-26T02:00:00+00:00")
    login(client, "fgw_a")
    html = text(client.get("/tasks/inbox"))
    assert '<span class="badge bad">已超时 2</span>' in _row(html, task_of(project, "FGW-01"))


def test_liaison_accepts_asks_for_supplement_agent_supplies_liaison_answers(client, session, hall, project):
    task = task_of(project, "ZRGH-01")
    login(client, "zrgh_a")
    page = f"/tasks/{task.id}"
    html = text(client.get(page))
    assert f"/tasks/{task.id}/accept" in html and f"/tasks/{task.id}/supplement" in html
    assert f"/tasks/{task.id}/answer" in html and project.name in html

    assert post(client, f"/tasks/{task.id}/accept", token_from=page).status_code == 302
    session.expire_all()
    assert task.status == "accepted" and task.accepted_at is not None
    html = text(client.get(page))
    assert f"/tasks/{task.id}/accept" not in html and "已受理" in html

    response = post(client, f"/tasks/{task.id}/supplement",
                    {"materials": "勘测定界图\n\n  项目建议书或备案证明  \n", "note": "请加盖公章"}, token_from=page)
    assert response.status_code == 302
    session.expire_all()
    assert task.status == "supplement" and task.supplement_count == 1
    assert task.supplements[0].materials == ["勘测定界图", "项目建议书或备案证明"]
    html = text(client.get(page))
    assert "勘测定界图；项目建议书或备案证明" in html and "暂停计时" in html
    assert f"/tasks/{task.id}/answer" not in html  # the clock is stopped: nothing to answer now

    login(client, "agent")
    supplied = post(client, f"/projects/{project.id}/tasks/{task.id}/materials-supplied",
                    token_from=f"/projects/{project.id}")
    assert supplied.status_code == 302
    session.expire_all()
    assert task.status == "accepted"

    login(client, "zrgh_a")
    answered = post(client, f"/tasks/{task.id}/answer",
                    {"decision": "consent_with_conditions", "opinion": "须落实耕地占补平衡"}, token_from=page)
    assert answered.status_code == 302
    session.expire_all()
    assert task.status == "answered" and task.outcome == "consent_with_conditions"
    assert task.opinion == "须落实耕地占补平衡" and task.answered_by_id == hall["zrgh_a"].id
    html = text(client.get(page))
    assert "附条件同意" in html and "须落实耕地占补平衡" in html and f"/tasks/{task.id}/answer" not in html

    inbox = text(client.get("/tasks/inbox"))
    closed = inbox[inbox.index("最近办结"):]
    assert f'id="closed-{task.id}"' in closed and "附条件同意" in closed


def test_empty_supplement_is_refused_and_changes_nothing(client, session, project):
    task = task_of(project, "ZRGH-02")
    login(client, "zrgh_a")
    page = f"/tasks/{task.id}"
    response = post(client, f"/tasks/{task.id}/supplement", {"materials": " \n \n"}, token_from=page)
    assert response.status_code == 400
    assert "请一次性列出全部需补正的材料" in text(response)
    session.expire_all()
    assert task.status == "pending" and task.supplement_count == 0
    assert session.scalar(select(func.count()).select_from(SupplementRequest)) == 0


def test_refusal_needs_an_opinion(client, session, project):
    task = task_of(project, "FGW-03")
    login(client, "fgw_a")
    page = f"/tasks/{task.id}"
    response = post(client, f"/tasks/{task.id}/answer", {"decision": "refuse", "opinion": "  "}, token_from=page)
    assert response.status_code == 400
    html = text(response)
    assert "附条件同意或不予办理时必须填写审查意见" in html
    assert '<option selected value="refuse">' in html or 'value="refuse" selected' in html
    session.expire_all()
    assert task.status == "pending" and task.outcome is None


def test_answering_twice_is_a_conflict(client, session, project):
    task = task_of(project, "FGW-03")
    login(client, "fgw_a")
    page = f"/tasks/{task.id}"
    assert post(client, f"/tasks/{task.id}/answer", {"decision": "consent"}, token_from=page).status_code == 302
    again = post(client, f"/tasks/{task.id}/answer", {"decision": "refuse", "opinion": "改变主意"}, token_from=page)
    assert again.status_code == 409
    assert "办件当前状态为“已答复”" in text(again)
    session.expire_all()
    assert task.status == "answered" and task.outcome == "consent" and task.opinion == ""
    accept = post(client, f"/tasks/{task.id}/accept", token_from=page)
    assert accept.status_code == 409


def test_another_departments_task_is_404(client, session, project):
    task = task_of(project, "ZRGH-01")
    login(client, "fgw_a")
    assert client.get(f"/tasks/{task.id}").status_code == 404
    assert post(client, f"/tasks/{task.id}/accept").status_code == 404
    assert post(client, f"/tasks/{task.id}/answer", {"decision": "consent"}).status_code == 404
    session.expire_all()
    assert task.status == "pending"


def test_only_liaisons_answer(client, session, project):
    task = task_of(project, "FGW-01")
    login(client, "agent")
    assert client.get(f"/tasks/{task.id}").status_code == 200  # the agent may read it
    assert post(client, f"/tasks/{task.id}/answer", {"decision": "consent"}).status_code == 403
    session.expire_all()
    assert task.status == "pending"


def test_answer_without_csrf_token_is_rejected(client, session, project):
    task = task_of(project, "FGW-01")
    login(client, "fgw_a")
    response = client.post(f"/tasks/{task.id}/answer", data={"decision": "consent"})
    assert response.status_code == 400
    session.expire_all()
    assert task.status == "pending"
