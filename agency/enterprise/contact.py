"""The contact card (企业联系卡, R9) as the enterprise holds it: its fields, its QR code, its page."""
import base64
import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy.orm import Session

from agency.errors import NotFound
from agency.projects.cards import current_card, tracking_url
from agency.projects.models import ContactCard, Project


def card_of(session: Session, project: Project) -> ContactCard:
    """The project's valid card; 404 before an agent is assigned."""
    card = current_card(session, project)
    if card is None:
        raise NotFound("no contact card yet: it is issued when an agent is assigned")
    return card


def card_fields(card: ContactCard) -> dict:
    return {"card_no": card.card_no, "project_id": card.project_id, "enterprise": card.enterprise,
            "contact_name": card.contact_name, "contact_phone": card.contact_phone, "agent_name": card.agent_name,
            "agent_phone": card.agent_phone, "supervision_phone": card.supervision_phone,
            "tracking_code": card.tracking_code, "tracking_url": tracking_url(card.tracking_code),
            "issued_at": card.issued_at, "void": card.void}


def qr_png(text: str, box_size: int = 8) -> bytes:
    """A QR code of ``text`` as PNG bytes."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def qr_data_uri(text: str) -> str:
    """The QR PNG inline (``img-src data:`` is allowed by the CSP), so the printed page needs no second request."""
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")
