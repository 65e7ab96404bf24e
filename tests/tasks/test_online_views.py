"""The liaison's task page in the online journey: the shared checklist files, the result of a consent, its PDF."""
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from agency.materials.models import ProjectMaterial
from agency.results.models import TaskResult
from agency.extensions import limiter
from tests.pages import login, page_client, post, text
from tests.support import PDF_BYTES
from tests.tasks import app, hall, hall_template, shared_app, snapshot, start  # noqa: F401  (fixtures)


@pytest.fixture
def client(app):  # noqa: F811
    """A signed-out page client; the shared app\'s login rate limit starts afresh (a test signs in often)."""
    limiter.reset()
    return page_client(app)


@pytest.fixture
def tasks(session, hall, clock, now):  # noqa: F811
    """IND_PERMIT stage 1 dispatched (ready_for_dispatch filed and accepted every material): {item code: task}."""
    clock.set(now)
    _, dispatched = start(session, now, hall)
    return {t.item.code: t for t in dispatched}


def test_liaison_sees_the_tasks_materials_as_shared_files_with_links(client, session, tasks):
    task = tasks["ZRGH-02"]
    login(client, "zrgh_a")
    html = text(client.get(f"/tasks/{task.id}"))
    section = re.search(r'<section class="card task-materials".*?</section>', html, re.S).group(0)
    shared = session.scalars(select(ProjectMaterial).where(ProjectMaterial.name == "申请表")).one()
    assert "申请表" in section and "预审通过" in section
    assert f'href="/materials/{shared.file.id}"' in section and shared.file.sha256[:12] in section
    assert "项目备案申请表" not in section  # FGW-01's material, not this task's
    download = client.get(f"/materials/{shared.file.id}")
    assert download.status_code == 200 and download.data == PDF_BYTES
    login(client, "fgw_a")  # a department whose tasks do not need 申请表
    assert client.get(f"/materials/{shared.file.id}").status_code == 404


def test_answer_with_result_fields_stores_the_result(client, session, tasks):
    task = tasks["FGW-01"]
    login(client, "fgw_a")
    page = f"/tasks/{task.id}"
    html = text(client.get(page))
    assert 'name="result_kind"' in html and 'name="result_number"' in html and 'name="result_issued_on"' in html
    assert 'src="/static/js/answer.js"' in html
    before = snapshot(session)
    refused = post(client, f"{page}/answer", {"decision": "refuse", "opinion": "不符合产业政策",
                                              "result_kind": "licence", "result_number": "X-1"}, token_from=page)
    assert refused.status_code == 400 and "不予办理不出具办理结果" in text(refused)
    assert 'value="X-1"' in text(refused) and snapshot(session) == before
    response = post(client, f"{page}/answer", {"decision": "consent", "opinion": "", "result_kind": "filing",
                                               "result_number": "备案〔2026〕18号", "result_issued_on": "2026-11-23"},
                    token_from=page)
    assert response.status_code == 302
    result = session.scalars(select(TaskResult).where(TaskResult.task_id == task.id)).one()
    assert (result.kind, result.number, result.issued_on) == ("filing", "备案〔2026〕18号", date(2026, 11, 23))
    html = text(client.get(page))
    assert "备案〔2026〕18号" in html and 'action="/tasks/%d/result-file?field=result#result"' % task.id in html


def test_liaison_uploads_the_electronic_result_pdf(client, session, app, tasks):  # noqa: F811
    task = tasks["FGW-01"]
    login(client, "fgw_a")
    page = f"/tasks/{task.id}"
    post(client, f"{page}/answer", {"decision": "consent", "result_kind": "licence", "result_number": "许可001"},
         token_from=page)
    before = snapshot(session)
    png = post(client, f"{page}/result-file", {"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64), "证照.png")},
               token_from=page, content_type="multipart/form-data")
    assert png.status_code == 415 and "电子证照须为 PDF 文件" in text(png)
    assert snapshot(session) == before
    response = post(client, f"{page}/result-file", {"file": (io.BytesIO(PDF_BYTES), "许可证.pdf")}, token_from=page,
                    content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("#result")
    session.expire_all()
    result = session.scalars(select(TaskResult).where(TaskResult.task_id == task.id)).one()
    assert result.filename == "许可证.pdf" and result.sha256 and result.content_type == "application/pdf"
    assert "许可证.pdf" in text(client.get(page))
    login(client, "zrgh_a")  # another department's liaison
    assert post(client, f"{page}/result-file", {"file": (io.BytesIO(PDF_BYTES), "x.pdf")}, token_from="/tasks/inbox",
                content_type="multipart/form-data").status_code == 404
