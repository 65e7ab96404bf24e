"""Comments on a task (#13.3): who may read and write them, mentions, attachments.

* Read: whoever sees the task (agency.people.access.visible_tasks); the enterprise only the public
  comments (``internal`` false), never an internal one nor its file: another party's object is a 404.
* Write: the liaisons of the task's department, the agent carrying the project and the director.
* ``@username`` of a person who may read the comment (the project's agent, the department's liaisons,
  a director; the enterprise only for a public comment) tells that person, once, with a link to the task.
* Every comment is an audit event (``task.commented``) on the project's chain, so the timeline shows it
  to those who may read it (agency.people.scope).
"""
import re
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from agency.audit.services import Actor, record
from agency.comments.models import TaskComment
from agency.enterprise import uploads
from agency.errors import BadInput, Forbidden, NotFound
from agency.notifications.services import Notice, send_notices
from agency.people.access import is_assigned_agent, visible_tasks
from agency.people.models import User
from agency.tasks.models import Task

BODY_MAX = 4000
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_][A-Za-z0-9_.\-]{0,79})")
STAFF = ("agent", "liaison", "director")


def may_comment(user: User, task: Task) -> bool:
    """The department's liaisons, the agent carrying the project, the director."""
    if user.role == "director":
        return True
    if user.role == "liaison":
        return user.department_id == task.department_id
    return is_assigned_agent(user, task.project)


def visible_comments(user: User) -> Select:
    """The comments ``user`` may read: on tasks it sees; the enterprise only public ones."""
    query = select(TaskComment).where(TaskComment.task_id.in_(visible_tasks(user).with_only_columns(Task.id)))
    if user.role not in STAFF:
        query = query.where(TaskComment.internal.is_(False))
    return query


def comments_of(session: Session, user: User, task: Task) -> list[TaskComment]:
    """The task's comments ``user`` may read (a task it sees), oldest first."""
    query = select(TaskComment).where(TaskComment.task_id == task.id)
    if user.role not in STAFF:
        query = query.where(TaskComment.internal.is_(False))
    return list(session.scalars(query.order_by(TaskComment.id)))


def project_comments(session: Session, user: User, project_id: int) -> list[TaskComment]:
    """The comments of a project's tasks that ``user`` may read, oldest first (the project page)."""
    return list(session.scalars(visible_comments(user).where(TaskComment.project_id == project_id)
                                .order_by(TaskComment.id)))


def get_comment(session: Session, user: User, comment_id: int) -> TaskComment:
    found = session.scalar(visible_comments(user).where(TaskComment.id == comment_id))
    if found is None:
        raise NotFound(f"comment {comment_id} not found")
    return found


def readers(session: Session, task: Task, internal: bool) -> dict[str, User]:
    """username -> the people who may read a comment on ``task`` (and so may be mentioned in it)."""
    project = task.project
    people = [project.agent or project.first_contact_agent]
    people += session.scalars(select(User).where(User.active.is_(True), or_(
        User.role == "director", (User.role == "liaison") & (User.department_id == task.department_id))))
    if not internal:
        people.append(project.enterprise)
    return {u.username.lower(): u for u in people if u is not None and u.active}


def mentioned_names(body: str) -> list[str]:
    return list(dict.fromkeys(m.group(1).rstrip(".-").lower() for m in MENTION.finditer(body)))


def add_comment(session: Session, now: datetime, user: User, task: Task, body: str, *, internal: bool,
                filename: str | None = None, stream=None, link: str = "", public_link: str = "") -> TaskComment:
    """Write a comment (and store its attachment); tell the people it mentions.

    ``link`` is the task page for the hall's people, ``public_link`` the project page for the enterprise.
    The caller commits, and on failure discards the stored file (``discard``).
    """
    if not may_comment(user, task):
        raise Forbidden("comments are written by the department's liaisons, the project's agent and the director")
    body = (body or "").strip()
    if not body:
        raise BadInput("write the comment", fields={"body": "required"})
    if len(body) > BODY_MAX:
        raise BadInput(f"a comment is at most {BODY_MAX} characters", fields={"body": f"at most {BODY_MAX}"})
    stored = None
    if stream is not None:
        name, data, content_type = uploads.check_upload(filename, stream, current_app.config["MAX_UPLOAD_BYTES"])
        stored = uploads.store(current_app.config["UPLOAD_DIR"], data, content_type)
    try:
        may_read = readers(session, task, internal)
        told = [may_read[n] for n in mentioned_names(body) if n in may_read and may_read[n].id != user.id]
        comment = TaskComment(task_id=task.id, project_id=task.project_id, author_id=user.id, internal=internal,
                              body=body, mentions=" ".join(u.username for u in told)[:1000], created_at=now)
        if stored is not None:
            comment.filename, comment.storage_key, comment.content_type = name, stored.storage_key, content_type
            comment.size, comment.sha256 = stored.size, stored.sha256
        session.add(comment)
        session.flush()
        where = f"{task.department.name}·{task.item.name}"
        record(session, now, Actor.of(user), "task.commented", comment, project_id=task.project_id,
               after={"task_id": task.id, "internal": internal, "attachment": comment.filename,
                      "mentions": [u.username for u in told]},
               detail=f"{'内部' if internal else ''}留言（{where}）：{body[:300]}")
        subject = f"{user.display_name}在“{task.item.name}”的留言中提到了您"
        send_notices(session, now, [
            Notice(u, subject, body[:1000], key=f"comment-mention:{comment.id}",
                   link=public_link if u.role == "enterprise" else link, project_id=task.project_id)
            for u in told])
    except Exception:
        uploads.discard(stored)
        raise
    comment.stored = stored  # for the caller's discard on a failed commit
    return comment


def attachment_path(comment: TaskComment):
    if not comment.has_attachment:
        raise NotFound(f"comment {comment.id} has no attachment")
    return uploads.path_for(current_app.config["UPLOAD_DIR"], comment.sha256, comment.storage_key)


def commit_or_discard(session: Session, comment: TaskComment) -> None:
    """Commit; when the commit fails the stored attachment goes too."""
    try:
        session.commit()
    except Exception:
        session.rollback()
        uploads.discard(getattr(comment, "stored", None))
        raise
