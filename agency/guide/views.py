"""The public pages of R19: the service guide and the quarterly disclosure, without signing in."""
from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from agency import clock
from agency.calendar.services import get_calendar
from agency.catalog.models import Department
from agency.errors import BadInput, NotFound
from agency.extensions import db
from agency.guide import services

bp = Blueprint("guide", __name__)


@bp.get("/guide")
def index():
    """Departments and their items; ``?department=CODE`` keeps one (an unknown code: message, all shown, 400)."""
    asked = request.args.get("department", "").strip() or None
    error = None
    try:
        items = services.guide_items(db.session, asked)
    except BadInput:
        error, items = _("没有编码为“%(code)s”的部门，下方为全部事项。", code=asked), services.guide_items(db.session)
    departments = db.session.scalars(select(Department).order_by(Department.code)).all()
    groups = [(d, [i for i in items if i.department_id == d.id]) for d in departments]
    return render_template("guide/index.html", departments=departments, groups=[g for g in groups if g[1]],
                           selected=None if error else asked, count=len(items), error=error), 400 if error else 200


@bp.get("/guide/<code>")
def item(code):
    try:
        entry = services.get_guide_item(db.session, code)
    except NotFound:
        abort(404)
    return render_template("guide/item.html", item=entry)


@bp.get("/disclosure")
def disclosure():
    """The quarterly disclosure; ``?quarter=YYYYQn`` picks a closed quarter (otherwise a message, the default
    quarter shown, 400)."""
    today = clock.local(clock.now()).date()
    asked = request.args.get("quarter", "").strip()
    error = None
    try:
        quarter = services.closed_quarter(asked, today)
    except BadInput:
        error, quarter = _("“%(value)s”不是已结束的季度，请按 年Q季度 选择（如 2026Q3）。下方为上一季度的数据。",
                           value=asked), services.closed_quarter(None, today)
    data = services.quarterly_disclosure(db.session, get_calendar(db.session), quarter, clock.hall_tz())
    return render_template("guide/disclosure.html", data=data, quarter=quarter, error=error,
                           quarters=services.recent_quarters(today), label=services.quarter_label
                           ), 400 if error else 200
