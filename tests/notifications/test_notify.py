"""Notifications (R13): inbox at once, e-mail and webhook by workers, once per idempotency key."""
import json
import shutil
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from agency.extensions import db
from agency.jobs.models import OutboxJob
from agency.notifications.models import Delivery, Message
from agency.notifications.services import notify, notify_many, unread_count
from tests import support
from workers.worker import drain

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def _deliveries(session) -> dict:
    session.expire_all()
    return {d.channel: d for d in session.scalars(select(Delivery).order_by(Delivery.id))}


def test_notify_writes_the_inbox_and_sends_the_email(session, make_user, run_jobs, mail):
    user = make_user("enterprise", email="boss@factory.example.cn")
    assert notify(session, NOW, user, "任务已受理", "住建局已受理您的申请。", key="task:7:accepted",
                  link="/projects/7")
    session.commit()

    (message,) = session.scalars(select(Message)).all()
    assert (message.user_id, message.subject, message.body, message.link, message.read_at) == (
        user.id, "任务已受理", "住建局已受理您的申请。", "/projects/7", None)
    assert unread_count(session, user) == 1
    deliveries = _deliveries(session)
    assert {c: (d.status, d.recipient) for c, d in deliveries.items()} == {
        "inbox": ("sent", str(user.id)), "email": ("pending", "boss@factory.example.cn")}
    assert mail == []  # e-mail goes by a worker, after the commit

    assert run_jobs() == 1
    (email,) = mail
    assert (email["To"], email["Subject"]) == ("boss@factory.example.cn", "任务已受理")
    assert email["Message-ID"] == f"<task.7.accepted.email.{user.id}@agency>"
    assert "住建局已受理您的申请。" in email.get_content() and "/projects/7" in email.get_content()
    email_delivery = _deliveries(session)["email"]
    assert (email_delivery.status, email_delivery.attempts) == ("sent", 1)
    assert email_delivery.sent_at is not None


def test_a_user_without_email_gets_the_inbox_only(session, make_user, run_jobs, mail):
    user = make_user("agent")
    assert notify(session, NOW, user, "新项目待分派", key="project:1:new")
    session.commit()
    assert set(_deliveries(session)) == {"inbox"}
    assert session.scalar(select(OutboxJob)) is None
    assert run_jobs() == 0 and mail == []


def test_the_same_key_notifies_once(session, make_user, run_jobs, mail):
    user = make_user("enterprise", email="once@factory.example.cn")
    assert notify(session, NOW, user, "黄牌预警", key="task:9:warning")
    session.commit()
    assert run_jobs() == 1
    assert notify(session, NOW, user, "黄牌预警", key="task:9:warning") is False  # e.g. the sweep ran again
    assert notify_many(session, NOW, [user, user, None], "黄牌预警", key="task:9:warning") == 0
    session.commit()
    assert run_jobs() == 0

    assert len(mail) == 1
    assert len(session.scalars(select(Message).where(Message.user_id == user.id)).all()) == 1
    assert len(session.scalars(select(OutboxJob)).all()) == 1
    # another key is another notification
    assert notify(session, NOW, user, "红牌", key="task:9:timeout")
    session.commit()
    assert run_jobs() == 1 and len(mail) == 2


class _Gateway(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, self.headers, json.loads(body)))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    """A tiny SMS gateway on a free local port, recording every POST."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    server.received, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def webhook_app(sqlite_template, tmp_path, gateway, monkeypatch):
    monkeypatch.delenv("AGENCY_NOW", raising=False)
    path = tmp_path / "webhook.db"
    shutil.copy(sqlite_template, path)
    app = support.make_app(f"sqlite:///{path}", tmp_path,
                           WEBHOOK_URL=f"http://127.0.0.1:{gateway.server_port}/sms")
    with app.app_context():
        yield app
        db.session.remove()


def test_webhook_receives_one_post_with_the_idempotency_key(webhook_app, gateway):
    session = db.session
    user = support.UserFactory(session, NOW)("agent", phone="13900000009", email="agent@hall.example.cn")
    notify(session, NOW, user, "联审会议通知", "明天9点联审", key="meeting:3:invite", link="/meetings/3")
    session.commit()

    assert drain(webhook_app) == 1  # one job: the e-mail and the webhook call
    assert drain(webhook_app) == 0
    assert notify(session, NOW, user, "联审会议通知", key="meeting:3:invite") is False
    session.commit()
    assert drain(webhook_app) == 0

    ((path, headers, body),) = gateway.received
    assert path == "/sms"
    assert headers["Idempotency-Key"] == f"meeting:3:invite:webhook:{user.id}"
    assert headers["Content-Type"] == "application/json"
    assert body == {"to": "13900000009", "subject": "联审会议通知", "body": "明天9点联审", "link": "/meetings/3"}
    assert _deliveries(session)["webhook"].status == "sent"
    assert len(webhook_app.extensions["mail_outbox"]) == 1


def test_a_failing_webhook_is_retried_and_sent_once(webhook_app, gateway):
    session = db.session
    user = support.UserFactory(session, NOW)("enterprise", phone="13900000010")
    notify(session, NOW, user, "项目办结", key="project:5:completed")
    session.commit()

    gateway.status = 503
    drain(webhook_app)
    (row,) = session.scalars(select(OutboxJob)).all()
    assert row.status == "pending" and row.attempts >= 1 and "503" in row.last_error
    assert _deliveries(session)["webhook"].status == "pending"
    tries = len(gateway.received)

    gateway.status = 200
    assert drain(webhook_app) == 1
    assert len(gateway.received) == tries + 1
    session.expire_all()
    assert session.get(OutboxJob, row.id).status == "done"
    assert _deliveries(session)["webhook"].status == "sent"
    assert drain(webhook_app) == 0 and len(gateway.received) == tries + 1


def test_a_failing_webhook_does_not_resend_the_email_of_the_same_job(webhook_app, gateway):
    session = db.session
    user = support.UserFactory(session, NOW)("agent", phone="13900000011", email="agent2@hall.example.cn")
    notify(session, NOW, user, "超时默认同意", key="deemed:8")
    session.commit()
    mail = webhook_app.extensions["mail_outbox"]

    gateway.status = 503
    drain(webhook_app)
    deliveries = _deliveries(session)
    assert (deliveries["email"].status, deliveries["webhook"].status) == ("sent", "pending")
    assert deliveries["webhook"].attempts >= 1 and "503" in deliveries["webhook"].last_error
    assert len(mail) == 1

    gateway.status = 200
    assert drain(webhook_app) == 1
    assert _deliveries(session)["webhook"].status == "sent"
    assert len(mail) == 1  # the e-mail went once, though its job ran again
