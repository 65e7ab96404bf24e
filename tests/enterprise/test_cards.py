"""The contact card (R9): content, the QR code decoding back to the tracking link, reissue on reassignment."""
import io

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from agency.notifications.models import Message
from agency.projects.models import ContactCard
from tests.enterprise.conftest import ENTRUST


def decode_qr(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_card_content(world, app):
    project = world.entrust()
    response = world.as_("ent").get(f"/projects/{project['id']}/contact-card")
    assert response.status_code == 200
    card = response.get_json()
    agent = world.people["agent"]
    assert card["card_no"].startswith("LXK")
    assert card["enterprise"] == "甲公司"
    assert card["contact_name"] == "张经理"
    assert (card["agent_name"], card["agent_phone"]) == (agent.display_name, "0571-1")
    assert card["supervision_phone"] == app.config["SUPERVISION_PHONE"]
    assert card["tracking_code"] == project["tracking_code"]
    assert card["tracking_url"] == f"{app.config['PUBLIC_BASE_URL']}/track/{project['tracking_code']}"
    assert card["void"] is False


def test_qr_code_decodes_to_the_tracking_link(world, app):
    project = world.entrust()
    response = world.as_("ent").get(f"/projects/{project['id']}/contact-card?format=png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert decode_qr(response.data) == [f"{app.config['PUBLIC_BASE_URL']}/track/{project['tracking_code']}"]


def test_printable_card(world, client, login):
    project = world.entrust()
    html_api = world.as_("ent").get(f"/projects/{project['id']}/contact-card?format=html")
    assert html_api.status_code == 200 and html_api.mimetype == "text/html"
    page = html_api.get_data(as_text=True)
    assert 'class="contact-card' in page and "data:image/png;base64," in page and project["tracking_code"] in page
    assert "contact-card.css" in page

    login("ent")
    response = client.get(f"/projects/{project['id']}/card")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "企业联系卡" in html and "0571-1" in html and "甲公司" in html
    assert f"/projects/{project['id']}/card/qr.png" in html
    qr = client.get(f"/projects/{project['id']}/card/qr.png")
    assert qr.mimetype == "image/png"
    assert decode_qr(qr.data)[0].endswith(f"/track/{project['tracking_code']}")


def test_reassignment_voids_the_old_card_and_tells_the_enterprise(world, session):
    project = world.entrust()
    old = world.as_("ent").get(f"/projects/{project['id']}/contact-card").get_json()
    response = world.as_("director").post(f"/projects/{project['id']}/assign",
                                          json={"agent_id": world.people["agent2"].id})
    assert response.status_code == 200
    new = world.as_("ent").get(f"/projects/{project['id']}/contact-card").get_json()
    assert new["card_no"] != old["card_no"]
    assert (new["agent_name"], new["agent_phone"]) == (world.people["agent2"].display_name, "0571-2")
    assert new["tracking_code"] == old["tracking_code"] and new["void"] is False
    session.expire_all()
    stored_old = session.scalar(select(ContactCard).where(ContactCard.card_no == old["card_no"]))
    assert stored_old.void is True and stored_old.voided_at is not None
    told = session.scalars(select(Message).where(Message.user_id == world.people["ent"].id)).all()
    assert any(new["card_no"] in m.body and "原卡作废" in m.body for m in told)


def test_no_card_before_an_agent(world):
    response = world.as_("ent").post("/projects", json=dict(ENTRUST))
    assert response.status_code == 201
    project_id = response.get_json()["id"]
    assert world.as_("ent").get(f"/projects/{project_id}/contact-card").status_code == 404


def test_public_tracking_page_shows_progress_without_personal_data(world, client):
    project = world.entrust()
    world.dispatch(project["id"])
    response = client.get(f"/track/{project['tracking_code']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert project["name"] in html and "立项用地规划许可" in html and "企业投资项目备案" in html
    for private in ("张经理", "138-0000-0001", "0571-1", "甲公司", "agent@hall.test"):
        assert private not in html
    assert client.get("/track/DBNOSUCH00").status_code == 404


def forced_serials(monkeypatch, *serials):
    """The random part of card numbers comes from ``serials`` in order (shared by every thread)."""
    import threading

    from agency.projects import cards
    queue, lock = list(serials), threading.Lock()

    def serial():
        with lock:
            return queue.pop(0)
    monkeypatch.setattr(cards, "card_serial", serial)
    return queue


def test_a_card_number_collision_is_retried_not_a_500(world, session, monkeypatch):
    queue = forced_serials(monkeypatch, 42, 42, 42, 43, 42, 44)
    first = world.entrust()
    second = world.entrust(enterprise="ent2")  # draws 42 twice (taken), then 43
    assert queue == [42, 44]
    numbers = {c.project_id: c.card_no for c in session.scalars(select(ContactCard))}
    assert numbers[first["id"]].endswith("000042") and numbers[second["id"]].endswith("000043")
    card = world.as_("ent2").get(f"/projects/{second['id']}/contact-card").get_json()
    assert card["card_no"] == numbers[second["id"]]
    # a reassignment (new card, old one void) collides too, and is retried in the same transaction
    moved = world.as_("director").post(f"/projects/{second['id']}/assign",
                                       json={"agent_id": world.people["agent2"].id})
    assert moved.status_code == 200, moved.get_json()
    session.expire_all()
    cards = session.scalars(select(ContactCard).where(ContactCard.project_id == second["id"])
                            .order_by(ContactCard.id)).all()
    assert [(c.card_no[-6:], c.void) for c in cards] == [("000043", True), ("000044", False)]
    assert queue == []


def test_a_card_number_that_never_frees_up_still_fails_loudly(world, session, monkeypatch):
    from agency.projects import cards
    forced_serials(monkeypatch, *[7] * (1 + cards.CARD_NO_ATTEMPTS))
    world.entrust()
    with pytest.raises(IntegrityError):
        world.entrust(enterprise="ent2")
