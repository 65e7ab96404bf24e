"""Comments on a task over the API (#13.3), on SQLite and PostgreSQL: who writes, who reads, mentions,
attachments, the timeline and the audit."""
import io

from sqlalchemy import select

from agency.audit.models import AuditEvent
from agency.comments.models import TaskComment
from agency.notifications.models import Message
from tests.support import PDF_BYTES


def comment(journey, who, task_id, status=201, **body):
    return journey.call(who, "post", f"/tasks/{task_id}/comments", status, json={"internal": True, **body})


def test_a_liaison_and_the_agent_talk_and_the_enterprise_reads_only_the_public_ones(journey, dispatched, session):
    task = dispatched["fgw"]["id"]
    internal = comment(journey, "fgw_a", task, body="申请表第三页缺少盖章，请代办员核实")
    public = comment(journey, "agent", task, body="已联系企业补盖公章", internal=False)
    assert internal["internal"] is True and internal["author_role"] == "liaison" and internal["attachment"] is None
    assert public["internal"] is False and public["author_role"] == "agent"

    assert [c["id"] for c in journey.call("agent", "get", f"/tasks/{task}/comments")] == [internal["id"], public["id"]]
    assert [c["id"] for c in journey.call("director", "get", f"/tasks/{task}/comments")] == [internal["id"],
                                                                                                public["id"]]
    assert [c["id"] for c in journey.call("ent", "get", f"/tasks/{task}/comments")] == [public["id"]]
    rows = session.scalars(select(TaskComment).order_by(TaskComment.id)).all()
    assert [(r.task_id, r.internal, r.body) for r in rows] == [(task, True, "申请表第三页缺少盖章，请代办员核实"),
                                                               (task, False, "已联系企业补盖公章")]


def test_only_the_departments_liaisons_the_carrying_agent_and_the_director_write(journey, dispatched):
    task = dispatched["fgw"]["id"]
    answer = journey.as_("ent").post(f"/tasks/{task}/comments", json={"body": "你好", "internal": False})
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "forbidden"
    other = journey.as_("zrgh_a").post(f"/tasks/{task}/comments", json={"body": "你好", "internal": True})
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "not_found"
    assert journey.as_("zrgh_a").get(f"/tasks/{task}/comments").status_code == 404
    stranger = journey.as_("agent2").post(f"/tasks/{task}/comments", json={"body": "你好", "internal": True})
    assert stranger.status_code == 404
    assert comment(journey, "director", task, body="请加快办理")["author_role"] == "director"
    assert comment(journey, "fgw_b", task, body="B角已知悉")["author_role"] == "liaison"


def test_bad_input_has_the_error_shape(journey, dispatched):
    task = dispatched["fgw"]["id"]
    for body in ({"body": "   ", "internal": True}, {"body": "x"}, {"body": "x" * 4001, "internal": False},
                 {"internal": True}):
        answer = journey.as_("agent").post(f"/tasks/{task}/comments", json=body)
        assert answer.status_code == 400, body
        assert answer.get_json()["error"]["code"] == "bad_input"
    assert journey.call("agent", "get", f"/tasks/{task}/comments") == []


def test_mentions_tell_those_who_may_read_the_comment_once(journey, dispatched, session, hall):
    task = dispatched["fgw"]["id"]
    body = "@fgw_b @ent @zrgh_a @director @nobody 请看申请表"
    made = comment(journey, "agent", task, body=body)  # internal: the enterprise may not read it
    assert made["mentions"] == ["fgw_b", "director"]
    told = session.execute(select(Message.user_id, Message.link).where(Message.body == body)).all()
    assert sorted(told) == sorted([(hall["fgw_b"].id, f"/tasks/{task}"), (hall["director"].id, f"/tasks/{task}")])

    public = comment(journey, "fgw_a", task, body="@ent 请补充盖章页；@agent 知悉", internal=False)
    assert public["mentions"] == ["ent", "agent"]
    links = dict(session.execute(select(Message.user_id, Message.link).where(Message.body == public["body"])).all())
    assert links == {hall["ent"].id: f"/projects/{dispatched['project']}#comments", hall["agent"].id: f"/tasks/{task}"}
    assert session.scalar(select(Message).where(Message.user_id == hall["ent"].id, Message.body == body)) is None


def test_an_internal_attachment_is_the_hall_and_departments_only(journey, dispatched):
    task = dispatched["fgw"]["id"]
    made = journey.call("fgw_a", "post", f"/tasks/{task}/comments", 201, content_type="multipart/form-data",
                        data={"body": "审查意见初稿", "internal": "true",
                              "file": (io.BytesIO(PDF_BYTES), "意见初稿.pdf")})
    attachment = made["attachment"]
    assert attachment["filename"] == "意见初稿.pdf" and attachment["content_type"] == "application/pdf"
    url = attachment["download_url"].removeprefix("/api/v1")
    for who in ("fgw_a", "agent", "director"):
        answer = journey.as_(who).get(url)
        assert answer.status_code == 200 and answer.data == PDF_BYTES, who
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    for who in ("ent", "zrgh_a", "agent2"):
        assert journey.as_(who).get(url).status_code == 404, who
    public = journey.call("agent", "post", f"/tasks/{task}/comments", 201, content_type="multipart/form-data",
                          data={"body": "给企业的样表", "internal": "false", "file": (io.BytesIO(PDF_BYTES), "样表.pdf")})
    assert journey.as_("ent").get(public["attachment"]["download_url"].removeprefix("/api/v1")).data == PDF_BYTES


def test_an_upload_is_checked_as_materials_are(journey, dispatched, session):
    task = dispatched["fgw"]["id"]
    fake = journey.as_("agent").post(f"/tasks/{task}/comments", content_type="multipart/form-data",
                                     data={"body": "附件", "internal": "true", "file": (io.BytesIO(b"MZ\x90\x00"), "x.pdf")})
    assert fake.status_code == 415 and fake.get_json()["error"]["code"] == "unsupported_media_type"
    assert session.scalar(select(TaskComment)) is None


def test_the_timeline_and_the_audit_show_each_comment_to_its_readers(journey, dispatched, session):
    task, project = dispatched["fgw"]["id"], dispatched["project"]
    comment(journey, "fgw_a", task, body="内部核实事项")
    comment(journey, "agent", task, body="公开答复企业", internal=False)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "task.commented")
                             .order_by(AuditEvent.seq)).all()
    assert [(e.after["task_id"], e.after["internal"]) for e in events] == [(task, True), (task, False)]

    def said(who):
        return [e["detail"] for e in journey.call(who, "get", f"/projects/{project}/timeline")
                if e["action"] == "task.commented"]
    assert len(said("agent")) == len(said("fgw_a")) == len(said("director")) == 2
    assert len(said("ent")) == 1 and "公开答复企业" in said("ent")[0]
    assert said("zrgh_a") == []  # another department's task
