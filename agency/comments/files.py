"""A comment's attachment as the pages and the API hand it out (as material files: agency.enterprise.files)."""
from agency.comments.models import TaskComment
from agency.comments.services import attachment_path
from agency.enterprise import uploads


def send_attachment(comment: TaskComment):
    """Always an attachment, with its checksum, nosniff and a sandboxing CSP."""
    return uploads.send_stored(attachment_path(comment), comment.content_type, comment.filename, comment.sha256,
                               f"the attachment of comment {comment.id} is missing from storage")
