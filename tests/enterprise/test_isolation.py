"""Isolation: another enterprise gets 404 on every page and API call of the enterprise side."""
from sqlalchemy import func, select

from agency.enterprise.models import Complaint, Rating
from agency.tasks.models import MaterialFile
from tests.enterprise.conftest import PDF, file_part


def _setup(world):
    """ent's world: a completed project with a dissatisfied rating (notice), a project in supplement with a file,
    and a complaint."""
    done = world.completed_project()
    world.as_("ent").post(f"/projects/{done['id']}/rating", json={"level": 2, "department_code": "BDC"})
    notice = world.as_("ent").get("/notices").get_json()[0]
    running = world.entrust()
    task = next(t for t in world.dispatch(running["id"]) if t["item"] == "ZRGH-02")
    world.supplement(task, ["土地出让合同", "规划条件"])
    upload = world.as_("ent").post(f"/tasks/{task['id']}/materials", content_type="multipart/form-data",
                                   data={"material": "土地出让合同", "file": file_part(PDF, "a.pdf")})
    assert upload.status_code == 201
    complaint = world.as_("ent").post("/complaints", json={"project_id": running["id"], "text": "投诉"}).get_json()
    return {"done": done, "running": running, "task": task, "file": upload.get_json(), "notice": notice,
            "complaint": complaint}


def test_api_isolation(world, session):
    ids = _setup(world)
    other = world.as_("ent2")
    done, running, task = ids["done"]["id"], ids["running"]["id"], ids["task"]["id"]
    calls = [
        ("get", f"/projects/{running}/contact-card", None),
        ("get", f"/projects/{running}/contact-card?format=png", None),
        ("get", f"/projects/{running}/contact-card?format=html", None),
        ("post", f"/projects/{done}/rating", {"level": 5}),
        ("post", f"/projects/{done}/rating", {"level": 1, "department_code": "BDC"}),
        ("get", f"/projects/{done}/ratings", None),
        ("get", f"/tasks/{task}/materials", None),
        ("get", f"/materials/{ids['file']['id']}", None),
        ("get", f"/notices/{ids['notice']['id']}", None),
        ("post", "/complaints", {"project_id": running, "text": "冒名投诉"}),
        ("get", f"/complaints/{ids['complaint']['id']}", None),
        ("get", f"/projects/{running}", None),
        ("get", f"/projects/{running}/timeline", None),
        ("post", f"/projects/{running}/withdraw", {"reason": "冒名撤回"}),
    ]
    for method, path, body in calls:
        response = getattr(other, method)(path, **({"json": body} if body is not None else {}))
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
    upload = other.post(f"/tasks/{task}/materials", content_type="multipart/form-data",
                        data={"material": "规划条件", "file": file_part(PDF, "b.pdf")})
    assert upload.status_code == 404
    assert other.get("/notices").get_json() == []
    assert other.get("/complaints").get_json() == []
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Rating)) == 1
    assert session.scalar(select(func.count()).select_from(Complaint)) == 1
    assert session.scalar(select(func.count()).select_from(MaterialFile).where(MaterialFile.task_id.is_not(None))) == 1
    assert world.as_("ent").get(f"/projects/{running}").get_json()["status"] == "in_progress"


def test_page_isolation(world, client, login, csrf_token, session):
    ids = _setup(world)
    done, running, task = ids["done"]["id"], ids["running"]["id"], ids["task"]["id"]
    login("ent2")
    token = csrf_token("/complaints")
    for path in (f"/projects/{running}", f"/projects/{running}/card", f"/projects/{running}/card/qr.png",
                 f"/materials/{ids['file']['id']}", f"/notices/{ids['notice']['id']}",
                 f"/complaints/{ids['complaint']['id']}", f"/projects/{running}/withdraw"):
        assert client.get(path).status_code == 404, path
    posts = [
        (f"/projects/{done}/rating", {"csrf_token": token, "level": "5"}),
        (f"/projects/{done}/rating", {"csrf_token": token, "level": "1", "department_code": "BDC"}),
        ("/complaints", {"csrf_token": token, "project_id": str(running), "text": "冒名投诉"}),
        (f"/projects/{running}/withdraw", {"csrf_token": token, "reason": "冒名", "confirm": "yes"}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 404, path
    upload = client.post(f"/tasks/{task}/materials", content_type="multipart/form-data",
                         data={"csrf_token": token, "material": "规划条件", "file": file_part(PDF, "b.pdf")})
    assert upload.status_code == 404
    notices = client.get("/notices").get_data(as_text=True)
    assert f"/notices/{ids['notice']['id']}" not in notices
    complaints = client.get("/complaints").get_data(as_text=True)
    assert f"/complaints/{ids['complaint']['id']}" not in complaints and "投诉" in complaints
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Rating)) == 1
    assert session.scalar(select(func.count()).select_from(Complaint)) == 1
    assert session.scalar(select(func.count()).select_from(MaterialFile).where(MaterialFile.task_id.is_not(None))) == 1


def test_tracking_page_is_public_but_the_card_is_not(world, client):
    ids = _setup(world)
    running = world.as_("ent").get(f"/projects/{ids['running']['id']}").get_json()
    assert client.get(f"/track/{running['tracking_code']}").status_code == 200
    assert client.get(f"/projects/{running['id']}/card").status_code == 302  # sign in first


def test_withdraw_two_steps_for_the_owner(world, client, login, csrf_token):
    project = world.entrust()
    world.dispatch(project["id"])
    login("ent")
    token = csrf_token(f"/projects/{project['id']}/withdraw")
    first = client.post(f"/projects/{project['id']}/withdraw", data={"csrf_token": token, "reason": "调整投资计划"})
    assert first.status_code == 200 and "确认撤回" in first.get_data(as_text=True)
    assert world.as_("ent").get(f"/projects/{project['id']}").get_json()["status"] == "in_progress"
    second = client.post(f"/projects/{project['id']}/withdraw",
                         data={"csrf_token": token, "reason": "调整投资计划", "confirm": "yes"})
    assert second.status_code == 302
    detail = world.as_("ent").get(f"/projects/{project['id']}").get_json()
    assert detail["status"] == "terminated" and "调整投资计划" in detail["termination_reason"]
    assert all(t["status"] == "cancelled" for t in detail["tasks"])
