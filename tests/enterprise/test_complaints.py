"""Complaints: filed by the enterprise on its project, assigned and answered with a time limit."""
from sqlalchemy import select

from agency.notifications.models import Message


def test_complaint_flow(world, session):
    project = world.entrust()
    ent = world.as_("ent")
    filed = ent.post("/complaints", json={"project_id": project["id"], "text": "代办员三天没回电话"})
    assert filed.status_code == 201
    complaint = filed.get_json()
    assert complaint["status"] == "open" and complaint["answer"] == ""
    assert [c["id"] for c in world.as_("director").get("/complaints").get_json()] == [complaint["id"]]
    assert world.as_("agent2").get("/complaints").get_json() == []
    directors = session.scalars(select(Message).where(Message.user_id == world.people["director"].id)).all()
    assert any("代办员三天没回电话" in m.body for m in directors)

    assigned = world.as_("director").post(f"/complaints/{complaint['id']}/assign",
                                          json={"assignee_id": world.people["agent2"].id, "due_days": 3})
    assert assigned.status_code == 200
    assert assigned.get_json()["status"] == "assigned"
    assert assigned.get_json()["due"] == "2026-11-26T17:30:00+08:00"  # 3 working days from Monday
    assert [c["id"] for c in world.as_("agent2").get("/complaints").get_json()] == [complaint["id"]]
    assert world.as_("agent").post(f"/complaints/{complaint['id']}/answer", json={"text": "x"}).status_code == 404

    answered = world.as_("agent2").post(f"/complaints/{complaint['id']}/answer",
                                        json={"text": "已调换代办员并致电道歉"})
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"
    assert world.as_("director").post(f"/complaints/{complaint['id']}/answer",
                                      json={"text": "again"}).status_code == 409
    mine = ent.get("/complaints").get_json()
    assert [(c["id"], c["answer"]) for c in mine] == [(complaint["id"], "已调换代办员并致电道歉")]
    told = session.scalars(select(Message).where(Message.user_id == world.people["ent"].id)).all()
    assert any("已调换代办员" in m.body for m in told)


def test_complaint_bad_input(world):
    project = world.entrust()
    ent = world.as_("ent")
    assert ent.post("/complaints", json={"project_id": project["id"], "text": ""}).status_code == 400
    assert ent.post("/complaints", json={"project_id": project["id"]}).status_code == 400
    assert world.as_("agent").post("/complaints", json={"project_id": project["id"], "text": "x"}).status_code == 403
    complaint = ent.post("/complaints", json={"project_id": project["id"], "text": "问题"}).get_json()
    director = world.as_("director")
    assert director.post(f"/complaints/{complaint['id']}/assign",
                         json={"assignee_id": world.people["ent2"].id}).status_code == 400
    assert director.post(f"/complaints/{complaint['id']}/assign",
                         json={"assignee_id": world.people["agent"].id, "due_days": 0}).status_code == 400
    assert world.as_("agent").post(f"/complaints/{complaint['id']}/assign",
                                   json={"assignee_id": world.people["agent"].id}).status_code == 403


def test_complaint_pages(world, client, login, csrf_token):
    project = world.entrust()
    login("ent")
    page = client.get(f"/complaints?project_id={project['id']}")
    assert page.status_code == 200
    token = csrf_token("/complaints")
    response = client.post("/complaints", data={"csrf_token": token, "project_id": project["id"],
                                                "text": "材料被退回两次"})
    assert response.status_code == 302
    complaint_path = response.headers["Location"]
    assert "材料被退回两次" in client.get(complaint_path).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})

    login("director")
    listing = client.get("/complaints").get_data(as_text=True)
    assert "材料被退回两次" in listing
    token = csrf_token(complaint_path)
    complaint_id = int(complaint_path.rstrip("/").rsplit("/", 1)[1])
    assigned = client.post(f"/complaints/{complaint_id}/assign",
                           data={"csrf_token": token, "assignee_id": world.people["director"].id, "due_days": "5"})
    assert assigned.status_code == 302
    answered = client.post(f"/complaints/{complaint_id}/answer", data={"csrf_token": token, "text": "已督促部门一次性告知"})
    assert answered.status_code == 302
    client.post("/logout", data={"csrf_token": token})

    login("ent")
    assert "已督促部门一次性告知" in client.get(complaint_path).get_data(as_text=True)
