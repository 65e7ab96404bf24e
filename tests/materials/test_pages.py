"""The checklist page (R14): statuses in words, filing through the page, the agent's pre-review in one form."""
import io
import re

import pytest
from sqlalchemy import select

from agency.materials.models import ProjectMaterial
from agency.materials.services import file_material, prereview
from agency.notifications.models import Message
from agency.tasks.models import MaterialFile
from tests.materials.conftest import PDF_BYTES
from agency.extensions import limiter
from tests.pages import login, page_client, post, text
from tests.tasks import count, entrust, snapshot


@pytest.fixture
def client(app):
    """A signed-out page client; the shared app\'s login rate limit starts afresh (a test signs in often)."""
    limiter.reset()
    return page_client(app)


@pytest.fixture
def project(session, hall, clock, now):
    """An IND_PERMIT project the agent entrusted for ``ent``, nothing filed yet."""
    clock.set(now)
    return entrust(session, now, hall, ready=False)


def filed(session, now, hall, project, *names):
    for name in names:
        file_material(session, now, hall["ent"], project, name, f"{name}.pdf", io.BytesIO(PDF_BYTES))
    session.commit()


def entry_html(html: str, name: str) -> str:
    """The card of checklist entry ``name`` on the page."""
    for card in re.findall(r'<li class="card entry .*?</li>', html, re.S):
        if f'<h2 class="entry-name">{name}</h2>' in card:
            return card
    raise AssertionError(f"no entry {name} on the page")


def entry_key(html: str, name: str) -> str:
    return re.search(r'id="(entry-\d+)"', entry_html(html, name)).group(1)


def test_every_entry_shows_its_status_in_words_reason_and_file(client, session, hall, now, project):
    filed(session, now, hall, project, "项目备案申请表", "企业营业执照", "节能报告")
    prereview(session, now, hall["agent"], project, [{"name": "项目备案申请表", "accepted": True},
                                                    {"name": "企业营业执照", "accepted": False, "reason": "已过期"}])
    session.commit()
    login(client, "ent")
    response = client.get(f"/projects/{project.id}/materials")
    assert response.status_code == 200
    html = text(response)
    accepted, returned = entry_html(html, "项目备案申请表"), entry_html(html, "企业营业执照")
    assert 'class="badge ok">预审通过<' in accepted
    assert 'class="badge bad">已退回<' in returned and "已过期" in returned
    assert 'class="badge info">待预审<' in entry_html(html, "节能报告")
    assert 'class="badge warn">待上传<' in entry_html(html, "用地预审申请表")
    awaiting = entry_html(html, "项目备案证明")
    assert 'class="badge info">待前序事项出具<' in awaiting and "FGW-01" in awaiting
    # the items needing it, the file (name, SHA-256 short, download link) and the history
    assert "FGW-01" in accepted and "企业投资项目备案" in accepted
    file = session.scalars(select(MaterialFile).where(MaterialFile.material == "项目备案申请表")).one()
    assert f'href="/materials/{file.id}"' in accepted and "项目备案申请表.pdf" in accepted
    assert file.sha256[:12] in accepted and file.sha256 not in accepted.replace(f'title="{file.sha256}"', "")
    assert f'href="/projects/{project.id}/materials/history"' in html
    # the enterprise files; only the carrying agent pre-reviews
    assert 'name="file"' in returned and 'id="prereview"' not in html
    history = text(client.get(f"/projects/{project.id}/materials/history"))
    assert "项目备案申请表.pdf" in history and "当前文件" in history


def test_filing_through_the_page_stores_the_file_and_shows_it(client, session, project):
    login(client, "ent")
    page = f"/projects/{project.id}/materials"
    key = entry_key(text(client.get(page)), "申请表")
    response = post(client, page, {"name": "申请表", "file": (io.BytesIO(PDF_BYTES), "申请表.pdf")}, token_from=page,
                    content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{page}#{key}")
    row = session.scalars(select(ProjectMaterial).where(ProjectMaterial.project_id == project.id)).one()
    assert (row.name, row.status, row.file.filename) == ("申请表", "uploaded", "申请表.pdf")
    html = text(client.get(page))
    assert "申请表.pdf" in entry_html(html, "申请表") and "待预审" in entry_html(html, "申请表")
    assert "已上传“申请表”" in html


def test_a_refused_upload_says_why_next_to_its_entry_and_keeps_nothing(client, session, project):
    login(client, "ent")
    page = f"/projects/{project.id}/materials"
    before = snapshot(session)
    response = post(client, page, {"name": "申请表", "file": (io.BytesIO(b"just some text"), "申请表.pdf")},
                    token_from=page, content_type="multipart/form-data")
    assert response.status_code == 415
    html = text(response)
    card = entry_html(html, "申请表")
    assert "不支持的文件类型" in card and 'class="error upload-error"' in card
    assert "不支持的文件类型" not in entry_html(html, "土地出让合同")
    # the form posts to the entry's anchor, so the browser comes back to it after the error; the query names
    # it for a refusal the form cannot be rendered again for (an upload over the size limit, #13.4)
    key = entry_key(html, "申请表")
    assert f'action="{page}?field={key}#{key}"' in card
    no_file = post(client, page, {"name": "申请表"}, token_from=page, content_type="multipart/form-data")
    assert no_file.status_code == 400 and "请选择要上传的文件" in entry_html(text(no_file), "申请表")
    assert snapshot(session) == before


def test_agent_prereviews_all_in_one_form_and_returns_reach_the_enterprise_once(client, session, hall, now, project):
    filed(session, now, hall, project, "项目备案申请表", "企业营业执照", "节能报告")
    login(client, "agent")
    page = f"/projects/{project.id}/materials"
    html = text(client.get(page))
    assert 'id="prereview"' in html and 'form="prereview"' in entry_html(html, "节能报告")
    names = re.findall(r'name="(decisions-\d+)-name"[^>]*value="([^"]+)"', html)
    assert {n for _, n in names} == {"项目备案申请表", "企业营业执照", "节能报告"}
    body = {}
    for prefix, name in names:
        body[f"{prefix}-name"] = name
        body[f"{prefix}-decision"] = "accept" if name == "项目备案申请表" else "return"
        body[f"{prefix}-reason"] = {"企业营业执照": "副本不清晰", "节能报告": "缺少签章"}.get(name, "")
    response = post(client, f"/projects/{project.id}/prereview", body, token_from=page)
    assert response.status_code == 302
    rows = {r.name: r for r in session.scalars(select(ProjectMaterial))}
    assert rows["项目备案申请表"].status == "accepted"
    assert (rows["企业营业执照"].status, rows["企业营业执照"].reason) == ("returned", "副本不清晰")
    assert (rows["节能报告"].status, rows["节能报告"].reason) == ("returned", "缺少签章")
    messages = session.scalars(select(Message).where(Message.user_id == hall["ent"].id,
                                                     Message.subject.like("材料预审退回%"))).all()
    assert len(messages) == 1 and "副本不清晰" in messages[0].body and "缺少签章" in messages[0].body
    after = text(client.get(page))
    assert "1项通过，2项退回" in after
    project_page = text(client.get(f"/projects/{project.id}"))
    assert "材料预审：“项目备案申请表”通过" in project_page  # on the timeline, in words


def test_a_return_without_reason_saves_nothing_and_keeps_what_was_typed(client, session, hall, now, project):
    filed(session, now, hall, project, "项目备案申请表", "企业营业执照")
    login(client, "agent")
    page = f"/projects/{project.id}/materials"
    names = dict((n, p) for p, n in re.findall(r'name="(decisions-\d+)-name"[^>]*value="([^"]+)"',
                                               text(client.get(page))))
    a, b = names["项目备案申请表"], names["企业营业执照"]
    before = snapshot(session)
    response = post(client, f"/projects/{project.id}/prereview", {
        f"{a}-name": "项目备案申请表", f"{a}-decision": "return", f"{a}-reason": "  ",
        f"{b}-name": "企业营业执照", f"{b}-decision": "return", f"{b}-reason": "印章模糊"}, token_from=page)
    assert response.status_code == 400
    assert snapshot(session) == before
    html = text(response)
    assert "退回须写明原因" in entry_html(html, "项目备案申请表")
    assert "退回须写明原因" not in entry_html(html, "企业营业执照")
    kept = entry_html(html, "企业营业执照")
    assert "印章模糊</textarea>" in kept and re.search(r'value="return"[^>]*checked|checked[^>]*value="return"', kept)
    nothing = post(client, f"/projects/{project.id}/prereview", {f"{a}-name": "项目备案申请表"}, token_from=page)
    assert nothing.status_code == 400 and "请至少对一项材料" in text(nothing)
    assert snapshot(session) == before


def test_another_party_gets_404_on_the_checklist_and_its_history(client, session, hall, now, project):
    filed(session, now, hall, project, "申请表")
    for who in ("ent2", "zj_a", "agent2"):
        login(client, who)
        assert client.get(f"/projects/{project.id}/materials").status_code == 404, who
        assert client.get(f"/projects/{project.id}/materials/history").status_code == 404, who
    login(client, "ent2")
    before = snapshot(session)
    response = post(client, f"/projects/{project.id}/materials", {"name": "申请表", "file": (
        io.BytesIO(PDF_BYTES), "x.pdf")}, token_from="/projects", content_type="multipart/form-data")
    assert response.status_code == 404 and snapshot(session) == before
    login(client, "director")
    assert client.get(f"/projects/{project.id}/materials").status_code == 200
    assert count(session, MaterialFile) == 1
