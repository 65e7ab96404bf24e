"""Joint meetings: schedule, invite (.ics), confirm, written opinions, record, close with minutes."""
from datetime import datetime, time

from flask import Response
from flask_babel import lazy_gettext as _l

from agency import clock
from agency.api import Blueprint, current_user, produces, roles
from agency.errors import TransitionNotAllowed
from agency.extensions import db
from agency.meetings import ics, services
from agency.meetings.models import Meeting
from agency.meetings.schemas import (MeetingCancelInput, MeetingCloseInput, MeetingConfirmInput, InvitationSchema, MeetingQuery,
                                     MeetingSchema, MeetingOpinionInput, MeetingRecordInput, MeetingRescheduleInput, MeetingScheduleInput)
from agency.people.access import get_meeting, get_project, visible_meetings

blp = Blueprint("meetings_api", __name__, description="Joint pre-reviews, site surveys and review meetings (R6)")


@blp.post("/projects/<int:project_id>/meetings")
@roles("agent")
@blp.arguments(MeetingScheduleInput)
@blp.response(201, MeetingSchema)
def schedule(data, project_id):
    """Schedule a meeting; each invited department gets its invitation (with .ics) through its queue."""
    project = get_project(db.session, current_user(), project_id)
    meeting = services.schedule_meeting(db.session, clock.now(), current_user(), project, **data)
    db.session.commit()
    return meeting


@blp.get("/projects/<int:project_id>/meetings")
@blp.response(200, MeetingSchema(many=True))
def project_meetings(project_id):
    project = get_project(db.session, current_user(), project_id)
    statement = visible_meetings(current_user()).where(Meeting.project_id == project.id)
    return db.session.scalars(statement.order_by(Meeting.starts_at, Meeting.id)).all()


@blp.get("/meetings")
@blp.arguments(MeetingQuery, location="query")
@blp.response(200, MeetingSchema(many=True))
def list_meetings(query):
    """Meetings the caller sees (liaison: its department's invitations), soonest first."""
    statement = visible_meetings(current_user())
    if query.get("status"):
        statement = statement.where(Meeting.status == query["status"])
    tz = clock.hall_tz()
    if query.get("start"):
        statement = statement.where(Meeting.starts_at >= datetime.combine(query["start"], time(), tzinfo=tz))
    if query.get("end"):
        statement = statement.where(Meeting.starts_at < datetime.combine(query["end"], time(), tzinfo=tz))
    return db.session.scalars(statement.order_by(Meeting.starts_at, Meeting.id).limit(1000)).all()


@blp.get("/meetings/<int:meeting_id>")
@blp.response(200, MeetingSchema)
def read(meeting_id):
    return get_meeting(db.session, current_user(), meeting_id)


@blp.get("/meetings/<int:meeting_id>/invite.ics")
@produces(200, "the invitation, an iCalendar file", "text/calendar")
def invite_ics(meeting_id):
    """The meeting's iCalendar file (METHOD:REQUEST, or METHOD:CANCEL once cancelled)."""
    meeting = get_meeting(db.session, current_user(), meeting_id)
    body = ics.build_ics(meeting, clock.now())
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{ics.ics_filename(meeting)}"'})


@blp.get("/meetings/<int:meeting_id>/minutes")
@produces(200, "the minutes, a text file", "text/plain")
def minutes(meeting_id):
    """The minutes as a text download; 409 until the meeting is closed."""
    meeting = get_meeting(db.session, current_user(), meeting_id)
    if meeting.status != "closed":
        raise TransitionNotAllowed("the meeting is not closed yet: it has no minutes",
                                   shown=_l("会议尚未闭会，暂无会议纪要。"))
    return Response(meeting.minutes, mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="minutes-{meeting.id}.txt"'})


@blp.post("/meetings/<int:meeting_id>/reschedule")
@roles("agent")
@blp.arguments(MeetingRescheduleInput)
@blp.response(200, MeetingSchema)
def reschedule(data, meeting_id):
    meeting = get_meeting(db.session, current_user(), meeting_id)
    services.reschedule_meeting(db.session, clock.now(), current_user(), meeting, data["starts_at"], data["place"])
    db.session.commit()
    return meeting


@blp.post("/meetings/<int:meeting_id>/cancel")
@roles("agent")
@blp.arguments(MeetingCancelInput)
@blp.response(200, MeetingSchema)
def cancel(data, meeting_id):
    meeting = get_meeting(db.session, current_user(), meeting_id)
    services.cancel_meeting(db.session, clock.now(), current_user(), meeting, data["reason"])
    db.session.commit()
    return meeting


@blp.post("/meetings/<int:meeting_id>/confirm")
@roles("liaison")
@blp.arguments(MeetingConfirmInput)
@blp.response(200, InvitationSchema)
def confirm(data, meeting_id):
    """The liaison confirms attendance and names the representative (before the start)."""
    meeting = get_meeting(db.session, current_user(), meeting_id)
    invitation = services.confirm_attendance(db.session, clock.now(), current_user(), meeting,
                                             data["department_code"], data["representative"])
    db.session.commit()
    return invitation


@blp.post("/meetings/<int:meeting_id>/opinions")
@roles("liaison")
@blp.arguments(MeetingOpinionInput)
@blp.response(200, InvitationSchema)
def opinion(data, meeting_id):
    """A written opinion before the start: consent, consent with conditions, objection, supplement needed."""
    meeting = get_meeting(db.session, current_user(), meeting_id)
    invitation = services.submit_opinion(db.session, clock.now(), current_user(), meeting, data["department_code"],
                                         data["decision"], data["opinion"])
    db.session.commit()
    return invitation


@blp.post("/meetings/<int:meeting_id>/record")
@roles("agent")
@blp.arguments(MeetingRecordInput)
@blp.response(200, MeetingSchema)
def record_attendance(data, meeting_id):
    meeting = get_meeting(db.session, current_user(), meeting_id)
    services.record_attendance(db.session, clock.now(), current_user(), meeting, data["attendance"])
    db.session.commit()
    return meeting


@blp.post("/meetings/<int:meeting_id>/close")
@roles("agent")
@blp.arguments(MeetingCloseInput)
@blp.response(200, MeetingSchema)
def close(data, meeting_id):
    """Close the meeting: absence = consent is applied and the minutes are written.

    422 while any invited department's attendance is unrecorded: ``fields.unrecorded`` lists their codes
    and nothing changes (absence is recorded by the agent, never assumed).
    """
    meeting = get_meeting(db.session, current_user(), meeting_id)
    services.close_meeting(db.session, clock.now(), current_user(), meeting, data["conclusion"])
    db.session.commit()
    return meeting
