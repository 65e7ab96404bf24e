"""The enterprise side's rule for the deadline sweep: an overdue rectification reply is a red card (R10).

``sweep_notices(session, now)`` is idempotent and may be run for any instant: each
overdue notice is closed by one conditional UPDATE (``red_carded_at IS NULL``), and
the card's unique key ``notice_overdue:<id>`` makes a second card impossible.
"""
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agency.audit.services import SYSTEM, record
from agency.enterprise.models import DissatisfactionNotice
from agency.enterprise.services import directors
from agency.notifications.services import notify_many
from agency.people.models import User
from agency.supervision.services import give_card


def sweep_notices(session: Session, now: datetime, *where) -> dict:
    """A notice without a reply past its due date: one red card, once (idempotent for any ``now``).

    The sweep runs it over every notice; a request touching a notice or project narrows it (``where``).
    """
    due = session.scalars(
        select(DissatisfactionNotice).where(DissatisfactionNotice.due <= now,
                                            DissatisfactionNotice.replied_at.is_(None),
                                            DissatisfactionNotice.red_carded_at.is_(None), *where)
        .order_by(DissatisfactionNotice.due)).all()
    carded = 0
    for notice in due:
        result = session.execute(
            update(DissatisfactionNotice).where(DissatisfactionNotice.id == notice.id,
                                                DissatisfactionNotice.replied_at.is_(None),
                                                DissatisfactionNotice.red_carded_at.is_(None))
            .values(red_carded_at=now).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            continue
        session.refresh(notice)
        if not give_card(session, now, key=f"notice_overdue:{notice.id}", color="red", reason="notice_overdue",
                         department_id=notice.department_id, agent_id=notice.agent_id, project_id=notice.project_id,
                         notice_id=notice.id, detail="不满意件逾期未整改复函"):
            continue
        carded += 1
        addressee = notice.department.name if notice.department else "代办员"
        record(session, now, SYSTEM, "notice.overdue", notice, project_id=notice.project_id,
               detail=f"{addressee}逾期未提交整改复函，红牌")
        people = ([notice.department.primary_liaison, notice.department.backup_liaison] if notice.department
                  else [session.get(User, notice.agent_id)] if notice.agent_id else []) + directors(session)
        notify_many(session, now, people, "不满意件逾期未复函（红牌）", f"函告 #{notice.id} 已超过整改复函期限。",
                    key=f"notice-overdue:{notice.id}", link=f"/notices/{notice.id}", project_id=notice.project_id)
    session.flush()
    return {"notice_red_cards": carded}
