"""Joint meetings through the services (R6): invitations, the absence rule branch by branch, minutes,
reschedule and cancel, the sweep, and every bad input changing nothing."""
from datetime import datetime, time, timedelta
from email import message_from_bytes

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from agency.audit.models import AuditEvent
from agency.calendar.services import get_calendar
from agency.errors import BadInput, Forbidden, NotFound, RuleViolation, TransitionNotAllowed
from agency.jobs.models import OutboxJob
from agency.meetings import rules, services
from agency.meetings.models import Invitation, Meeting
from agency.notifications.models import Message
from agency.projects.timeline import timeline
from agency.tasks.models import Task
from tests.meetings.conftest import DUE_BY, MONDAY, SATURDAY, UTC, WEDNESDAY, at

PLACE = "行政服务中心三楼联审室"


def by_code(meeting) -> dict[str, Invitation]:
    return {i.department.code: i for i in meeting.invitations}


def tasks_of(project, code: str) -> list[Task]:
    return [t for t in project.tasks if t.department.code == code]


def inbox(session, user) -> list[str]:
    return list(session.scalars(select(Message.subject).where(Message.user_id == user.id).order_by(Message.id)))


def record_all(session, hall, meeting, when, **entries):
    """entries: code -> dict(present=..., decision=..., opinion=...)."""
    rows = [{"department_code": code, **entry} for code, entry in entries.items()]
    return services.record_attendance(session, when, hall["agent"], meeting, rows)


def absent(**extra):
    return {"present": False, **extra}


def present(decision="consent", opinion="", **extra):
    return {"present": True, "decision": decision, "opinion": opinion, **extra}


AFTER = at(WEDNESDAY, hours=2)  # Wed 11:00 Shanghai: the meeting is over


# -- scheduling and delivery ----------------------------------------------------------------------


def test_schedule_invites_departments_with_open_tasks_through_their_queues(session, hall, project, make_meeting,
                                                                          mail):
    meeting = make_meeting(deliver_at=None)
    invitations = by_code(meeting)
    assert set(invitations) == {"FGW", "ZRGH"}  # the departments with open tasks on the project
    assert meeting.status == "scheduled" and meeting.sequence == 0
    jobs = session.scalars(select(OutboxJob).where(OutboxJob.func == "workers.meetings.deliver_invitation")).all()
    assert sorted(j.queue for j in jobs) == ["dept.FGW", "dept.ZRGH"]
    assert all(i.delivered_at is None and i.duly_invited is None for i in meeting.invitations)


def test_delivery_records_the_time_and_reaches_the_liaison_with_an_ics(session, hall, project, make_meeting, mail):
    meeting = make_meeting(deliver_at=at(MONDAY, hours=1))
    fgw = by_code(meeting)["FGW"]
    assert fgw.delivered_at == at(MONDAY, hours=1) and fgw.duly_invited is True
    assert fgw.liaison_id == hall["fgw_a"].id
    assert any(s.startswith("会议邀请：联审会议") for s in inbox(session, hall["fgw_a"]))
    (email,) = [m for m in mail if m["To"] == "fgw_a@hall.test" and "会议邀请" in m["Subject"]]
    (part,) = [p for p in email.iter_attachments()]
    assert part.get_content_type() == "text/calendar" and part.get_filename() == f"meeting-{meeting.id}.ics"
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == WEDNESDAY
    assert int(event["SEQUENCE"]) == 0
    assert "meeting.invitation_delivered" in [e["action"] for e in timeline(session, project, hall["agent"])]


def test_the_notice_period_is_one_working_day_at_the_same_clock_time(session, app):
    calendar = get_calendar(session)
    assert rules.latest_due_delivery(calendar, WEDNESDAY) == DUE_BY
    monday_next = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Mon 09:00 -> the Friday before, 09:00
    assert rules.latest_due_delivery(calendar, monday_next) == datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    assert rules.is_duly_invited(calendar, WEDNESDAY, DUE_BY)
    assert not rules.is_duly_invited(calendar, WEDNESDAY, DUE_BY + timedelta(seconds=1))
    assert not rules.is_duly_invited(calendar, WEDNESDAY, None)
    app.config["MEETING_NOTICE_WORKING_DAYS"] = 2
    assert rules.latest_due_delivery(calendar, WEDNESDAY) == MONDAY
    # across a holiday: a meeting on Thursday 2026-10-08 needs delivery before the National Day break
    due = rules.latest_due_delivery(calendar, datetime(2026, 10, 8, 1, 0, tzinfo=UTC), days=1)
    assert due.astimezone(UTC).time() == time(1, 0) and calendar.is_working_day(due.date())
    assert due < datetime(2026, 10, 1, tzinfo=UTC)


def test_an_invitation_delivered_late_is_marked_not_duly_invited(session, hall, project, make_meeting):
    meeting = make_meeting(deliver_at=at(DUE_BY, minutes=1))
    assert {c: i.duly_invited for c, i in by_code(meeting).items()} == {"FGW": False, "ZRGH": False}
    assert any("邀请送达晚于通知期限" in s for s in inbox(session, hall["agent"]))


def test_a_site_survey_on_a_weekend_is_allowed_with_a_warning(session, hall, project, make_meeting):
    meeting = make_meeting(kind="site_survey", starts_at=SATURDAY)
    assert meeting.status == "scheduled"
    warnings = rules.meeting_warnings(get_calendar(session), meeting, MONDAY)
    assert any("非工作日" in w for w in warnings)
    assert by_code(meeting)["FGW"].duly_invited is True  # due by Friday 09:00


# -- the absence rule, branch by branch (joint review) ----------------------------------------------


def test_present_department_stance_is_what_it_said(session, hall, project, make_meeting):
    meeting = make_meeting()
    record_all(session, hall, meeting, AFTER, FGW=present("consent_with_conditions", "落实节能措施"),
               ZRGH=present("consent"))
    services.close_meeting(session, AFTER, hall["agent"], meeting, "原则同意")
    fgw = by_code(meeting)["FGW"]
    assert (fgw.stance_source, fgw.decision, fgw.opinion) == ("present", "consent_with_conditions", "落实节能措施")
    # the department answers its tasks itself: nothing is deemed for a present department
    assert {t.status for t in project.tasks} == {"pending"}


def test_absent_with_written_opinion_is_never_deemed(session, hall, project, make_meeting):
    meeting = make_meeting()
    services.submit_opinion(session, at(MONDAY, hours=3), hall["zrgh_a"], meeting, "ZRGH", "objection",
                            "选址与规划条件不符")
    record_all(session, hall, meeting, AFTER, FGW=present(), ZRGH=absent())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "规划部门书面反对，待协调")
    zrgh = by_code(meeting)["ZRGH"]
    assert (zrgh.stance_source, zrgh.decision, zrgh.opinion) == ("written", "objection", "选址与规划条件不符")
    # an objection does not become a refusal unless the department answers its task so
    assert {t.status for t in tasks_of(project, "ZRGH")} == {"pending"}
    assert project.halted_at is None
    assert any(s.startswith("反对意见：自然资源和规划局") for s in inbox(session, hall["agent"]))


def test_absent_duly_invited_is_deemed_and_its_open_tasks_close_with_reason_absence(session, hall, project,
                                                                                    make_meeting):
    meeting = make_meeting()
    record_all(session, hall, meeting, AFTER, FGW=present(), ZRGH=absent())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "原则同意")
    zrgh = by_code(meeting)["ZRGH"]
    assert (zrgh.stance_source, zrgh.decision) == ("deemed", "consent")
    zrgh_tasks = tasks_of(project, "ZRGH")
    assert {(t.status, t.outcome, t.outcome_reason) for t in zrgh_tasks} == {("deemed_consent", "consent", "absence")}
    assert {t.status for t in tasks_of(project, "FGW")} == {"pending"}
    actions = [e["action"] for e in timeline(session, project, hall["agent"])]
    assert actions.count("task.deemed_consent") == len(zrgh_tasks) and "meeting.closed" in actions


def test_absence_never_deems_an_item_whose_law_forbids_deemed_consent(session, hall, project, make_meeting):
    forbidden = next(t for t in tasks_of(project, "ZRGH") if t.item.code == "ZRGH-02")
    forbidden.item.deemed_consent_allowed = False
    session.commit()
    meeting = make_meeting()
    record_all(session, hall, meeting, AFTER, FGW=present(), ZRGH=absent())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "原则同意")
    assert forbidden.status == "pending" and forbidden.outcome is None
    others = [t for t in tasks_of(project, "ZRGH") if t.id != forbidden.id]
    assert others and {t.outcome_reason for t in others} == {"absence"}
    assert "依法不适用默认同意" in meeting.minutes


def test_a_meeting_with_an_unrecorded_department_cannot_be_closed(session, hall, project, make_meeting):
    meeting = make_meeting()
    record_all(session, hall, meeting, AFTER, FGW=present())  # ZRGH never recorded
    session.commit()
    messages = session.scalar(select(func.count()).select_from(Message))
    refused = _refused(session, RuleViolation, lambda: services.close_meeting(
        session, AFTER, hall["agent"], meeting, "原则同意"))
    assert refused.fields == {"unrecorded": ["ZRGH"]} and "ZRGH" in refused.message
    # nothing changed: still open, nothing deemed, no audit event, nobody told
    zrgh = by_code(meeting)["ZRGH"]
    assert (meeting.status, meeting.closed_at, meeting.minutes) == ("held", None, "")
    assert (zrgh.attendance, zrgh.stance_source, zrgh.decision) == (None, None, None)
    assert {t.status for t in tasks_of(project, "ZRGH")} == {"pending"}
    assert session.scalar(select(func.count()).select_from(Message)) == messages
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "meeting.closed")) == 0
    # once the agent records the absence, the rule applies as before
    record_all(session, hall, meeting, AFTER, ZRGH=absent())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "原则同意")
    assert (zrgh.attendance, zrgh.stance_source, zrgh.decision) == ("absent", "deemed", "consent")
    assert {t.outcome_reason for t in tasks_of(project, "ZRGH")} == {"absence"}


def test_the_refusal_names_every_unrecorded_department_even_one_that_confirmed(session, hall, project,
                                                                                make_meeting):
    meeting = make_meeting(codes=["FGW", "ZRGH", "ZJ", "RF"])
    services.confirm_attendance(session, at(MONDAY, hours=2), hall["zj_a"], meeting, "ZJ", "李工")
    session.commit()
    refused = _refused(session, RuleViolation, lambda: services.close_meeting(
        session, AFTER, hall["agent"], meeting, "原则同意"))  # nobody recorded yet
    assert refused.fields == {"unrecorded": ["FGW", "ZRGH", "ZJ", "RF"]}
    record_all(session, hall, meeting, AFTER, FGW=present(), ZRGH=absent())
    session.commit()
    refused = _refused(session, RuleViolation, lambda: services.close_meeting(
        session, AFTER, hall["agent"], meeting, "原则同意"))
    assert refused.fields == {"unrecorded": ["ZJ", "RF"]}
    assert "ZJ" in refused.message and "RF" in refused.message and "FGW" not in refused.message
    zj = by_code(meeting)["ZJ"]
    assert (zj.confirmed_at, zj.representative, zj.attendance, zj.stance_source) == (at(MONDAY, hours=2), "李工",
                                                                                     None, None)
    assert {t.status for t in project.tasks} == {"pending"}


def test_an_unrecorded_invitation_is_never_deemed_by_the_rule(session, hall, project, make_meeting):
    meeting = make_meeting()
    zrgh = by_code(meeting)["ZRGH"]
    assert zrgh.duly_invited is True and zrgh.attendance is None
    assert rules.stance_of(zrgh) == ("none", None, "")
    assert rules.unrecorded(meeting) == list(meeting.invitations)
    zrgh.attendance = "absent"
    assert rules.stance_of(zrgh) == ("deemed", "consent", "")
    zrgh.confirmed_at, zrgh.representative = MONDAY, "王科长"  # a confirmation does not change a recorded absence
    assert rules.stance_of(zrgh) == ("deemed", "consent", "")
    assert rules.unrecorded(meeting) == [by_code(meeting)["FGW"]]


def test_absent_invited_late_is_not_deemed_and_the_agent_is_told_to_invite_again(session, hall, project,
                                                                                 make_meeting):
    meeting = make_meeting(deliver_at=at(DUE_BY, hours=1))
    record_all(session, hall, meeting, AFTER, FGW=present(), ZRGH=absent())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "原则同意")
    zrgh = by_code(meeting)["ZRGH"]
    assert (zrgh.stance_source, zrgh.decision) == ("none", None)
    assert {t.status for t in tasks_of(project, "ZRGH")} == {"pending"}
    assert any(s.startswith("请重新邀请：自然资源和规划局") for s in inbox(session, hall["agent"]))
    assert "需重新邀请" in meeting.minutes


def test_never_delivered_is_not_deemed(session, hall, project, make_meeting):
    meeting = make_meeting(deliver_at=None)
    record_all(session, hall, meeting, AFTER, FGW=absent(), ZRGH=absent())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "流会")
    assert {i.stance_source for i in meeting.invitations} == {"none"}
    assert {t.status for t in project.tasks} == {"pending"}


def test_primary_on_leave_the_backup_is_invited_and_absence_still_counts(session, hall, project, make_meeting):
    hall["fgw_a"].on_leave = True
    session.commit()
    meeting = make_meeting()
    fgw = by_code(meeting)["FGW"]
    assert fgw.liaison_id == hall["fgw_b"].id and fgw.duly_invited is True
    assert any(s.startswith("会议邀请") for s in inbox(session, hall["fgw_b"]))
    assert not any(s.startswith("会议邀请") for s in inbox(session, hall["fgw_a"]))
    record_all(session, hall, meeting, AFTER, FGW=absent(), ZRGH=present())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "原则同意")
    assert by_code(meeting)["FGW"].stance_source == "deemed"
    assert {t.outcome_reason for t in tasks_of(project, "FGW")} == {"absence"}


def test_all_absent_duly_invited_closes_the_stage_and_dispatches_the_next_untouched(session, hall, project,
                                                                                    make_meeting):
    meeting = make_meeting()
    record_all(session, hall, meeting, AFTER, FGW=absent(), ZRGH=absent())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "各部门缺席，视为同意")
    session.commit()
    stage1, stage2 = project.stages[0], project.stages[1]
    assert stage1.status == "closed" and stage2.status == "open"
    # the next stage's tasks (ZRGH-03 among them) were dispatched while closing and are not deemed
    assert {t.status for t in stage2.tasks} == {"pending"}
    assert {t.status for t in stage1.tasks} == {"deemed_consent"}


def test_supplement_needed_at_the_meeting_becomes_a_one_time_notice_on_the_tasks(session, hall, project,
                                                                                 make_meeting):
    meeting = make_meeting()
    record_all(session, hall, meeting, AFTER, FGW=present(), ZRGH=present("supplement_needed", "勘测定界图；规划条件"))
    services.close_meeting(session, AFTER, hall["agent"], meeting, "规划部门要求补正")
    zrgh_tasks = tasks_of(project, "ZRGH")
    assert {t.status for t in zrgh_tasks} == {"supplement"}
    assert all(t.supplements[-1].materials == ["勘测定界图", "规划条件"] for t in zrgh_tasks)


def test_at_a_pre_review_absence_is_deemed_in_the_minutes_only(session, hall, project, make_meeting):
    meeting = make_meeting(kind="pre_review")
    record_all(session, hall, meeting, AFTER, FGW=absent(), ZRGH=present())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "材料基本齐全")
    assert by_code(meeting)["FGW"].stance_source == "deemed"
    assert {t.status for t in project.tasks} == {"pending"}


# -- minutes ----------------------------------------------------------------------------------------


def test_minutes_say_who_attended_for_whom_each_stance_and_how(session, hall, project, make_meeting):
    meeting = make_meeting(kind="site_survey", codes=["FGW", "ZRGH", "ZJ", "RF"])
    services.confirm_attendance(session, at(MONDAY, hours=2), hall["fgw_a"], meeting, "FGW", "王科长")
    services.submit_opinion(session, at(MONDAY, hours=2), hall["zj_a"], meeting, "ZJ", "consent_with_conditions",
                            "施工道路需硬化")
    rf = by_code(meeting)["RF"]
    rf.duly_invited = False  # as if its invitation had arrived after Tuesday 09:00
    session.commit()
    record_all(session, hall, meeting, AFTER, FGW=present(findings="现场与备案一致"),
               ZRGH=absent(findings="（未到场）"), ZJ=absent(), RF=absent())
    services.close_meeting(session, AFTER, hall["agent"], meeting, "现场具备建设条件")
    text = meeting.minutes
    assert text.startswith("会议纪要（联合踏勘）")
    for expected in ("会议类型：联合踏勘", "时间：2026-11-25 09:00", f"地点：{PLACE}", "组织：agent（代办员）",
                     "发展和改革局：出席，代表：王科长", "自然资源和规划局：缺席",
                     "发展和改革局：同意（到会表态）",
                     "住房和城乡建设局：附条件同意：施工道路需硬化（会前书面意见）",
                     "自然资源和规划局：视为同意（缺席默认",
                     "人民防空办公室：未形成意见：邀请未在通知期限前送达",
                     "三、踏勘情况", "发展和改革局：现场与备案一致",
                     "四、会议结论", "现场具备建设条件", "人民防空办公室：需重新邀请"):
        assert expected in text, expected
    assert meeting.status == "closed" and meeting.closed_at == AFTER
    assert any(s.startswith("会议纪要") for s in inbox(session, hall["ent"]))


# -- reschedule and cancel --------------------------------------------------------------------------


def test_reschedule_bumps_the_sequence_and_delivers_again(session, hall, project, make_meeting, clock, run_jobs,
                                                          mail):
    meeting = make_meeting()
    services.confirm_attendance(session, at(MONDAY, hours=2), hall["fgw_a"], meeting, "FGW", "王科长")
    thursday = at(WEDNESDAY, days=1)
    services.reschedule_meeting(session, at(MONDAY, hours=3), hall["agent"], meeting, thursday, "二楼会议室")
    session.commit()
    assert (meeting.sequence, meeting.starts_at, meeting.place) == (1, thursday, "二楼会议室")
    assert all(i.delivered_at is None and i.confirmed_at is None for i in meeting.invitations)
    clock.set(at(WEDNESDAY, hours=3))  # Wed 12:00: after Thursday's due instant (Wed 09:00)
    run_jobs()
    session.expire_all()
    assert {i.duly_invited for i in meeting.invitations} == {False}
    sequences = [int(Calendar.from_ical(p.get_payload(decode=True)).walk("VEVENT")[0]["SEQUENCE"])
                 for m in mail if m["To"] == "fgw_a@hall.test" for p in m.iter_attachments()]
    assert sequences == [0, 1]


def test_cancel_sends_a_cancellation_to_everyone_invited(session, hall, project, make_meeting, clock, run_jobs, mail):
    meeting = make_meeting()
    services.cancel_meeting(session, at(MONDAY, hours=3), hall["agent"], meeting, "企业调整方案")
    session.commit()
    clock.set(at(MONDAY, hours=3))
    run_jobs()
    assert meeting.status == "cancelled" and meeting.sequence == 1
    cancels = [Calendar.from_ical(p.get_payload(decode=True)) for m in mail for p in m.iter_attachments()
               if "会议取消" in m["Subject"]]
    assert len(cancels) == 2 and {str(c["METHOD"]) for c in cancels} == {"CANCEL"}
    assert any(s.startswith("会议取消") for s in inbox(session, hall["zrgh_a"]))
    with pytest.raises(TransitionNotAllowed):
        services.close_meeting(session, AFTER, hall["agent"], meeting, "x")


# -- the sweep ----------------------------------------------------------------------------------------


def test_sweep_reminds_the_working_day_before_once(session, hall, project, make_meeting):
    meeting = make_meeting()
    assert rules.sweep_meetings(session, MONDAY + timedelta(hours=5)) == {"meeting_reminders": 0,
                                                                          "meetings_unclosed": 0}
    tuesday = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # Tue 08:30
    assert rules.sweep_meetings(session, tuesday)["meeting_reminders"] == 1
    assert rules.sweep_meetings(session, tuesday + timedelta(hours=1))["meeting_reminders"] == 0
    assert meeting.reminded_at == tuesday
    assert any(s.startswith("会议提醒") for s in inbox(session, hall["fgw_a"]))


def test_sweep_reminds_on_friday_for_a_monday_meeting(session, hall, project, make_meeting):
    make_meeting(starts_at=datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    assert rules.sweep_meetings(session, datetime(2026, 11, 26, 8, 0, tzinfo=UTC))["meeting_reminders"] == 0
    assert rules.sweep_meetings(session, datetime(2026, 11, 27, 1, 0, tzinfo=UTC))["meeting_reminders"] == 1


def test_sweep_flags_a_meeting_left_unclosed_a_day_after_once(session, hall, project, make_meeting):
    meeting = make_meeting()
    end = meeting.ends_at
    assert rules.sweep_meetings(session, end + timedelta(hours=23))["meetings_unclosed"] == 0
    assert rules.sweep_meetings(session, end + timedelta(days=1))["meetings_unclosed"] == 1
    assert rules.sweep_meetings(session, end + timedelta(days=2))["meetings_unclosed"] == 0
    assert meeting.flagged_unclosed_at == end + timedelta(days=1)
    assert any(s.startswith("会议未闭会") for s in inbox(session, hall["director"]))
    # a closed meeting is never flagged
    other = make_meeting(starts_at=at(WEDNESDAY, days=1))
    record_all(session, hall, other, at(WEDNESDAY, days=1, hours=2), FGW=present(), ZRGH=present())
    services.close_meeting(session, at(WEDNESDAY, days=1, hours=2), hall["agent"], other, "同意")
    session.commit()
    assert rules.sweep_meetings(session, at(WEDNESDAY, days=5))["meetings_unclosed"] == 0


# -- bad input changes nothing -------------------------------------------------------------------------


def _state(session) -> tuple:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(Meeting)),
            session.scalar(select(func.count()).select_from(Invitation)),
            session.scalar(select(func.count()).select_from(AuditEvent)),
            session.scalar(select(func.count()).select_from(OutboxJob)),
            tuple(session.execute(select(Invitation.id, Invitation.attendance, Invitation.written_decision,
                                         Invitation.stance_source, Invitation.confirmed_at)).all()),
            tuple(session.execute(select(Meeting.id, Meeting.status, Meeting.sequence, Meeting.starts_at)).all()),
            tuple(session.execute(select(Task.id, Task.status)).all()))


def _refused(session, error, call):
    before = _state(session)
    with pytest.raises(error) as caught:
        call()
    session.rollback()
    assert _state(session) == before
    return caught.value


@pytest.mark.parametrize("kind,starts_at,codes,error,fragment", [
    ("joint_review", at(MONDAY, hours=-1), None, RuleViolation, "past"),
    ("joint_review", SATURDAY, None, RuleViolation, "not a working day"),
    ("pre_review", SATURDAY, None, RuleViolation, "not a working day"),
    ("joint_review", WEDNESDAY, [], BadInput, "at least one department"),
    ("joint_review", WEDNESDAY, ["FGW", "NOPE"], BadInput, "unknown department: NOPE"),
    ("board_meeting", WEDNESDAY, None, BadInput, "unknown kind"),
])
def test_bad_schedules_are_refused(session, hall, project, kind, starts_at, codes, error, fragment):
    refused = _refused(session, error, lambda: services.schedule_meeting(
        session, MONDAY, hall["agent"], project, kind=kind, starts_at=starts_at, place=PLACE,
        department_codes=codes))
    assert fragment in refused.message


def test_a_department_without_a_reachable_liaison_cannot_be_invited(session, hall, project):
    hall["rf_a"].on_leave = hall["rf_b"].on_leave = True
    session.commit()
    refused = _refused(session, RuleViolation, lambda: services.schedule_meeting(
        session, MONDAY, hall["agent"], project, kind="joint_review", starts_at=WEDNESDAY, place=PLACE,
        department_codes=["FGW", "RF"]))
    assert "RF" in refused.fields["department_codes"]


def test_default_departments_need_open_tasks(session, hall):
    from agency.projects.services import entrust_project
    from tests.meetings.conftest import ENTRUST
    bare = entrust_project(session, MONDAY, hall["agent"], enterprise_id=hall["ent"].id, **ENTRUST)
    session.commit()
    _refused(session, BadInput, lambda: services.schedule_meeting(
        session, MONDAY, hall["agent"], bare, kind="joint_review", starts_at=WEDNESDAY, place=PLACE))


def test_only_the_carrying_agent_schedules(session, hall, project):
    _refused(session, Forbidden, lambda: services.schedule_meeting(
        session, MONDAY, hall["agent2"], project, kind="joint_review", starts_at=WEDNESDAY, place=PLACE))


def test_bad_meeting_actions_are_refused(session, hall, project, make_meeting):
    meeting = make_meeting()
    # a liaison writing for another department, or of a department not invited
    _refused(session, NotFound, lambda: services.submit_opinion(
        session, at(MONDAY, hours=2), hall["fgw_a"], meeting, "ZRGH", "consent"))
    _refused(session, NotFound, lambda: services.confirm_attendance(
        session, at(MONDAY, hours=2), hall["zj_a"], meeting, "ZJ", "某人"))
    # opinion rules
    _refused(session, BadInput, lambda: services.submit_opinion(
        session, at(MONDAY, hours=2), hall["fgw_a"], meeting, "FGW", "objection", ""))
    _refused(session, BadInput, lambda: services.submit_opinion(
        session, at(MONDAY, hours=2), hall["fgw_a"], meeting, "FGW", "refuse", "不同意"))
    _refused(session, RuleViolation, lambda: services.submit_opinion(
        session, WEDNESDAY, hall["fgw_a"], meeting, "FGW", "consent"))
    # recording: before the start, an uninvited or unknown department, a present one without decision
    _refused(session, RuleViolation, lambda: record_all(session, hall, meeting, at(MONDAY, hours=2), FGW=present()))
    _refused(session, RuleViolation, lambda: record_all(session, hall, meeting, AFTER, FGW=present(), ZJ=present()))
    _refused(session, BadInput, lambda: record_all(session, hall, meeting, AFTER, FGW=present(), XX=present()))
    _refused(session, BadInput, lambda: record_all(session, hall, meeting, AFTER, FGW={"present": True}))
    _refused(session, Forbidden, lambda: services.record_attendance(
        session, AFTER, hall["agent2"], meeting, [{"department_code": "FGW", "present": False}]))
    # closing: before the start, without conclusion
    _refused(session, RuleViolation, lambda: services.close_meeting(
        session, at(MONDAY, hours=2), hall["agent"], meeting, "结论"))
    record_all(session, hall, meeting, AFTER, FGW=present(), ZRGH=absent())
    session.commit()
    _refused(session, BadInput, lambda: services.close_meeting(session, AFTER, hall["agent"], meeting, "  "))
    services.close_meeting(session, AFTER, hall["agent"], meeting, "结论")
    session.commit()
    # closing twice, recording after closing, rescheduling a closed meeting
    _refused(session, TransitionNotAllowed, lambda: services.close_meeting(
        session, at(AFTER, hours=1), hall["agent"], meeting, "结论"))
    _refused(session, TransitionNotAllowed, lambda: record_all(session, hall, meeting, AFTER, FGW=absent()))
    _refused(session, TransitionNotAllowed, lambda: services.reschedule_meeting(
        session, AFTER, hall["agent"], meeting, at(WEDNESDAY, days=2)))


def test_the_email_attachment_is_optional_and_backwards_compatible(app, session):
    from agency.notifications.services import send_email
    send_email("a@b.test", "无附件", "正文", "k:1")
    send_email("a@b.test", "有附件", "正文", "k:2", attachment={
        "filename": "x.ics", "content_type": "text/calendar; method=REQUEST", "content": "BEGIN:VCALENDAR"})
    plain, with_ics = app.extensions["mail_outbox"]
    assert list(plain.iter_attachments()) == []
    (part,) = with_ics.iter_attachments()
    assert part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST"
    assert message_from_bytes(with_ics.as_bytes()).is_multipart()
