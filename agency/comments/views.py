"""The conversation on the task page: write a comment (public or internal, with an attachment), download one."""
from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required

from agency import clock
from agency.comments import services
from agency.comments.files import send_attachment
from agency.comments.forms import CommentForm
from agency.errors import DomainError, Forbidden, NotFound
from agency.extensions import db
from agency.people.access import get_task
from agency.tasks.models import Task
from agency.web.access import role_required

bp = Blueprint("comments", __name__)

# Errors of add_comment, said to a person (the API says them in English in its own shape).
MESSAGES = {400: _l("文件名不正确或文件为空：文件名不能包含路径。"),
            413: _l("文件过大，超过了上传大小限制。"),
            415: _l("不支持的文件类型，或扩展名与文件内容不符。请上传 PDF、PNG、JPEG、DOCX 或 XLSX。")}


def _me():
    return current_user._get_current_object()


@bp.post("/tasks/<bigint:task_id>/comments")
@role_required("liaison", "agent", "director")
def add(task_id: int):
    from agency.tasks.views import render_task
    task = get_task(db.session, _me(), task_id)
    if not services.may_comment(_me(), task):
        raise Forbidden("comments are written by the department's liaisons, the project's agent and the director")
    form = CommentForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            form.body.errors = [*form.body.errors, _("表单已过期，请重新提交。")]
        return render_task(task, 400, comment_form=form)
    upload = form.file.data if form.file.data and form.file.data.filename else None
    try:
        comment = services.add_comment(
            db.session, clock.now(), _me(), task, form.body.data, internal=form.internal,
            filename=upload.filename if upload else None, stream=upload.stream if upload else None,
            link=url_for("tasks.show", task_id=task.id),
            public_link=url_for("projects.show", project_id=task.project_id) + "#comments")
    except DomainError as error:
        if isinstance(error, (NotFound, Forbidden)):
            raise
        db.session.rollback()
        target = form.file if error.status in (413, 415) or "file" in error.fields else form.body
        target.errors = [*target.errors, str(MESSAGES.get(error.status, _("留言未提交，请检查后重试。")))]
        return render_task(db.session.get(Task, task.id), error.status, comment_form=form)
    services.commit_or_discard(db.session, comment)
    flash(_("留言已发布（企业也可见）。") if not comment.internal else _("内部留言已发布（企业看不到）。"), "success")
    return redirect(url_for("tasks.show", task_id=task.id) + f"#comment-{comment.id}")


@bp.get("/comments/<int:comment_id>/attachment")
@login_required
def attachment(comment_id: int):
    return send_attachment(services.get_comment(db.session, _me(), comment_id))


@bp.app_context_processor
def comment_helpers():
    from agency.web.nav import ROLE_LABELS

    def project_comments(project):
        """The comments of the project's tasks the signed-in reader may read (the project page)."""
        if not current_user.is_authenticated:
            return []
        return services.project_comments(db.session, _me(), project.id)
    return {"role_name": lambda role: ROLE_LABELS.get(role, role), "project_comments": project_comments}
