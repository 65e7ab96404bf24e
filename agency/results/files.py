"""A result's file and printable notice as the API and the pages hand them out (one place for both)."""
from flask import Response, current_app, render_template, send_file

from agency.errors import NotFound
from agency.results import services
from agency.results.models import DEEMED_NOTICE, TaskResult


def send_result(result: TaskResult):
    """The electronic result: always an attachment, with its checksum, nosniff and a sandboxing CSP."""
    if result.sha256 is None:
        raise NotFound(f"task {result.task_id} has no electronic result")
    path = services.result_path(result)
    if not path.is_file():
        current_app.logger.error("result file of task %s missing at %s", result.task_id, path)
        raise NotFound(f"the file of task {result.task_id}'s result is missing from storage")
    response = send_file(path, mimetype=result.content_type, as_attachment=True, download_name=result.filename,
                         conditional=False, etag=False, max_age=0)
    response.headers.update({"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
                             "Content-Security-Policy": "default-src 'none'; sandbox",
                             "X-Checksum-SHA256": result.sha256})
    return response


def deemed_notice_page(result: TaskResult) -> Response:
    """The system's notice of deemed consent (R16), a printable page."""
    if result.kind != DEEMED_NOTICE:
        raise NotFound(f"task {result.task_id} was not deemed to consent")
    html = render_template("results/deemed_notice.html", result=result, task=result.task, project=result.task.project)
    return Response(html, mimetype="text/html", headers={"Cache-Control": "private, no-store"})
