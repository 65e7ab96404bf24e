"""In Chromium, at phone width: an enterprise follows its project (stages, tasks, timeline, contact card),
uploads a material, rates a department, and reads the department's rectification reply."""
import re

import pytest

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, PHONE, screenshot, sign_in

pytestmark = pytest.mark.browser

PROJECT = "年产十万台精密机床项目"  # the demo's project of ent1: FGW has answered, ZRGH asks for materials
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_enterprise_follows_rates_and_reads_the_reply(live_server, open_page, tmp_path):
    ent = open_page(PHONE)
    errors = watch_console(ent)
    sign_in(ent, live_server, "ent1", PASSWORD)

    # Following: my projects -> the project, its stages, tasks with deadlines, and the timeline.
    ent.goto(live_server("/projects"))
    ent.get_by_role("link", name=PROJECT).click()
    ent.wait_for_url(re.compile(r".*/projects/\d+$"))
    project_url = ent.url
    assert ent.locator("main h1").inner_text() == PROJECT
    assert ent.locator("section.stage").first.is_visible()
    assert ent.locator("tr.task").count() == 4
    assert ent.locator("ol.timeline li").count() >= 5
    assert fits_width(ent), "the project page scrolls sideways at phone width"
    screenshot(ent, "enterprise-project-phone")

    # The contact card, with a QR code that loads.
    ent.locator("#contact-card").get_by_role("link", name="查看并打印联系卡").click()
    ent.wait_for_url(re.compile(r".*/card$"))
    assert "李代办" in ent.locator(".contact-card .card-agent").inner_text()
    assert ent.locator(".contact-card .card-qr").evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(ent, "enterprise-contact-card")
    ent.goto(project_url)

    # A material the one-time notice asks for.
    pdf = tmp_path / "出让合同.pdf"
    pdf.write_bytes(PDF)
    form = ent.locator("form.upload-form:has(input[name=material][value='土地出让合同'])")
    form.locator("input[type=file]").set_input_files(str(pdf))
    form.get_by_role("button", name="上传", exact=True).click()
    ent.wait_for_load_state()
    assert ent.locator(".flash-success").is_visible()
    assert ent.locator(".material-file a", has_text="出让合同.pdf").is_visible()

    # Rate the department that has answered: dissatisfied, with a comment.
    rating = ent.locator("#rating-form-fgw")
    rating.locator("input[name=level][value='2']").check()
    rating.locator("textarea[name=comment]").fill("节能审查意见反复修改")
    rating.get_by_role("button", name="提交评价").click()
    ent.wait_for_load_state()
    assert ent.locator(".flash-success").is_visible()
    assert "节能审查意见反复修改" in ent.locator("#rating").inner_text()
    assert ent.locator("#rating-form-fgw").count() == 0  # rated once

    # The department's liaison replies from its notices page.
    liaison = open_page(DESKTOP)
    liaison_errors = watch_console(liaison)
    sign_in(liaison, live_server, "fgw_a", PASSWORD)
    liaison.get_by_role("navigation").get_by_role("link", name="不满意件").click()
    liaison.locator("tr.notice-row a").first.click()
    liaison.locator("textarea[name=text]").fill("已指定专人一次性告知节能审查要求")
    liaison.get_by_role("button", name="提交整改复函").click()
    liaison.wait_for_load_state()
    assert "已指定专人一次性告知节能审查要求" in liaison.locator(".reply-text").inner_text()

    # The enterprise reads the reply on its project page and in its message inbox of notices.
    ent.goto(project_url)
    assert "已指定专人一次性告知节能审查要求" in ent.locator("#rating .reply-text").inner_text()
    ent.locator("#rating").get_by_role("link", name="查看函告").click()
    assert "已指定专人一次性告知节能审查要求" in ent.locator(".reply-text").inner_text()
    assert fits_width(ent)
    screenshot(ent, "enterprise-reads-reply-phone")
    assert errors == [] and liaison_errors == []
