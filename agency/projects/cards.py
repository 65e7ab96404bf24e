"""Contact cards (企业联系卡, R9): a new agent means a new card; the old one is void."""
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.audit.services import SYSTEM, record
from agency.clock import local
from agency.notifications.services import notify
from agency.projects.models import ContactCard, Project


def current_card(session: Session, project: Project) -> ContactCard | None:
    return session.scalar(select(ContactCard).where(ContactCard.project_id == project.id,
                                                    ContactCard.void.is_(False)))


def tracking_url(project_or_code) -> str:
    code = getattr(project_or_code, "tracking_code", project_or_code)
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/track/{code}"


def issue_card(session: Session, now: datetime, project: Project, agent) -> ContactCard:
    old = current_card(session, project)
    if old is not None:
        old.void, old.voided_at = True, now
    card = ContactCard(
        project_id=project.id,
        card_no=f"LXK{local(now):%Y%m%d}{secrets.randbelow(10**6):06d}",
        enterprise=project.enterprise.organization or project.enterprise.display_name,
        contact_name=project.contact_name, contact_phone=project.contact_phone,
        agent_id=agent.id, agent_name=agent.display_name, agent_phone=agent.phone,
        supervision_phone=current_app.config["SUPERVISION_PHONE"], tracking_code=project.tracking_code,
        issued_at=now,
    )
    session.add(card)
    session.flush()
    record(session, now, SYSTEM, "contact_card.issued", card, project_id=project.id,
           before={"card_no": old.card_no} if old else None, after={"card_no": card.card_no, "agent": agent.display_name},
           detail=f"发放企业联系卡 {card.card_no}（代办员 {agent.display_name}）" + (f"，原卡 {old.card_no} 作废" if old else ""))
    if old is not None:
        notify(session, now, project.enterprise, f"联系卡已更换：{project.name}",
               f"您的项目已改由代办员 {agent.display_name}（{agent.phone}）承办，新联系卡号 {card.card_no}，原卡作废。",
               key=f"card:{card.card_no}", link=f"/projects/{project.id}/card", project_id=project.id)
    return card
