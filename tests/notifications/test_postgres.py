"""Notices on PostgreSQL: deliveries and messages are written by one statement (agency.notifications)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from agency.extensions import db
from agency.jobs.models import OutboxJob
from agency.notifications.models import Delivery, Message
from agency.notifications.services import Notice, send_notices
from tests import support

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def test_each_key_is_written_once_with_its_message_and_one_email_job(pg_app):
    with pg_app.app_context():
        session = db.session
        factory = support.UserFactory(session, NOW)
        mailed, unmailed = factory("enterprise", email="owner@enterprise.example.cn"), factory("enterprise", email="")
        assert send_notices(session, NOW, [Notice(mailed, "已受理", "正文", "k1", "/projects/1"),
                                           Notice(unmailed, "已受理", "正文", "k1", "/projects/1")]) == 2
        session.commit()
        # k1 again (nothing new), and k2 for the mailed user only
        assert send_notices(session, NOW, [Notice(mailed, "已受理", "正文", "k1"), Notice(unmailed, "x", "", "k1"),
                                           Notice(mailed, "已派发", "第二条", "k2", "/tasks/2")]) == 1
        session.commit()
        messages = session.scalars(select(Message).order_by(Message.id)).all()
        assert [(m.user_id, m.subject, m.body, m.link, m.project_id, m.created_at, m.read_at) for m in messages] == [
            (mailed.id, "已受理", "正文", "/projects/1", None, NOW, None),
            (unmailed.id, "已受理", "正文", "/projects/1", None, NOW, None),
            (mailed.id, "已派发", "第二条", "/tasks/2", None, NOW, None)]
        deliveries = {d.key: (d.channel, d.status, d.attempts, d.sent_at) for d in session.scalars(select(Delivery))}
        assert deliveries == {
            f"k1:inbox:{mailed.id}": ("inbox", "sent", 1, NOW), f"k1:inbox:{unmailed.id}": ("inbox", "sent", 1, NOW),
            f"k1:email:{mailed.id}": ("email", "pending", 0, None),
            f"k2:inbox:{mailed.id}": ("inbox", "sent", 1, NOW), f"k2:email:{mailed.id}": ("email", "pending", 0, None)}
        jobs = session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()
        assert [[key for key, _ in job.args[0]] for job in jobs] == [[f"k1:email:{mailed.id}"], [f"k2:email:{mailed.id}"]]
        session.remove()
