from decimal import Decimal

from marshmallow import Schema, fields, post_dump, validate

from agency import clock
from agency.clock import local
from agency.api.fields import MONEY_MAX_WAN, BoundedDate, Id, LocalDateTime, Money
from agency.materials.schemas import DeferredChoice
from agency.visits.services import visit_count
from agency.extensions import db
from agency.projects.models import PROJECT_STATUSES
from agency.projects.timeline import working_days_elapsed
from agency.tasks.schemas import TaskSchema


class StageSchema(Schema):
    order = fields.Integer()
    name = fields.String()
    status = fields.String()
    dispatched_at = LocalDateTime(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)


class ProjectSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String()
    project_type = fields.Function(lambda p: p.project_type.code)
    project_type_name = fields.Function(lambda p: p.project_type.name)
    tracking_code = fields.String()
    enterprise_id = fields.Integer()
    enterprise = fields.Function(lambda p: p.enterprise.organization or p.enterprise.display_name)
    agent_id = fields.Integer(allow_none=True)
    first_contact_agent_id = fields.Integer(allow_none=True)
    location = fields.String()
    investment_wan = Money()
    contact_name = fields.String()
    contact_phone = fields.String()
    halted = fields.Function(lambda p: p.halted_at is not None)
    agreement_accepted_at = LocalDateTime(allow_none=True)
    agreement_signed_at = fields.Function(lambda p: p.agreement_accepted_at and local(p.agreement_accepted_at).isoformat(),
                                          dump_only=True, metadata={"description": "when the agreement was signed"})
    agreement_method = fields.String(metadata={"description": "online, paper, or empty while unsigned"})
    project_code = fields.String(allow_none=True, metadata={"description": "YYYY-AAAAAA-II-TT-NNNNNN"})
    delivery_method = fields.String()
    entrusted_at = LocalDateTime()
    completed_at = LocalDateTime(allow_none=True)
    terminated_at = LocalDateTime(allow_none=True)
    termination_reason = fields.String()
    termination_cause = fields.String(allow_none=True, metadata={"description": "withdrawn or refused"})
    awaits_decision = fields.Boolean(metadata={
        "description": "a refusal stopped it: its agent ends it (/end) or resubmits the refused task (/resubmit)"})
    suspended = fields.Boolean(metadata={"description": "suspended at the enterprise's request: clocks stopped"})

    @post_dump(pass_original=True)
    def _scoped(self, data, project, **kwargs):
        """Only what the caller may read of the project (agency.people.scope); a liaison's fields differ."""
        from agency.api import current_user
        from agency.people.scope import scope_of
        return scope_of(db.session, current_user(), project).dump(data)


class ProjectDetailSchema(ProjectSchema):
    stages = fields.List(fields.Nested(StageSchema))
    tasks = fields.List(fields.Nested(TaskSchema))
    target_days = fields.Function(lambda p: p.project_type.target_days)
    working_days_elapsed = fields.Function(lambda p: working_days_elapsed(db.session, p, clock.now()))
    visits = fields.Function(lambda p: visit_count(db.session, p), metadata={"description": "visits to the hall"})


INVESTMENT_MAX_WAN = MONEY_MAX_WAN  # 万元; projects.investment_wan is Numeric(14, 2)


class EntrustInput(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    project_type = fields.String(required=True, validate=validate.Length(min=1, max=30))
    location = fields.String(required=True, validate=validate.Length(min=1, max=200))
    investment_wan = Money(required=True)
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    contact_phone = fields.String(required=True, validate=validate.Regexp(r"^[0-9+\-() ]{5,40}$",
                                                                          error="not a phone number"))
    enterprise_id = Id(load_default=None)


LIST_PAGE, SEARCH_PAGE, MAX_PAGE = 1000, 50, 1000


class ProjectQuery(Schema):
    status = fields.String(validate=validate.OneOf(PROJECT_STATUSES))
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "a word of the name, the tracking code or the project code"})
    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE), metadata={
        "description": f"projects per page, 1 to {MAX_PAGE} (default {LIST_PAGE}; {SEARCH_PAGE} with q)"})
    after = Id(metadata={"description": "the id of the last project of the previous page (newest first); take "
                                        "the Link header's URL rather than building it"})


class ProjectPatch(Schema):
    project_code = fields.String(required=True, validate=validate.Length(min=1, max=30))


class AgreementInput(Schema):
    paper_signed_on = BoundedDate(load_default=None, metadata={
        "description": "the agent records a paper signature and its date; the enterprise sends nothing"})


class AssignInput(Schema):
    agent_id = Id(required=True)


class DispatchInput(Schema):
    items = fields.List(fields.String(validate=validate.Length(min=1, max=30)), load_default=None,
                        validate=validate.Length(max=200))
    deferred = fields.List(fields.Nested(DeferredChoice), load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "materials dispatched as owed (容缺受理), each with a promised date"})


class DispatchAnswer(Schema):
    stage = fields.Nested(StageSchema)
    tasks = fields.List(fields.Nested(TaskSchema))


class WithdrawInput(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReasonInput(Schema):
    """POST /projects/{id}/end and /suspend: the reason is required (checked by the service, after
    who may do it, so that a party that may not gets 403 whatever it sends)."""
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class TimelineEntry(Schema):
    at = LocalDateTime()
    actor = fields.String()
    action = fields.String()
    detail = fields.String()
