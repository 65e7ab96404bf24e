"""In Chromium: the online journey (R14, R16).  The enterprise files its checklist on a phone, the agent
pre-reviews at desktop width (one return with its reason, the rest accepted), the liaison issues a licence
with its PDF, and the enterprise downloads it.  Screenshots of each page at both widths, in Chinese and English."""
import re
import shutil

import pytest

from agency.audit.services import Actor
from tests import browser_support
from tests.browser_support import DESKTOP, PHONE, screenshot, sign_in
from tests.support import PASSWORD, PDF_BYTES

pytestmark = pytest.mark.browser

FILED = ["项目备案申请表", "企业营业执照", "节能报告"]


@pytest.fixture(scope="module")
def hall_server(sqlite_template, tmp_path_factory):
    """The sample hall (tests.support.build_hall) with two projects of ``ent`` carried by ``agent``, served live:
    A with nothing filed yet, B whose stage 1 is dispatched (every material filed once and accepted)."""
    from agency import clock
    from agency.extensions import db
    from agency.projects.services import dispatch_stage, entrust_project
    from tests.support import ENTRUST, build_hall, make_app, ready_for_dispatch

    folder = tmp_path_factory.mktemp("online")
    path = folder / "agency.db"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}", folder, LOGIN_RATE_LIMIT="1000 per minute")
    with app.app_context():
        now = clock.now()
        people = build_hall(db.session, now)
        a = entrust_project(db.session, now, people["agent"], **{**ENTRUST, "enterprise_id": people["ent"].id})
        b = entrust_project(db.session, now, people["agent"], **{**ENTRUST, "name": "精密机床二期",
                                                                 "enterprise_id": people["ent"].id})
        db.session.commit()
        ready_for_dispatch(db.session, now, b)
        _, tasks = dispatch_stage(db.session, now, Actor.of(people["agent"]), b, ["FGW-01", "ZRGH-01"])
        db.session.commit()
        ids = {"a": a.id, "b": b.id, "fgw01": next(t.id for t in tasks if t.item.code == "FGW-01")}
        db.session.remove()
    server = browser_support.LiveServer(app).start()
    yield server, ids
    server.stop()
    with app.app_context():
        db.engine.dispose()


EXPECTED = re.compile(r"Failed to load resource: .* status of (400|415|422) ")  # the refused forms the test posts


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not EXPECTED.match(message.text) else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def switch_language(page, expected: str) -> None:
    page.locator(".lang-switch button").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang").startswith(expected)


def shoot(page, name: str) -> None:
    """Screenshots of the page at phone and desktop width, in Chinese and in English (then back to Chinese);
    at phone width nothing may scroll sideways."""
    start = page.viewport_size
    for lang in ("zh", "en"):
        for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(viewport)
            if width == "phone":
                assert fits_width(page), f"{name} ({lang}) scrolls sideways at phone width"
            screenshot(page, f"online-{name}-{width}-{lang}")
        switch_language(page, "en" if lang == "zh" else "zh")
    page.set_viewport_size(start)


def entry(page, name: str):
    return page.locator("li.entry", has=page.locator("h2.entry-name", has_text=re.compile(f"^{name}$")))


def test_file_prereview_and_download_a_licence(hall_server, open_page, tmp_path):
    server, ids = hall_server
    checklist = server(f"/projects/{ids['a']}/materials")

    # The enterprise files three materials of its checklist on a phone, one at a time.
    ent = open_page(PHONE)
    errors = watch_console(ent)
    sign_in(ent, server, "ent", PASSWORD)
    ent.goto(checklist)
    assert entry(ent, "申请表").locator(".badge").first.inner_text() == "待上传"
    assert fits_width(ent)
    wrong = tmp_path / "营业执照.pdf"
    wrong.write_bytes(b"not a pdf at all")
    card = entry(ent, "企业营业执照")
    card.locator("input[type=file]").set_input_files(str(wrong))
    card.get_by_role("button", name="上传", exact=True).click()
    ent.wait_for_load_state()
    assert "不支持的文件类型" in entry(ent, "企业营业执照").locator(".upload-error").inner_text()
    assert ent.evaluate("location.hash").startswith("#entry-")  # back at the entry, not the top of the page
    screenshot(ent, "online-checklist-upload-error-phone-zh", full_page=False)
    for name in FILED:
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(PDF_BYTES)
        card = entry(ent, name)
        card.locator("input[type=file]").set_input_files(str(pdf))
        card.get_by_role("button", name="上传", exact=True).click()
        ent.wait_for_load_state()
        assert ent.locator(".flash-success").is_visible()
        assert entry(ent, name).locator(".entry-file a").inner_text() == f"{name}.pdf"
        assert entry(ent, name).locator(".badge").first.inner_text() == "待预审"
    shoot(ent, "checklist-enterprise")

    # The agent pre-reviews at desktop width: a return needs its reason, then one return and two accepts.
    agent = open_page(DESKTOP)
    agent_errors = watch_console(agent)
    sign_in(agent, server, "agent", PASSWORD)
    agent.goto(checklist)
    shoot(agent, "prereview-agent")
    entry(agent, "企业营业执照").get_by_label("退回", exact=True).check()
    entry(agent, "节能报告").locator("textarea").fill("草稿")
    agent.get_by_role("button", name="提交预审结果").click()
    agent.wait_for_load_state()
    assert "退回须写明原因" in entry(agent, "企业营业执照").locator(".reason-error").inner_text()
    assert entry(agent, "企业营业执照").get_by_label("退回", exact=True).is_checked()  # the choice is kept
    assert entry(agent, "节能报告").locator("textarea").input_value() == "草稿"  # and what was typed
    screenshot(agent, "online-prereview-error-desktop-zh")
    entry(agent, "企业营业执照").locator("textarea").fill("营业执照副本已过期，请上传最新副本")
    entry(agent, "节能报告").locator("textarea").fill("")
    for name in ("项目备案申请表", "节能报告"):
        entry(agent, name).get_by_label("通过", exact=True).check()
    screenshot(agent, "online-prereview-filled-desktop-zh")
    agent.get_by_role("button", name="提交预审结果").click()
    agent.wait_for_load_state()
    assert "2项通过，1项退回" in agent.locator(".flash-success").inner_text()
    assert entry(agent, "企业营业执照").locator(".badge").first.inner_text() == "已退回"
    assert entry(agent, "节能报告").locator(".badge").first.inner_text() == "预审通过"
    assert agent.locator("li.entry .prereview-choice").count() == 0
    shoot(agent, "checklist-after-prereview")

    # A dispatch now is refused, in words: the agreement, the project code and the missing materials by name.
    agent.goto(server(f"/projects/{ids['a']}"))
    agent.locator("form.dispatch button[type=submit]").click()
    agent.wait_for_load_state()
    refusal = agent.locator(".dispatch-refusal")
    assert "委托代办协议尚未签署" in refusal.inner_text() and "尚未登记项目代码" in refusal.inner_text()
    assert refusal.get_by_role("link", name="企业营业执照").is_visible()
    screenshot(agent, "online-dispatch-refused-desktop-zh")
    agent.set_viewport_size(PHONE)
    assert fits_width(agent)
    screenshot(agent, "online-dispatch-refused-phone-zh")
    agent.set_viewport_size(DESKTOP)

    # The enterprise reads the return next to its entry.
    ent.goto(checklist)
    returned = entry(ent, "企业营业执照")
    assert "营业执照副本已过期" in returned.locator(".return-reason").inner_text()
    assert returned.locator(".badge").first.inner_text() == "已退回"

    # The liaison consents with a licence and attaches its PDF.
    liaison = open_page(DESKTOP)
    liaison_errors = watch_console(liaison)
    sign_in(liaison, server, "fgw_a", PASSWORD)
    liaison.goto(server(f"/tasks/{ids['fgw01']}"))
    assert liaison.locator(".task-materials a", has_text="项目备案申请表.pdf").is_visible()
    liaison.select_option("select[name=decision]", "refuse")
    assert liaison.locator("[data-result-fields]").is_hidden()  # answer.js: no result for a refusal
    liaison.select_option("select[name=decision]", "consent")
    liaison.select_option("select[name=result_kind]", "licence")
    liaison.fill("input[name=result_number]", "备案证〔2026〕0018号")
    liaison.get_by_role("button", name="提交答复").click()
    liaison.wait_for_load_state()
    licence = tmp_path / "项目备案证明.pdf"
    licence.write_bytes(PDF_BYTES)
    liaison.locator(".result-file-form input[type=file]").set_input_files(str(licence))
    liaison.get_by_role("button", name="上传电子证照").click()
    liaison.wait_for_load_state()
    assert "项目备案证明.pdf" in liaison.locator(".result-file").inner_text()
    shoot(liaison, "task-liaison")

    # The enterprise downloads the licence from its project page.
    ent.goto(server(f"/projects/{ids['b']}"))
    row = ent.locator("tr.result", has_text="企业投资项目备案")
    assert "备案证〔2026〕0018号" in row.inner_text() and "可送达" in row.inner_text()
    ent.locator("#results").scroll_into_view_if_needed()
    with ent.expect_download() as download:
        row.get_by_role("link", name=re.compile("下载")).click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF_BYTES and download.value.suggested_filename == "项目备案证明.pdf"
    shoot(ent, "project-results-enterprise")
    assert errors == [] and agent_errors == [] and liaison_errors == []
