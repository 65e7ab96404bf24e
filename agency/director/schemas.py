from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agency.api.fields import BoundedDate, Id, LocalDateTime
from agency.errors import BadInput
from agency.supervision.figures import Period
from agency.supervision.reports import PERIODS

MAX_PERIOD_DAYS = 3 * 366


class WorkloadRow(Schema):
    agent_id = fields.Integer()
    name = fields.String()
    open_projects = fields.Integer()
    open_tasks = fields.Integer()
    load = fields.Integer(metadata={"description": "sum over open projects of open tasks x size weight"})
    on_leave = fields.Boolean()
    skills = fields.List(fields.String(), metadata={"description": "project type codes; empty: any type"})
    projects_by_stage = fields.Dict(keys=fields.String(), values=fields.Integer())


class SuggestionSchema(Schema):
    agent_id = fields.Integer()
    reason = fields.String()


class LeaveInput(Schema):
    on_leave = fields.Boolean(required=True)
    reassign_to = Id(load_default=None, metadata={"description": "hand every open project to this agent"})
    reassign_suggested = fields.Boolean(load_default=False,
                                        metadata={"description": "hand each open project to its suggested agent"})

    @validates_schema
    def one_target(self, data, **_):
        if data.get("reassign_to") is not None and data.get("reassign_suggested"):
            raise ValidationError("give reassign_to or reassign_suggested, not both", "reassign_to")


class Handover(Schema):
    project_id = fields.Integer()
    agent_id = fields.Integer()


class LeaveAnswer(Schema):
    agent_id = fields.Integer()
    on_leave = fields.Boolean()
    reassigned = fields.List(fields.Nested(Handover))


class SkillsInput(Schema):
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=30)), required=True,
                         validate=validate.Length(max=100))


class SkillsAnswer(Schema):
    agent_id = fields.Integer()
    skills = fields.List(fields.String())


class PeriodQuery(Schema):
    """``from``/``to`` of the rankings and reports; checked, with their defaults, by ``period_between``."""
    start = BoundedDate(data_key="from", load_default=None)
    end = BoundedDate(data_key="to", load_default=None)


def period_between(start: date | None, end: date | None, today: date) -> Period:
    """The period of ``from``..``to`` (hall dates, both included), by default the current month to today.

    A reversed range is refused, never narrowed to one day, whether both ends were given or one was
    left to its default (``from`` after today); so is a period longer than MAX_PERIOD_DAYS.
    """
    end_given = end is not None
    end = end or today
    start = start or (end.replace(day=1) if end_given else today.replace(day=1))
    if start > end:
        raise BadInput(f'"from" ({start.isoformat()}) is after "to" ({end.isoformat()})'
                       + ("" if end_given else ", which defaults to today"),
                       fields={"from": f'after "to" ({end.isoformat()})'},
                       shown=_l("开始日期晚于结束日期。"))
    if (end - start).days > MAX_PERIOD_DAYS:
        raise BadInput(f"a period is at most {MAX_PERIOD_DAYS} days", fields={"to": f"at most {MAX_PERIOD_DAYS} days"},
                       shown=_l("时间段最长 %(days)s 天。", days=MAX_PERIOD_DAYS))
    return Period(start, end)


class DepartmentFigures(Schema):
    department = fields.String(metadata={"description": "department code"})
    department_name = fields.String()
    tasks = fields.Integer(metadata={"description": "tasks closed (answered or deemed consent) in the period"})
    on_time = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    early = fields.Integer()
    early_rate = fields.Float(allow_none=True)
    deemed_timeout = fields.Integer()
    red = fields.Integer()
    yellow = fields.Integer()
    second_supplements = fields.Integer()
    avg_working_days = fields.Float(allow_none=True)
    avg_promised_days = fields.Float(allow_none=True)
    satisfaction = fields.Float(allow_none=True)
    ratings = fields.Integer()


class AgentFigures(Schema):
    agent_id = fields.Integer()
    name = fields.String()
    open = fields.Integer()
    completed = fields.Integer()
    avg_working_days = fields.Float(allow_none=True)
    satisfaction = fields.Float(allow_none=True)
    ratings = fields.Integer()


class OverTarget(Schema):
    id = fields.Integer()
    name = fields.String()
    project_code = fields.String()
    working_days = fields.Integer()
    target_days = fields.Integer()
    over_by = fields.Integer()


class ProjectTypeFigures(Schema):
    project_type = fields.String()
    name = fields.String()
    target_days = fields.Integer()
    completed = fields.Integer()
    avg_working_days = fields.Float(allow_none=True)
    over_target = fields.Integer()
    over_target_projects = fields.List(fields.Nested(OverTarget))


class OverOneVisit(Schema):
    project_id = fields.Integer()
    name = fields.String(metadata={"description": "the project's name (the director's view)"})
    project_code = fields.String()
    visits = fields.Integer()
    reasons = fields.List(fields.String(), metadata={"description": "reasons of its visits, in date order"})


class VisitFigures(Schema):
    project_type = fields.String()
    name = fields.String()
    completed = fields.Integer(metadata={"description": "projects of the type completed in the period"})
    zero_visit = fields.Integer()
    zero_visit_rate = fields.Float(allow_none=True, metadata={"description": "share completed with no visit "
                                                                             "(不见面); null without a completed project"})
    at_most_one = fields.Integer()
    at_most_one_rate = fields.Float(allow_none=True, metadata={"description": "share completed with at most one "
                                                                              "visit (最多跑一次)"})
    over_one_count = fields.Integer(metadata={"description": "how many had more than one visit"})
    over_one = fields.List(fields.Nested(OverOneVisit), metadata={"description": "those with more than one visit, "
                                                                                 "most first (at most 50 per type)"})


class StarFigures(Schema):
    star = fields.Integer(metadata={"description": "online service level 1-5"})
    items = fields.Integer(metadata={"description": "catalog items at this level"})
    share = fields.Float(allow_none=True, metadata={"description": "items / all catalog items; null if it is empty"})


class ReportSchema(Schema):
    id = fields.Integer()
    period = fields.String()
    start = fields.Date()
    end = fields.Date()
    generated_at = LocalDateTime()
    csv_url = fields.Function(lambda r: f"/api/v1/reports/{r.id}.csv")
    xlsx_url = fields.Function(lambda r: f"/api/v1/reports/{r.id}.xlsx")


class ReportQuery(Schema):
    period = fields.String(validate=validate.OneOf(PERIODS))
