"""In Chromium: the director opens the workload board, sees the suggested agent for a project the
enterprise entrusted by itself, assigns it with one click, and the contact card names the new agent;
the rankings page draws its charts (Chart.js served by the app) without breaking the CSP."""
import re

import pytest
from sqlalchemy import select

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, screenshot, sign_in

pytestmark = pytest.mark.browser

NAME = "城东冷链仓储项目（浏览器测试）"


def _entrust(app) -> tuple[int, int]:
    """A project entrusted by the demo enterprise itself (no agent yet) and the agent the board will suggest."""
    from agency import clock
    from agency.director.workload import suggest_agent
    from agency.extensions import db
    from agency.people.models import User
    from agency.projects.services import entrust_project
    with app.app_context():
        enterprise = db.session.scalar(select(User).where(User.username == "ent2"))
        project = entrust_project(db.session, clock.now(), enterprise, name=NAME, project_type="STARTUP",
                                  location="城东物流园", investment_wan="800", contact_name="陈总",
                                  contact_phone="138-0000-0002")
        db.session.commit()
        result = project.id, suggest_agent(db.session, project).agent_id
        db.session.remove()
    return result


def _assignment(app, project_id):
    from agency.extensions import db
    from agency.projects.models import ContactCard, Project
    with app.app_context():
        project = db.session.get(Project, project_id)
        card = db.session.scalar(select(ContactCard).where(ContactCard.project_id == project_id,
                                                           ContactCard.void.is_(False)))
        result = project.agent_id, (card.agent_id, card.agent_name) if card else None
        db.session.remove()
    return result


def test_director_assigns_a_project_from_the_board(live_server, open_page):
    app = live_server.app
    project_id, suggested = _entrust(app)
    problems = []
    page = open_page(DESKTOP)
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    sign_in(page, live_server, "director", PASSWORD)

    page.goto(live_server("/director/workload"))
    row = page.locator(f"tr[data-project-id='{project_id}']")
    assert row.count() == 1
    assert "建议指派" in row.locator(".suggestion").inner_text()
    screenshot(page, "director-workload-before")
    row.locator("button[data-action=assign-suggested]").click()
    page.wait_for_url(re.compile(r".*/director/workload$"))
    assert "已将" in page.locator(".flash-success").inner_text()
    assert page.locator(f"tr[data-project-id='{project_id}']").count() == 0
    agent_id, card = _assignment(app, project_id)
    assert agent_id == suggested and card is not None and card[0] == suggested
    assert page.locator(f"tr[data-agent-id='{suggested}'] .open-projects").inner_text().strip() != "0"
    screenshot(page, "director-workload-after")

    page.goto(live_server("/director/rankings"))
    page.wait_for_selector("canvas[data-chart=trend][data-drawn=true]")
    assert page.evaluate("typeof window.Chart") == "function"
    screenshot(page, "director-rankings")
    assert [p for p in problems if "Content Security Policy" in p] == []
