"""The iCalendar (.ics) file carried by every invitation (RFC 5545 / iTIP).

One UID per meeting for its whole life; SEQUENCE is ``Meeting.sequence``,
bumped on every reschedule and on cancellation, so calendar clients replace
the event they hold.  Times are written in UTC.  A cancelled meeting is sent
with METHOD:CANCEL and STATUS:CANCELLED.
"""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from agency.clock import local

DEFAULT_LENGTH = timedelta(hours=2)
CONTENT_TYPE = "text/calendar"


def meeting_uid(meeting) -> str:
    host = urlparse(current_app.config.get("PUBLIC_BASE_URL", "")).hostname or "agency"
    return f"agency-meeting-{meeting.id}@{host}"


def method_of(meeting) -> str:
    return "CANCEL" if meeting.status == "cancelled" else "REQUEST"


def build_ics(meeting, now: datetime, invitations=None) -> bytes:
    """The calendar file of ``meeting`` for ``invitations`` (default: every invited department)."""
    method = method_of(meeting)
    project = meeting.project
    calendar = Calendar()
    calendar.add("prodid", "-//Agency service hall//Joint meetings//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(timezone.utc))
    event.add("dtstart", meeting.starts_at.astimezone(timezone.utc))
    event.add("dtend", (meeting.ends_at or meeting.starts_at + DEFAULT_LENGTH).astimezone(timezone.utc))
    event.add("summary", f"{meeting.kind_name}：{project.name}")
    event.add("location", meeting.place)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("description", _description(meeting))
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    if base:
        event.add("url", f"{base}/meetings/{meeting.id}")
    organizer = vCalAddress(f"mailto:{current_app.config['MAIL_FROM']}")
    agent = meeting.scheduled_by
    organizer.params["cn"] = vText(agent.display_name if agent is not None else current_app.config["HALL_NAME"])
    event.add("organizer", organizer)
    for invitation in invitations if invitations is not None else meeting.invitations:
        person = invitation.liaison or invitation.department.reachable_liaison()
        email = person.email if person is not None and person.email else None
        attendee = vCalAddress(f"mailto:{email}" if email else f"urn:department:{invitation.department.code}")
        attendee.params["cn"] = vText(invitation.department.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED" if invitation.confirmed_at else "NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


def _description(meeting) -> str:
    project = meeting.project
    lines = [f"{meeting.kind_name}（{meeting.kind}）", f"项目：{project.name}（跟踪码 {project.tracking_code}）",
             f"时间：{local(meeting.starts_at):%Y-%m-%d %H:%M}（北京时间）", f"地点：{meeting.place}",
             "经正式邀请未出席且会前未提交书面意见的部门，视为同意会议结论（缺席默认）。"]
    if meeting.status == "cancelled":
        lines.insert(0, "【会议已取消】")
    return "\n".join(lines)


def ics_filename(meeting) -> str:
    return f"meeting-{meeting.id}.ics"
