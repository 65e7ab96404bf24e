"""The in-app inbox of every signed-in person, and the unread count in the navigation."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from agency import clock
from agency.extensions import db
from agency.notifications.models import Message
from agency.notifications import services
from agency.notifications.services import unread_count
from agency.projects.forms import ActionForm

bp = Blueprint("notifications", __name__)

SHOWN = 200


@bp.get("/inbox", endpoint="inbox")
@login_required
def inbox():
    messages = db.session.scalars(select(Message).where(Message.user_id == current_user.id)
                                  .order_by(Message.created_at.desc(), Message.id.desc()).limit(SHOWN)).all()
    unread = sum(1 for m in messages if m.read_at is None)
    return render_template("notifications/inbox.html", messages=messages, unread=unread,
                           form=ActionForm(formdata=None))


@bp.post("/inbox/read-all", endpoint="read_all")
@login_required
def read_all():
    if ActionForm().validate_on_submit():
        count = services.mark_all_read(db.session, clock.now(), current_user)
        db.session.commit()
        flash(_("已将 %(n)s 条消息标为已读。", n=count), "success")
    return redirect(url_for("notifications.inbox"))


@bp.app_context_processor
def unread_in_nav():
    """Wrap the navigation so the inbox entry reads "消息 (3)" while messages are unread."""
    from agency.web import nav

    def nav_items():
        items = nav.nav_items()
        if not any(endpoint == "notifications.inbox" for endpoint, _label in items):
            return items
        count = unread_count(db.session, current_user)
        if not count:
            return items
        return [(e, f"{label} ({count})" if e == "notifications.inbox" else label) for e, label in items]
    return {"nav_items": nav_items}
