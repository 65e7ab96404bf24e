"""The invitation's iCalendar file, parsed back with the icalendar package."""
from datetime import timedelta, timezone

from icalendar import Calendar

from agency.meetings import ics, services
from tests.meetings.conftest import MONDAY, WEDNESDAY, at


def parse(data: bytes):
    calendar = Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_the_ics_is_a_valid_request_with_the_meeting_in_it(session, hall, project, make_meeting):
    meeting = make_meeting()
    calendar, event = parse(ics.build_ics(meeting, MONDAY))
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["PRODID"]).startswith("-//")
    assert str(event["UID"]) == f"agency-meeting-{meeting.id}@127.0.0.1"
    assert int(event["SEQUENCE"]) == 0
    start = event.decoded("DTSTART")
    assert start == WEDNESDAY and start.utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == at(WEDNESDAY, hours=2)
    assert event.decoded("DTSTAMP") == MONDAY
    assert str(event["SUMMARY"]) == f"联审会议：{project.name}"
    assert str(event["LOCATION"]) == meeting.place and str(event["STATUS"]) == "CONFIRMED"
    assert "缺席默认" in str(event["DESCRIPTION"])
    attendees = event["ATTENDEE"]
    assert sorted(str(a) for a in attendees) == ["mailto:fgw_a@hall.test", "mailto:zrgh_a@hall.test"]
    assert {str(a.params["CN"]) for a in attendees} == {"发展和改革局", "自然资源和规划局"}
    assert str(event["ORGANIZER"]).startswith("mailto:")


def test_uid_is_stable_and_sequence_grows_on_reschedule_and_cancel(session, hall, project, make_meeting):
    meeting = make_meeting()
    _, first = parse(ics.build_ics(meeting, MONDAY))
    thursday = at(WEDNESDAY, days=1)
    services.reschedule_meeting(session, at(MONDAY, hours=1), hall["agent"], meeting, thursday)
    _, second = parse(ics.build_ics(meeting, at(MONDAY, hours=1)))
    assert str(second["UID"]) == str(first["UID"])
    assert int(second["SEQUENCE"]) == 1 and second.decoded("DTSTART") == thursday.astimezone(timezone.utc)
    services.cancel_meeting(session, at(MONDAY, hours=2), hall["agent"], meeting, "取消")
    calendar, third = parse(ics.build_ics(meeting, at(MONDAY, hours=2)))
    assert str(calendar["METHOD"]) == "CANCEL" and str(third["STATUS"]) == "CANCELLED"
    assert str(third["UID"]) == str(first["UID"]) and int(third["SEQUENCE"]) == 2


def test_an_invitation_ics_names_only_its_department_and_the_backup_when_the_primary_is_away(session, hall, project,
                                                                                          make_meeting):
    hall["zrgh_a"].on_leave = True
    session.commit()
    meeting = make_meeting()
    zrgh = next(i for i in meeting.invitations if i.department.code == "ZRGH")
    _, event = parse(ics.build_ics(meeting, MONDAY, [zrgh]))
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:zrgh_b@hall.test"


def test_the_api_serves_the_ics(session, hall, project, make_meeting, api):
    meeting = make_meeting()
    response = api(hall["fgw_a"]).get(f"/meetings/{meeting.id}/invite.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert f"meeting-{meeting.id}.ics" in response.headers["Content-Disposition"]
    calendar, event = parse(response.data)
    assert str(calendar["METHOD"]) == "REQUEST" and event.decoded("DTSTART") == WEDNESDAY
