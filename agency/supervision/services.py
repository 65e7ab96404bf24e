"""Cards and escalations of the electronic supervision (电子监察)."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agency.dbtypes import values_in
from agency.supervision.models import Card, Escalation


def give_card(session: Session, now: datetime, *, key: str, color: str, reason: str, department_id=None,
              agent_id=None, project_id=None, task_id=None, notice_id=None, detail: str = "") -> bool:
    """Give a card once per ``key``; False when that fact was already carded.

    Callers hold the lock of the object behind the key (the task's project),
    so the check and the insert cannot interleave with another writer.
    """
    return give_cards(session, now, [dict(key=key, color=color, reason=reason, department_id=department_id,
                                          agent_id=agent_id, project_id=project_id, task_id=task_id,
                                          notice_id=notice_id, detail=detail)]) == 1


_FIELDS = ("key", "color", "reason", "department_id", "agent_id", "project_id", "task_id", "notice_id", "detail")


def give_cards(session: Session, now: datetime, cards: list[dict]) -> int:
    """Many cards at once (the sweep's batch): one SELECT of the keys already carded, one INSERT of the rest."""
    if not cards:
        return 0
    taken = set(session.scalars(select(Card.key).where(values_in(session, Card.key, [c["key"] for c in cards]))))
    rows = []
    for card in cards:
        if card["key"] not in taken:
            taken.add(card["key"])
            rows.append({**dict.fromkeys(_FIELDS), "detail": "", **card, "at": now})
    if rows:
        session.execute(insert(Card).execution_options(render_nulls=True), rows)
    return len(rows)


def escalate(session: Session, now: datetime, task, reason: str) -> Escalation:
    escalation = Escalation(task_id=task.id, project_id=task.project_id, reason=reason, at=now)
    session.add(escalation)
    return escalation


def resolve_escalation(session: Session, now: datetime, actor, escalation: Escalation, resolution: str) -> Escalation:
    """The director records how an escalated task was handled (督办结果)."""
    from agency.audit.services import Actor, record
    from agency.errors import BadInput, TransitionNotAllowed
    resolution = (resolution or "").strip()
    if not resolution:
        raise BadInput("a resolution is required", fields={"resolution": "required"},
                       shown=_l("请填写处理意见。"))
    if escalation.resolved_at is not None:
        raise TransitionNotAllowed("this escalation is already resolved",
                                   shown=_l("该事项已处理。"))
    escalation.resolved_at, escalation.resolved_by_id, escalation.resolution = now, actor.id, resolution
    record(session, now, Actor.of(actor), "escalation.resolved", escalation, project_id=escalation.project_id,
           after={"task_id": escalation.task_id, "resolution": resolution}, detail=f"主任督办：{resolution}")
    return escalation
