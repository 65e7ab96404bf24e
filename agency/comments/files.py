"""A comment's attachment as the pages and the API hand it out (as material files: agency.enterprise.files)."""
from flask import current_app, send_file

from agency.comments.models import TaskComment
from agency.comments.services import attachment_path
from agency.errors import NotFound


def send_attachment(comment: TaskComment):
    """Always an attachment, with its checksum, nosniff and a sandboxing CSP."""
    path = attachment_path(comment)
    if not path.is_file():
        current_app.logger.error("attachment of comment %s missing at %s", comment.id, path)
        raise NotFound(f"the attachment of comment {comment.id} is missing from storage")
    response = send_file(path, mimetype=comment.content_type, as_attachment=True, download_name=comment.filename,
                         conditional=False, etag=False, max_age=0)
    response.headers.update({"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
                             "Content-Security-Policy": "default-src 'none'; sandbox",
                             "X-Checksum-SHA256": comment.sha256})
    return response
