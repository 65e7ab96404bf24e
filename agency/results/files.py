"""A result's file and printable notice as the API and the pages hand them out (one place for both)."""
from flask import Response, render_template

from agency.enterprise import uploads
from agency.errors import NotFound
from agency.results import services
from agency.results.models import DEEMED_NOTICE, TaskResult


def send_result(result: TaskResult):
    """The electronic result: always an attachment, with its checksum, nosniff and a sandboxing CSP."""
    if result.sha256 is None:
        raise NotFound(f"task {result.task_id} has no electronic result")
    return uploads.send_stored(services.result_path(result), result.content_type, result.filename, result.sha256,
                               f"the file of task {result.task_id}'s result is missing from storage")


def deemed_notice_page(result: TaskResult) -> Response:
    """The system's notice of deemed consent (R16), a printable page."""
    if result.kind != DEEMED_NOTICE:
        raise NotFound(f"task {result.task_id} was not deemed to consent")
    html = render_template("results/deemed_notice.html", result=result, task=result.task, project=result.task.project)
    return Response(html, mimetype="text/html", headers={"Cache-Control": "private, no-store"})
