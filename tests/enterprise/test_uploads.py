"""Materials: checks by content, storage outside the web root with a checksum, downloads, clock restart."""
import hashlib
from pathlib import Path

from sqlalchemy import func, select

from agency.tasks.models import MaterialFile
from tests.enterprise.conftest import HTML, PDF, PNG, file_part


def _supplement(world, materials=("土地出让合同", "规划条件")):
    project = world.entrust()
    tasks = world.dispatch(project["id"])
    task = next(t for t in tasks if t["item"] == "ZRGH-02")
    world.supplement(task, list(materials))
    return project, task


def _upload(client, task_id, material, data, name):
    return client.post(f"/tasks/{task_id}/materials", data={"material": material, "file": file_part(data, name)},
                       content_type="multipart/form-data")


def _stored(app) -> list[Path]:
    """Files stored for supplement requests (the checklist's, filed by the dispatch fixture, left out)."""
    from agency.extensions import db
    root = Path(app.config["UPLOAD_DIR"])
    checklist = set(db.session.scalars(select(MaterialFile.storage_key).where(MaterialFile.task_id.is_(None))))
    return [p for p in root.rglob("*") if p.is_file() and p.name not in checklist] if root.exists() else []


def _count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(MaterialFile).where(MaterialFile.task_id.is_not(None)))


def test_good_pdf_is_stored_with_its_checksum_and_listed(world, app, session):
    _, task = _supplement(world)
    response = _upload(world.as_("ent"), task["id"], "土地出让合同", PDF, "出让合同.pdf")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (body["content_type"], body["size"], body["filename"]) == ("application/pdf", len(PDF), "出让合同.pdf")
    [path] = _stored(app)
    assert path.read_bytes() == PDF
    assert path.parent.name == body["sha256"][:2] and "出让合同" not in str(path)
    assert not str(path).startswith(str(Path(app.static_folder)))
    listing = world.as_("zrgh_a").get(f"/tasks/{task['id']}/materials").get_json()
    assert listing["missing"] == ["规划条件"] and [f["id"] for f in listing["files"]] == [body["id"]]


def test_download_is_an_attachment_for_the_allowed_people_only(world):
    _, task = _supplement(world)
    file_id = _upload(world.as_("ent"), task["id"], "土地出让合同", PDF, "出让合同.pdf").get_json()["id"]
    for who in ("ent", "agent", "zrgh_a", "zrgh_b", "director"):
        response = world.as_(who).get(f"/materials/{file_id}")
        assert response.status_code == 200, who
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for who in ("ent2", "agent2", "fgw_a", "zj_a"):
        assert world.as_(who).get(f"/materials/{file_id}").status_code == 404, who
        assert world.as_(who).get(f"/tasks/{task['id']}/materials").status_code == 404, who


def test_too_large_is_413_and_nothing_is_stored(world, app, session):
    _, task = _supplement(world)
    app.config["MAX_UPLOAD_BYTES"] = 1024
    big = PDF + b"0" * 2048
    response = _upload(world.as_("ent"), task["id"], "土地出让合同", big, "big.pdf")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert _stored(app) == [] and _count(session) == 0


def test_html_renamed_pdf_is_415(world, app, session):
    _, task = _supplement(world)
    response = _upload(world.as_("ent"), task["id"], "土地出让合同", HTML, "合同.pdf")
    assert response.status_code == 415
    assert _stored(app) == [] and _count(session) == 0


def test_disguised_extension_and_disallowed_type_are_415(world, app, session):
    _, task = _supplement(world)
    client = world.as_("ent")
    assert _upload(client, task["id"], "土地出让合同", PNG, "scan.pdf").status_code == 415  # a PNG named .pdf
    assert _upload(client, task["id"], "土地出让合同", b"MZ\x90\x00" + b"\x00" * 60, "x.exe").status_code == 415
    assert _upload(client, task["id"], "土地出让合同", b"plain text", "note.txt").status_code == 415
    assert _upload(client, task["id"], "土地出让合同", PDF, "contract.html").status_code == 415
    assert _stored(app) == [] and _count(session) == 0


def test_path_in_the_name_is_400(world, app, session):
    _, task = _supplement(world)
    client = world.as_("ent")
    for name in ("../../etc/passwd.pdf", "..\\evil.pdf", "dir/contract.pdf", "/abs.pdf", "a..b.pdf"):
        response = _upload(client, task["id"], "土地出让合同", PDF, name)
        assert response.status_code == 400, name
    assert _stored(app) == [] and _count(session) == 0


def test_material_must_be_one_of_the_notice_and_only_owner_or_agent_upload(world, app, session):
    _, task = _supplement(world)
    assert _upload(world.as_("ent"), task["id"], "别的材料", PDF, "a.pdf").status_code == 400
    assert _upload(world.as_("ent2"), task["id"], "土地出让合同", PDF, "a.pdf").status_code == 404
    assert _upload(world.as_("agent2"), task["id"], "土地出让合同", PDF, "a.pdf").status_code == 404
    assert _upload(world.as_("zrgh_a"), task["id"], "土地出让合同", PDF, "a.pdf").status_code == 403
    assert _stored(app) == [] and _count(session) == 0


def test_upload_without_an_open_notice_is_409(world):
    project = world.entrust()
    task = world.dispatch(project["id"])[0]
    assert _upload(world.as_("ent"), task["id"], "x", PDF, "a.pdf").status_code == 409


def test_last_missing_material_restarts_the_clock(world, clock):
    _, task = _supplement(world)
    before = world.as_("ent").get(f"/projects/{task['project_id']}").get_json()
    clock.advance(days=2)
    first = _upload(world.as_("ent"), task["id"], "土地出让合同", PDF, "a.pdf")
    assert first.status_code == 201
    assert world.as_("ent").get(f"/tasks/{task['id']}/materials").get_json()["status"] == "supplement"
    second = _upload(world.as_("agent"), task["id"], "规划条件", PNG, "conditions.png")
    assert second.status_code == 201
    after = world.as_("zrgh_a").get(f"/tasks/{task['id']}").get_json()
    assert after["status"] == "accepted"
    old_task = next(t for t in before["tasks"] if t["id"] == task["id"])
    assert after["started_at"] > old_task["started_at"] and after["deadline"] > old_task["deadline"]
    listing = world.as_("ent").get(f"/tasks/{task['id']}/materials").get_json()
    assert listing["missing"] == [] and len(listing["files"]) == 2
    # nothing is waiting any more
    assert _upload(world.as_("ent"), task["id"], "规划条件", PDF, "again.pdf").status_code == 409


def test_upload_page_form(world, client, login, app, csrf_token):
    _, task = _supplement(world)
    login("ent")
    page = client.get(f"/projects/{task['project_id']}").get_data(as_text=True)
    # the form names its anchor, so a refused upload (even over the size limit) comes back to it (#13.4)
    assert f'action="/tasks/{task["id"]}/materials?field=upload-{task["id"]}-' in page
    assert 'enctype="multipart/form-data"' in page
    token = csrf_token(f"/projects/{task['project_id']}")
    response = client.post(f"/tasks/{task['id']}/materials", data={
        "csrf_token": token, "material": "土地出让合同", "file": file_part(PDF, "出让合同.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "出让合同.pdf" in page
    file_id = world.as_("ent").get(f"/tasks/{task['id']}/materials").get_json()["files"][0]["id"]
    download = client.get(f"/materials/{file_id}")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "application/pdf"
    bad = client.post(f"/tasks/{task['id']}/materials", data={
        "csrf_token": token, "material": "规划条件", "file": file_part(HTML, "x.pdf")},
        content_type="multipart/form-data")
    assert bad.status_code == 302
    assert "不支持的文件类型" in client.get(bad.headers["Location"]).get_data(as_text=True)
    assert len(_stored(app)) == 1
