"""Notifications (R13): in-app inbox, e-mail and webhook.

``send_notices`` (``notify``, ``notify_many``) writes the inbox messages and
the delivery rows in the caller's transaction, with one outbox job for the
e-mails and webhook calls; each is sent once per idempotency key (a delivery
already sent is skipped).
"""
import json
import smtplib
import urllib.request
from dataclasses import dataclass
from datetime import datetime
import email.policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from agency.dbtypes import insert_skipping
from agency.jobs.services import commit_progress, enqueue_job, wrote_job
from agency.notifications.models import Delivery, Message
from agency.people.models import User


@dataclass(frozen=True)
class Notice:
    """One thing to tell one person; ``key`` makes telling it twice a no-op."""

    user: User
    subject: str
    body: str
    key: str
    link: str = ""
    project_id: int | None = None
    attachment: dict | None = None  # {filename, content_type, content: str}, e-mail only (e.g. an .ics)


def send_notices(session: Session, now: datetime, notices) -> int:
    """Write many notices at once: inbox messages now, e-mail and webhook by one job after commit.

    One statement on PostgreSQL for any number of notices (each answer pays it, bench_workflow): a
    multi-row ``INSERT INTO deliveries ... ON CONFLICT (key) DO NOTHING RETURNING key`` claims the
    delivery keys (a key already used, even by a transaction racing this one, comes back absent and is
    skipped), and the inbox messages of the notices whose inbox key was fresh are written by the same
    statement (two statements on SQLite).  The e-mails and webhook calls of the whole call go to one
    outbox job.  Returns how many notices were written.
    """
    fresh: dict[str, Notice] = {}
    for notice in notices:
        fresh.setdefault(f"{notice.key}:inbox:{notice.user.id}", notice)
    if not fresh:
        return 0
    webhook = bool(current_app.config.get("WEBHOOK_URL"))
    deliveries, payloads = [], {}
    for inbox_key, notice in fresh.items():
        user, subject = notice.user, notice.subject[:200]
        deliveries.append(dict(key=inbox_key, channel="inbox", recipient=str(user.id), subject=subject,
                               status="sent", attempts=1, created_at=now, sent_at=now))
        channels = [("email", user.email)] if user.email else []
        if webhook and user.phone:
            channels.append(("webhook", user.phone))
        for channel, recipient in channels:
            key = f"{notice.key}:{channel}:{user.id}"
            deliveries.append(dict(key=key, channel=channel, recipient=recipient, subject=subject,
                                   status="pending", attempts=0, created_at=now, sent_at=None))
            payload = {"body": notice.body, "link": notice.link}
            if notice.attachment and channel == "email":
                payload["attachment"] = notice.attachment
            payloads[key] = json.dumps(payload, ensure_ascii=False)
    deliveries.sort(key=lambda row: row["key"])  # every writer takes the keys in one order: no deadlock
    messages = {key: dict(user_id=n.user.id, project_id=n.project_id, subject=n.subject[:200], body=n.body,
                          link=n.link, created_at=now, read_at=None) for key, n in fresh.items()}
    if session.get_bind().dialect.name == "postgresql":
        taken_now = _write_at_once(session, now, deliveries, messages, payloads)
    else:
        taken_now = _write_in_two(session, deliveries, messages)
        outgoing = [[row["key"], payloads[row["key"]]] for row in deliveries
                    if row["key"] in payloads and row["key"] in taken_now]
        if outgoing:
            enqueue_job(session, now, "notifications", DELIVER_ALL, outgoing)
    return len([key for key in messages if key in taken_now])


DELIVER_ALL = "workers.notifications.deliver_all"


_AT_ONCE = text("""
WITH fresh AS (
    INSERT INTO deliveries (key, channel, recipient, subject, status, attempts, last_error, created_at, sent_at)
    SELECT d.key, d.channel, d.recipient, d.subject, d.status, d.attempts, '', :now,
           CASE WHEN d.status = 'sent' THEN CAST(:now AS timestamptz) END
    FROM unnest(CAST(:keys AS varchar[]), CAST(:channels AS varchar[]), CAST(:recipients AS varchar[]),
                CAST(:subjects AS varchar[]), CAST(:statuses AS varchar[]), CAST(:attempts AS int[]))
         AS d(key, channel, recipient, subject, status, attempts)
    ON CONFLICT (key) DO NOTHING
    RETURNING key),
written AS (
    INSERT INTO messages (user_id, project_id, subject, body, link, created_at)
    SELECT m.user_id, m.project_id, m.subject, m.body, m.link, :now
    FROM unnest(CAST(:inbox_keys AS varchar[]), CAST(:users AS int[]), CAST(:projects AS int[]),
                CAST(:message_subjects AS varchar[]), CAST(:bodies AS text[]), CAST(:links AS varchar[]))
         WITH ORDINALITY AS m(key, user_id, project_id, subject, body, link, n)
    WHERE m.key IN (SELECT key FROM fresh)
    ORDER BY m.n),
job AS (
    INSERT INTO outbox_jobs (queue, func, args, status, attempts, last_error, created_at)
    SELECT 'notifications', :deliver_all, json_build_array(json_agg(json_build_array(o.key, o.payload) ORDER BY o.n)),
           'pending', 0, '', :now
    FROM unnest(CAST(:outgoing_keys AS varchar[]), CAST(:payloads AS text[])) WITH ORDINALITY AS o(key, payload, n)
    WHERE o.key IN (SELECT key FROM fresh)
    HAVING count(*) > 0
    RETURNING id)
SELECT fresh.key, (SELECT id FROM job) AS job_id FROM fresh""")


def _write_at_once(session: Session, now: datetime, deliveries: list[dict], messages: dict,
                   payloads: dict[str, str]) -> set[str]:
    """PostgreSQL: deliveries, messages and their e-mail job in one statement; the delivery keys this call wrote.

    The deliveries claim their keys (``ON CONFLICT (key) DO NOTHING RETURNING key``); the messages
    follow the inbox keys claimed by the same statement, and the outbox job (``deliver_all``) takes
    the e-mails and webhook calls of the claimed keys, in delivery order; none when none was claimed.
    One text with array parameters: the same SQL (compiled and prepared once) for any number of notices.
    """
    outgoing = [d["key"] for d in deliveries if d["key"] in payloads]
    rows = session.connection().execute(_AT_ONCE, {
        "deliver_all": DELIVER_ALL, "outgoing_keys": outgoing, "payloads": [payloads[k] for k in outgoing],
        "now": now, "keys": [d["key"] for d in deliveries], "channels": [d["channel"] for d in deliveries],
        "recipients": [d["recipient"] for d in deliveries], "subjects": [d["subject"] for d in deliveries],
        "statuses": [d["status"] for d in deliveries], "attempts": [d["attempts"] for d in deliveries],
        "inbox_keys": list(messages), "users": [m["user_id"] for m in messages.values()],
        "projects": [m["project_id"] for m in messages.values()],
        "message_subjects": [m["subject"] for m in messages.values()],
        "bodies": [m["body"] for m in messages.values()], "links": [m["link"] for m in messages.values()]}).all()
    job_id = rows[0].job_id if rows else None
    if job_id is not None:
        wrote_job(session)
    return {row.key for row in rows}


def _write_in_two(session: Session, deliveries: list[dict], messages: dict) -> set[str]:
    """Elsewhere (SQLite): the keys claimed by ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, then the messages."""
    taken_now = set(session.scalars(insert_skipping("sqlite", Delivery, Delivery.key).values(deliveries)
                                    .returning(Delivery.key)))
    rows = [row for key, row in messages.items() if key in taken_now]
    if rows:
        session.execute(insert(Message).execution_options(render_nulls=True), rows)
    return taken_now


def notify(session: Session, now: datetime, user: User, subject: str, body: str = "", *, key: str,
           link: str = "", project_id: int | None = None, attachment: dict | None = None) -> bool:
    """Tell one person, once per ``key``; False when that key was used already."""
    return send_notices(session, now, [Notice(user, subject, body, key, link, project_id, attachment)]) == 1


def notify_many(session: Session, now: datetime, users, subject: str, body: str = "", *, key: str, **kw) -> int:
    """Tell each of ``users`` (None and repeats left out) the same thing; how many were told."""
    return send_notices(session, now, [Notice(u, subject, body, key, **kw) for u in users if u is not None])


def deliver_all(session: Session, now: datetime, outgoing: list) -> None:
    """Send the e-mails and webhook calls of one ``send_notices``, each at most once per success.

    The job's deliveries still to send are locked and marked sent in one statement of the job's own
    transaction (``_take_deliveries``), so a job that sends everything commits once (the runner's
    commit, with the job marked done; the claim's lock is held throughout, so a second delivery of
    the job waits and finds it done).  When a channel fails, its delivery is put back (pending, the
    failure counted on its row) and what was sent is committed at once (``commit_progress``: without
    the job's done mark), and the job fails after trying the rest, so RQ runs it again: what was sent
    is skipped then.  A worker killed between sending and that commit sends again on the retry (at
    least once; the e-mail's Message-ID and the webhook's Idempotency-Key carry the delivery key for
    the receiver to drop it).
    """
    payloads = dict(outgoing)
    failed: dict[str, str] = {}
    for delivery in _take_deliveries(session, now, list(payloads)):
        try:
            _send(delivery, json.loads(payloads[delivery.key]))
        except Exception as exc:  # noqa: BLE001  (any failure of the channel: counted, retried)
            failed[delivery.key] = repr(exc)
    if failed:
        session.connection().execute(_PUT_BACK, [{"failed_key": key, "error": error[:2000]}
                                                 for key, error in failed.items()])
        commit_progress(session)  # what was sent stays sent: the retry must not send it again
        raise DeliveryFailed(f"{len(failed)} of {len(outgoing)} deliveries failed; "
                             + "; ".join(f"{key}: {error}"[:300] for key, error in list(failed.items())[:5]))


class DeliveryFailed(RuntimeError):
    """Some deliveries of a job failed; the job is retried."""


def _take_deliveries(session: Session, now: datetime, keys: list[str]) -> list:
    """The deliveries of ``keys`` not sent yet, locked (in key order, as every writer takes them) and
    marked sent, with their attempt counted, by one statement; their key, channel, recipient and subject.

    One conditional UPDATE on the session's connection instead of an ORM SELECT ... FOR UPDATE and an
    UPDATE of the sent ones (every e-mail job pays it, bench_jobs); a delivery whose channel then
    fails is put back by ``deliver_all``.
    """
    if not keys:
        return []
    return sorted(session.connection().execute(_TAKE, {"keys": keys, "now": now}), key=lambda d: d.key)


_LOCKED = (select(Delivery.key).where(Delivery.key.in_(bindparam("keys", expanding=True))).order_by(Delivery.key)
           .with_for_update().subquery())
_TAKE = (update(Delivery).where(Delivery.key == _LOCKED.c.key, Delivery.status != "sent")
         .values(status="sent", sent_at=bindparam("now"), attempts=Delivery.attempts + 1)
         .returning(Delivery.key, Delivery.channel, Delivery.recipient, Delivery.subject))
_PUT_BACK = (update(Delivery).where(Delivery.key == bindparam("failed_key"))
             .values(status="pending", sent_at=None, last_error=bindparam("error")))


def _send(delivery: Delivery, content: dict) -> None:
    if delivery.channel == "email":
        send_email(delivery.recipient, delivery.subject, _email_body(content), delivery.key,
                   attachment=content.get("attachment"))
    elif delivery.channel == "webhook":
        post_webhook(delivery, content)


def _email_body(content: dict) -> str:
    link = content.get("link") or ""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return content.get("body", "") + (f"\n\n{base}{link}" if link else "")


class _Headers(HeaderRegistry):
    """The standard header registry, keeping what it made: the class of each header name (the stock one
    makes a new class, ``type()``, for every header of every message) and the last few thousand parsed
    headers (From, To, the content headers: the same values in message after message, each parse of an
    address a few hundred Python calls).  A parsed header is an immutable string: a message changing
    one replaces it.  Building an e-mail cost 0.65 ms, most of an e-mail job's Python (bench_jobs);
    the messages are the same byte for byte."""

    KEEP = 4096

    def __init__(self):
        super().__init__()
        self._classes: dict[str, type] = {}
        self._parsed: dict[tuple[str, str], object] = {}

    def __getitem__(self, name):
        made = self._classes.get(name.lower())
        if made is None:
            made = self._classes[name.lower()] = super().__getitem__(name)
        return made

    def __call__(self, name, value):
        key = (name.lower(), value)
        parsed = self._parsed.get(key)
        if parsed is None:
            if len(self._parsed) >= self.KEEP:
                self._parsed.clear()
            parsed = self._parsed[key] = super().__call__(name, value)
        return parsed


_POLICY = email.policy.default.clone(header_factory=_Headers())


def send_email(to: str, subject: str, body: str, key: str, attachment: dict | None = None) -> None:
    message = EmailMessage(policy=_POLICY)
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
