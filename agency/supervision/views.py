"""The supervision board (电子监察): cards by department and agent, tasks due today, escalations."""
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from agency import clock
from agency.director.forms import ResolveForm
from agency.errors import DomainError
from agency.extensions import db
from agency.supervision import board as queries
from agency.supervision.figures import Period
from agency.supervision.models import Escalation
from agency.supervision.services import resolve_escalation
from agency.web.access import role_required
from agency.web.errors import page_message

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
SPANS = ("today", "week", "month")


def span_period(span: str) -> Period:
    today = clock.local(clock.now()).date()
    if span == "today":
        return Period(today, today)
    if span == "week":
        return Period(today - timedelta(days=today.weekday()), today)
    return Period(today.replace(day=1), today)


@bp.get("/", endpoint="board")
@role_required("director")
def board():
    span = request.args.get("span") if request.args.get("span") in SPANS else "month"
    period, tz, now = span_period(span), clock.hall_tz(), clock.now()
    cards = queries.recent_cards(db.session, period, tz)
    by_department: dict = {}
    by_agent: dict = {}
    for row in cards:
        if row["card"].department_id:
            by_department.setdefault(row["card"].department_id, []).append(row)
        if row["agent_id"]:
            by_agent.setdefault(row["agent_id"], []).append(row)
    escalations = queries.open_escalations(db.session)
    due_today, due_total = queries.tasks_due_today(db.session, now, tz)
    return render_template(
        "supervision/board.html", span=span, period=period,
        departments=queries.cards_by_department(db.session, period, tz),
        agents=queries.cards_by_agent(db.session, period, tz), by_department=by_department, by_agent=by_agent,
        card_limit=queries.CARD_LIMIT, cards_shown=len(cards), due_today=due_today, due_total=due_total,
        escalations=escalations, forms={e.id: ResolveForm(prefix=f"e{e.id}", formdata=None) for e in escalations},
        deferrals=queries.overdue_deferrals(db.session, now), now=now)


@bp.post("/escalations/<int:escalation_id>/resolve")
@role_required("director")
def resolve(escalation_id):
    escalation = db.get_or_404(Escalation, escalation_id)
    form = ResolveForm(prefix=f"e{escalation.id}")
    if form.validate_on_submit():
        try:
            resolve_escalation(db.session, clock.now(), current_user, escalation, form.resolution.data)
            db.session.commit()
            flash(_("督办结果已记录"), "success")
        except DomainError as error:
            db.session.rollback()
            flash(page_message(error), "error")
    else:
        flash(_("请填写督办结果"), "error")
    return redirect(url_for("supervision.board") + "#escalations")
