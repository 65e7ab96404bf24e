"""Contact cards (企业联系卡, R9): a new agent means a new card; the old one is void."""
import functools
import secrets
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agency.audit.services import SYSTEM, record
from agency.clock import local
from agency.dbtypes import insert_skipping
from agency.errors import TransitionNotAllowed
from agency.notifications.services import notify
from agency.projects.models import ContactCard, Project


def current_card(session: Session, project: Project) -> ContactCard | None:
    return session.scalar(select(ContactCard).where(ContactCard.project_id == project.id,
                                                    ContactCard.void.is_(False)))


def tracking_url(project_or_code) -> str:
    code = getattr(project_or_code, "tracking_code", project_or_code)
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/track/{code}"


CARD_NO_ATTEMPTS = 8  # a fresh random part per attempt; 10**6 per day makes a second attempt already rare


def card_serial() -> int:
    """The random part of a card number (a function so a test can force a collision)."""
    return secrets.randbelow(10**6)


@functools.cache
def _card_insert(dialect: str, skip_taken_number: bool):
    """The card's INSERT ... RETURNING, skipping a number already taken or not, built once (its values are
    parameters)."""
    columns = [c.key for c in ContactCard.__table__.columns if c.key != "id"]
    return (insert_skipping(dialect, ContactCard, ContactCard.card_no, skip_taken_number)
            .values({name: bindparam(name) for name in columns}).returning(ContactCard))


def issue_card(session: Session, now: datetime, project: Project, agent, *, first: bool = False) -> ContactCard:
    """Void the current card and issue a new one; ``first``: the project was entrusted in this
    transaction, so it has no card yet (nothing to read or void).

    The number is ``LXK`` + the hall date + a random part.  A number another card already holds (two
    cards issued at once drawing the same part) is skipped by ``INSERT ... ON CONFLICT (card_no) DO
    NOTHING`` and retried with a new random part, so the caller's transaction goes on without a
    SAVEPOINT (whose release would also end what the transaction remembers: audit heads, locks); the
    last attempt is a plain INSERT, so a number that never frees up fails loudly (IntegrityError).  At
    most one card of a project is valid (uq_contact_cards_project_valid): of two issues racing (a double
    reassignment), the loser gets 409 and its caller's transaction is rolled back whole.
    """
    old = None if first else current_card(session, project)
    if old is not None:
        old.void, old.voided_at = True, now
        session.flush()  # the voided card first: the new one is the project's valid card
    details = dict(
        project_id=project.id,
        enterprise=project.enterprise.organization or project.enterprise.display_name,
        contact_name=project.contact_name, contact_phone=project.contact_phone,
        agent_id=agent.id, agent_name=agent.display_name, agent_phone=agent.phone,
        supervision_phone=current_app.config["SUPERVISION_PHONE"], tracking_code=project.tracking_code,
        issued_at=now, void=False, voided_at=None,
    )
    card = None
    for attempt in range(1, CARD_NO_ATTEMPTS + 1):
        statement = _card_insert(session.get_bind().dialect.name, attempt < CARD_NO_ATTEMPTS)
        try:
            card = session.scalar(statement, {"card_no": f"LXK{local(now):%Y%m%d}{card_serial():06d}", **details})
        except IntegrityError as error:
            if "card_no" in str(error.orig):  # the last attempt's number is taken too
                raise
            raise TransitionNotAllowed("the project's contact card was just reissued by another request; "
                                       "reload the project", fields={"card": "reissued"},
                                       shown=_l("企业联系卡刚被另一操作重新签发，请刷新后重试。")) from None
        if card is not None:
            break
    record(session, now, SYSTEM, "contact_card.issued", card, project_id=project.id,
           before={"card_no": old.card_no} if old else None, after={"card_no": card.card_no, "agent": agent.display_name},
           detail=f"发放企业联系卡 {card.card_no}（代办员 {agent.display_name}）" + (f"，原卡 {old.card_no} 作废" if old else ""))
    if old is not None:
        notify(session, now, project.enterprise, f"联系卡已更换：{project.name}",
               f"您的项目已改由代办员 {agent.display_name}（{agent.phone}）承办，新联系卡号 {card.card_no}，原卡作废。",
               key=f"card:{card.card_no}", link=f"/projects/{project.id}/card", project_id=project.id)
    return card
