"""The conversation on the task page (#13.3) and uploads refused for their size on pages (#13.4)."""
import io
import re

from sqlalchemy import select

from agency.comments.models import TaskComment
from agency.notifications.models import Message
from tests.pages import login, page_client, post, text
from tests.support import PDF_BYTES


def comment_html(page: str, comment_id: int) -> str:
    return re.search(rf'<li class="comment[^"]*" id="comment-{comment_id}">.*?</li>', page, re.S).group(0)


def test_a_liaison_comments_on_the_task_page_and_the_enterprise_reads_only_the_public_ones(app, dispatched, session,
                                                                                          hall):
    client = page_client(app)
    task, project = dispatched["fgw"]["id"], dispatched["project"]
    login(client, "fgw_a")
    page = f"/tasks/{task}"
    assert 'class="comment-form"' in text(client.get(page))
    internal = post(client, f"{page}/comments", {"body": "@agent 申请表缺盖章页，请核实", "visibility": "internal"},
                    token_from=page)
    assert internal.status_code == 302
    public = post(client, f"{page}/comments", {"body": "@ent 请补盖公章后重新上传", "visibility": "public",
                                                "file": (io.BytesIO(PDF_BYTES), "盖章示例.pdf")},
                  token_from=page, content_type="multipart/form-data")
    assert public.status_code == 302
    first, second = session.scalars(select(TaskComment).order_by(TaskComment.id)).all()
    assert internal.headers["Location"].endswith(f"#comment-{first.id}")
    assert (first.internal, second.internal, second.filename) == (True, False, "盖章示例.pdf")
    html = text(client.get(page))
    assert "申请表缺盖章页" in comment_html(html, first.id) and "内部" in comment_html(html, first.id)
    assert "盖章示例.pdf" in comment_html(html, second.id)
    assert session.scalar(select(Message.link).where(Message.user_id == hall["agent"].id,
                                                      Message.body.like("%缺盖章页%"))) == page
    assert session.scalar(select(Message.link).where(Message.user_id == hall["ent"].id)) \
        == f"/projects/{project}#comments"

    login(client, "ent")
    for path in (f"/projects/{project}", page):
        seen = text(client.get(path))
        assert "请补盖公章后重新上传" in seen and "缺盖章页" not in seen, path
        assert 'class="comment-form"' not in seen
    assert client.get(f"/comments/{first.id}/attachment").status_code == 404
    assert client.get(f"/comments/{second.id}/attachment").data == PDF_BYTES

    login(client, "zrgh_a")  # another department's liaison
    assert client.get(page).status_code == 404
    assert client.get(f"/comments/{second.id}/attachment").status_code == 404


def test_a_refused_comment_keeps_what_was_typed(app, dispatched, session):
    client = page_client(app)
    task = dispatched["fgw"]["id"]
    login(client, "agent")
    page = f"/tasks/{task}"
    empty = post(client, f"{page}/comments", {"body": "  ", "visibility": "public"}, token_from=page)
    assert empty.status_code == 400 and "请填写留言内容" in text(empty)
    assert re.search(r'<input[^>]*checked[^>]*value="public"|<input[^>]*value="public"[^>]*checked', text(empty))
    fake = post(client, f"{page}/comments", {"body": "附上说明", "visibility": "public",
                                              "file": (io.BytesIO(b"<html>x</html>"), "说明.pdf")},
                token_from=page, content_type="multipart/form-data")
    html = text(fake)
    assert fake.status_code == 415 and "不支持的文件类型" in html and "附上说明</textarea>" in html
    assert session.scalar(select(TaskComment)) is None


def test_an_upload_over_the_size_limit_comes_back_to_its_form(app, dispatched, session):
    client = page_client(app)
    task, project = dispatched["fgw"]["id"], dispatched["project"]
    app.config.update(MAX_UPLOAD_BYTES=1024, MAX_CONTENT_LENGTH=2048)
    login(client, "agent")
    page = f"/tasks/{task}"
    big = (io.BytesIO(b"%PDF-1.4\n" + b"0" * 4096), "大文件.pdf")
    answer = post(client, f"{page}/comments?field=comment-form", {"body": "附件太大", "visibility": "internal",
                                                                  "file": big},
                  token_from=page, content_type="multipart/form-data", headers={"Referer": f"http://localhost{page}"})
    assert answer.status_code == 303 and answer.headers["Location"] == f"{page}#comment-form"
    html = text(client.get(page))
    form = re.search(r'<form[^>]*class="comment-form".*?</form>', html, re.S).group(0)
    assert "文件过大：每个文件不能超过 1 KB" in form  # the limit as people say it
    assert "文件过大" in form and 'role="alert"' in form
    assert "文件过大" not in text(client.get(page))  # said once
    assert session.scalar(select(TaskComment)) is None

    checklist = f"/projects/{project}/materials"
    html = text(client.get(checklist))
    key = re.search(r'action="[^"]*\?field=(entry-\d+)#', html).group(1)
    answer = post(client, f"{checklist}?field={key}", {"name": "x", "file": (io.BytesIO(b"0" * 4096), "x.pdf")},
                  token_from=checklist, content_type="multipart/form-data",
                  headers={"Referer": f"http://localhost{checklist}"})
    assert answer.status_code == 303 and answer.headers["Location"] == f"{checklist}#{key}"
    entry = re.search(rf'<li class="card entry[^"]*" id="{key}">.*?</li>', text(client.get(checklist)), re.S).group(0)
    assert "文件过大" in entry

    api = client.post(f"/api/v1/projects/{project}/materials", data={"file": (io.BytesIO(b"0" * 4096), "x.pdf")},
                      content_type="multipart/form-data")
    assert api.status_code in (401, 413)  # the API keeps its own shape
    assert api.get_json()["error"]["code"] in ("unauthorized", "too_large")
