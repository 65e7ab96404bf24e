"""The inbox page: a person's messages newest first, unread in bold, mark all read."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from agency.notifications.models import Message
from agency.notifications.services import notify
from tests.pages import login, page_client, post, text


@pytest.fixture
def client(app):
    return page_client(app)


@pytest.fixture
def messages(session, make_user, clock, now):
    clock.set(now)
    ann, bob = make_user("agent", "ann"), make_user("agent", "bob")
    notify(session, now - timedelta(hours=2), ann, "较早的消息", "第一条", key="m1", link="/projects/1")
    notify(session, now - timedelta(hours=1), ann, "较新的消息", "第二条", key="m2")
    notify(session, now, bob, "别人的消息", "", key="m3")
    session.commit()
    return ann, bob


def test_inbox_lists_own_messages_newest_first(client, messages):
    login(client, "ann")
    response = client.get("/inbox")
    assert response.status_code == 200
    html = text(response)
    assert html.index("较新的消息") < html.index("较早的消息")
    assert "别人的消息" not in html
    assert "<strong><a href=\"/projects/1\">较早的消息</a></strong>" in html
    assert html.count('class="message unread"') == 2 and "未读 2 条" in html
    assert '<a href="/inbox" class="active" aria-current="page">消息 (2)</a>' in html


def test_mark_all_read(client, session, messages):
    ann, bob = messages
    login(client, "ann")
    response = post(client, "/inbox/read-all")
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    session.expire_all()
    assert all(m.read_at is not None for m in session.scalars(select(Message).where(Message.user_id == ann.id)))
    assert session.scalar(select(Message).where(Message.user_id == bob.id)).read_at is None
    html = text(client.get("/inbox"))
    assert 'class="message unread"' not in html and "未读 0 条" in html and "已将 2 条消息标为已读" in html
    assert ">消息</a>" in html and "消息 (" not in html


def test_mark_all_read_needs_the_csrf_token(client, session, messages):
    ann, _ = messages
    login(client, "ann")
    assert client.post("/inbox/read-all").status_code == 400
    session.expire_all()
    assert all(m.read_at is None for m in session.scalars(select(Message).where(Message.user_id == ann.id)))


def test_inbox_needs_sign_in(client):
    response = client.get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
