from marshmallow import Schema, fields, validate

from agency import clock
from agency.api.fields import BoundedDate, BoundedDateTime, LocalDateTime
from agency.calendar.services import get_calendar
from agency.extensions import db
from agency.meetings.models import MEETING_KINDS, MEETING_STATUSES, WRITTEN_DECISIONS
from agency.meetings.rules import meeting_warnings


class InvitationSchema(Schema):
    id = fields.Integer()
    meeting_id = fields.Integer()
    department = fields.Function(lambda i: i.department.code, metadata={"description": "department code"})
    department_name = fields.Function(lambda i: i.department.name)
    liaison = fields.Function(lambda i: i.liaison.display_name if i.liaison else None)
    delivered_at = LocalDateTime(allow_none=True)
    duly_invited = fields.Boolean(allow_none=True, metadata={"description": "delivered within the notice period"})
    confirmed_at = LocalDateTime(allow_none=True)
    representative = fields.String()
    written_decision = fields.String(allow_none=True)
    written_opinion = fields.String()
    written_at = LocalDateTime(allow_none=True)
    attendance = fields.String(allow_none=True, metadata={"description": "present or absent, once recorded"})
    decision = fields.String(allow_none=True)
    opinion = fields.String()
    findings = fields.String()
    stance_source = fields.String(allow_none=True,
                                  metadata={"description": "present, written, deemed or none (set at closing)"})


class MeetingSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    project_name = fields.Function(lambda m: m.project.name)
    kind = fields.String(validate=validate.OneOf(MEETING_KINDS))
    kind_name = fields.String()
    status = fields.String(validate=validate.OneOf(MEETING_STATUSES))
    starts_at = LocalDateTime()
    ends_at = LocalDateTime(allow_none=True)
    place = fields.String()
    sequence = fields.Integer()
    conclusion = fields.String()
    minutes = fields.String()
    closed_at = LocalDateTime(allow_none=True)
    cancelled_at = LocalDateTime(allow_none=True)
    invitations = fields.List(fields.Nested(InvitationSchema))
    warnings = fields.Function(lambda m: meeting_warnings(get_calendar(db.session), m, clock.now())
                               if m.status == "scheduled" else [])


class MeetingScheduleInput(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(MEETING_KINDS))
    starts_at = BoundedDateTime(required=True)
    ends_at = BoundedDateTime(load_default=None)
    place = fields.String(required=True, validate=validate.Length(min=1, max=200))
    department_codes = fields.List(fields.String(validate=validate.Length(min=1, max=20)), load_default=None,
                                   validate=validate.Length(max=100),
                                   metadata={"description": "default: departments with open tasks on the project"})


class MeetingRescheduleInput(Schema):
    starts_at = BoundedDateTime(required=True)
    place = fields.String(load_default=None, validate=validate.Length(max=200))


class MeetingCancelInput(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class MeetingConfirmInput(Schema):
    department_code = fields.String(load_default=None, validate=validate.Length(max=20))
    representative = fields.String(required=True, validate=validate.Length(min=1, max=100))


class MeetingOpinionInput(Schema):
    department_code = fields.String(load_default=None, validate=validate.Length(max=20))
    decision = fields.String(required=True, validate=validate.OneOf(WRITTEN_DECISIONS))
    opinion = fields.String(load_default="", validate=validate.Length(max=4000))


class MeetingAttendanceEntry(Schema):
    department_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    present = fields.Boolean(required=True)
    decision = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(WRITTEN_DECISIONS))
    opinion = fields.String(load_default="", validate=validate.Length(max=4000))
    findings = fields.String(load_default=None, validate=validate.Length(max=4000))
    representative = fields.String(load_default=None, validate=validate.Length(max=100))


class MeetingRecordInput(Schema):
    attendance = fields.List(fields.Nested(MeetingAttendanceEntry), required=True,
                             validate=validate.Length(min=1, max=100))


class MeetingCloseInput(Schema):
    conclusion = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class MeetingQuery(Schema):
    status = fields.String(validate=validate.OneOf(MEETING_STATUSES))
    start = BoundedDate(metadata={"description": "meetings starting on or after this day (hall time)"})
    end = BoundedDate(metadata={"description": "meetings starting before this day (hall time)"})
