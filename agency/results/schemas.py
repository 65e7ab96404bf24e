from marshmallow import Schema, fields, validate

from agency.api.fields import BoundedDate, BoundedDateTime, LocalDateTime, TaskId
from agency.results.models import DEEMED_NOTICE, DELIVERY_METHODS, RESULT_KINDS


def download_url(result) -> str | None:
    """Where the parties (the enterprise, its agent, the director) fetch it; null for anyone else."""
    from agency.api import current_user
    from agency.results.services import may_download_results
    if not may_download_results(current_user(), result.task.project):
        return None
    if result.kind == DEEMED_NOTICE:
        return f"/api/v1/results/{result.task_id}/notice"
    return f"/api/v1/results/{result.task_id}/file" if result.sha256 else None


class ResultInput(Schema):
    kind = fields.String(load_default="approval", validate=validate.OneOf(RESULT_KINDS))
    number = fields.String(load_default="", validate=validate.Length(max=100))
    issued_on = BoundedDate(load_default=None)


class TaskResultSchema(Schema):
    """A task's result inside the task (``released``: the enterprise may have it)."""

    kind = fields.String()
    number = fields.String()
    issued_on = fields.Date()
    sha256 = fields.String(allow_none=True)
    released = fields.Function(lambda r: _released(r.task))


class ResultSchema(TaskResultSchema):
    task_id = fields.Integer()
    item = fields.Function(lambda r: r.task.item.code)
    item_name = fields.Function(lambda r: r.task.item.name)
    department = fields.Function(lambda r: r.task.department.code)
    owed = fields.Function(lambda r: [d.name for d in r.task.deferrals if d.supplied_at is None],
                           metadata={"description": "deferred materials the task still owes (result withheld)"})
    download_url = fields.Function(download_url, allow_none=True)


def _released(task) -> bool:
    from agency.results.services import is_released
    return is_released(task)


class DeliveryInput(Schema):
    method = fields.String(required=True, validate=validate.OneOf(DELIVERY_METHODS))
    address = fields.String(load_default="", validate=validate.Length(max=500))


class DeliverySchema(Schema):
    method = fields.String(attribute="delivery_method")
    address = fields.String(attribute="delivery_address")


class ShipmentInput(Schema):
    task_ids = fields.List(TaskId(), required=True,
                           validate=validate.Length(min=1, max=100))
    waybill = fields.String(required=True, validate=validate.Length(min=1, max=60))


class SignedInput(Schema):
    signed_at = BoundedDateTime(load_default=None)


class ShipmentSchema(Schema):
    id = fields.Integer()
    project_id = fields.Integer()
    task_ids = fields.List(fields.Integer())
    waybill = fields.String()
    address = fields.String()
    sent_at = LocalDateTime()
    signed_at = LocalDateTime(allow_none=True)
