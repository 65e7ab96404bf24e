"""Notifications (R13): in-app inbox, e-mail and webhook.

``notify`` writes the inbox message and the delivery rows in the caller's
transaction, with one outbox job per delivery; the job sends once per
idempotency key (a delivery already sent is skipped).
"""
import json
import smtplib
import urllib.request
from datetime import datetime
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agency.jobs.services import enqueue_job
from agency.notifications.models import Delivery, Message
from agency.people.models import User


def notify(session: Session, now: datetime, user: User, subject: str, body: str = "", *, key: str,
           link: str = "", project_id: int | None = None, attachment: dict | None = None) -> Message | None:
    """Tell one person, once per ``key``: inbox now, e-mail and webhook by workers.

    ``attachment`` ({filename, content_type, content: str}) goes with the e-mail only (e.g. an .ics invitation).
    """
    inbox_key = f"{key}:inbox:{user.id}"
    if session.scalar(select(Delivery.id).where(Delivery.key == inbox_key)):
        return None
    message = Message(user_id=user.id, project_id=project_id, subject=subject[:200], body=body, link=link,
                      created_at=now)
    session.add(message)
    session.add(Delivery(key=inbox_key, channel="inbox", recipient=str(user.id), subject=subject[:200],
                         status="sent", attempts=1, created_at=now, sent_at=now))
    channels = [("email", user.email)] if user.email else []
    if current_app.config.get("WEBHOOK_URL") and user.phone:
        channels.append(("webhook", user.phone))
    for channel, recipient in channels:
        delivery = Delivery(key=f"{key}:{channel}:{user.id}", channel=channel, recipient=recipient,
                            subject=subject[:200], created_at=now)
        session.add(delivery)
        session.flush()
        payload = {"body": body, "link": link}
        if attachment and channel == "email":
            payload["attachment"] = attachment
        enqueue_job(session, now, "notifications", "workers.notifications.deliver", delivery.id,
                    json.dumps(payload, ensure_ascii=False))
    session.flush()
    return message


def notify_many(session: Session, now: datetime, users, subject: str, body: str = "", *, key: str, **kw) -> int:
    sent = 0
    for user in {u.id: u for u in users if u is not None}.values():
        sent += notify(session, now, user, subject, body, key=key, **kw) is not None
    return sent


def deliver(session: Session, now: datetime, delivery_id: int, payload: str) -> None:
    """Send one e-mail or webhook call; a delivery already sent is never sent again."""
    delivery = session.scalar(select(Delivery).where(Delivery.id == delivery_id).with_for_update())
    if delivery is None or delivery.status == "sent":
        return
    content = json.loads(payload)
    delivery.attempts += 1
    if delivery.channel == "email":
        send_email(delivery.recipient, delivery.subject, _email_body(content), delivery.key,
                   attachment=content.get("attachment"))
    elif delivery.channel == "webhook":
        post_webhook(delivery, content)
    delivery.status, delivery.sent_at = "sent", now


def _email_body(content: dict) -> str:
    link = content.get("link") or ""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return content.get("body", "") + (f"\n\n{base}{link}" if link else "")


def send_email(to: str, subject: str, body: str, key: str, attachment: dict | None = None) -> None:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{key.replace(':', '.')}@agency>"
    message.set_content(body)
    if attachment:
        maintype, _, rest = attachment["content_type"].partition("/")
        subtype, *params = [p.strip() for p in rest.split(";")]
        message.add_attachment(attachment["content"].encode(), maintype=maintype, subtype=subtype,
                               filename=attachment["filename"],
                               params=dict(p.split("=", 1) for p in params if "=" in p))
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "memory":
        current_app.extensions.setdefault("mail_outbox", []).append(message)
    elif backend == "smtp":
        config = current_app.config
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        current_app.logger.info("e-mail to %s: %s\n%s", to, subject, body)


def post_webhook(delivery: Delivery, content: dict) -> None:
    body = json.dumps({"to": delivery.recipient, "subject": delivery.subject, **content}, ensure_ascii=False)
    request = urllib.request.Request(
        current_app.config["WEBHOOK_URL"], data=body.encode(), method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": delivery.key})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (configured URL)
        if response.status >= 300:
            raise RuntimeError(f"webhook answered {response.status}")


def unread_count(session: Session, user: User) -> int:
    from sqlalchemy import func
    return session.scalar(select(func.count()).select_from(Message)
                          .where(Message.user_id == user.id, Message.read_at.is_(None)))


def mark_all_read(session: Session, now: datetime, user: User) -> int:
    """Mark every unread message of ``user`` read; how many were."""
    result = session.execute(update(Message).where(Message.user_id == user.id, Message.read_at.is_(None))
                             .values(read_at=now).execution_options(synchronize_session=False))
    return result.rowcount
