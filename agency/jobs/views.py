"""Operations in the browser: the director's view of the queues, with a retry per failed job."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from redis.exceptions import RedisError

from agency import clock
from agency.audit.services import Actor
from agency.director.forms import ActionForm
from agency.errors import DomainError
from agency.extensions import db
from agency.jobs.health import failed_jobs, queue_health, retry_job
from agency.jobs.services import MAX_ATTEMPTS
from agency.web.access import role_required

bp = Blueprint("ops", __name__, url_prefix="/ops")


@bp.get("/queues", endpoint="queues")
@role_required("director")
def queues_page():
    now = clock.now()
    health = queue_health(db.session, now)
    failed, failed_total = [], 0
    if health.redis_error is None:
        try:
            failed, failed_total = failed_jobs(db.session)
        except RedisError as error:
            health.redis_error = str(error) or error.__class__.__name__
    return render_template("ops/queues.html", health=health, failed=failed, failed_total=failed_total, now=now,
                           max_attempts=MAX_ATTEMPTS)


@bp.post("/queues/<queue>/jobs/<job_id>/retry", endpoint="retry")
@role_required("director")
def retry(queue, job_id):
    if not ActionForm().validate_on_submit():
        flash(_("提交无效，请重试"), "error")
        return redirect(url_for("ops.queues"))
    try:
        how = retry_job(db.session, clock.now(), Actor.of(current_user), queue, job_id)
        db.session.commit()
        flash(_("已将任务 %(job)s 重新放回队列 %(queue)s", job=job_id, queue=queue) if how == "requeued" else
              _("已将搁置的任务 %(job)s 重新加入队列 %(queue)s", job=job_id, queue=queue), "success")
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(error.message, "error")  # retry_job refuses in the page's words (agency.jobs.health)
    except RedisError:
        db.session.rollback()
        flash(_("无法连接 Redis，任务未重试"), "error")
    return redirect(url_for("ops.queues") + "#failed")
