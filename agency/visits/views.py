"""Record a visit of the enterprise to the hall from the project page (R18)."""
from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from agency import clock
from agency.errors import BadInput, DomainError, Forbidden, NotFound
from agency.extensions import db
from agency.people.access import get_project
from agency.projects.views import render_project
from agency.visits import services
from agency.visits.forms import VisitForm
from agency.web.access import role_required

bp = Blueprint("visits", __name__)


@bp.post("/projects/<int:project_id>/visits")
@role_required("agent")
def record(project_id: int):
    project = get_project(db.session, current_user, project_id)
    form = VisitForm()
    if not form.validate_on_submit():
        return render_project(project, 400, error=_("到厅记录未保存，请按提示修改。"), visit_form=form)
    try:
        services.record_visit(db.session, clock.now(), current_user._get_current_object(), project, form.on.data,
                              form.reason.data)
    except DomainError as error:
        if isinstance(error, (NotFound, Forbidden)):
            raise
        db.session.rollback()
        if isinstance(error, BadInput) and "on" in error.fields:
            form.on.errors = [_("到厅日期须在委托之后、不晚于今天")]
        return render_project(project, error.status, error=_("到厅记录未保存，请按提示修改。"), visit_form=form)
    db.session.commit()
    flash(_("已记录企业到厅（%(on)s）。", on=form.on.data.isoformat()), "success")
    return redirect(url_for("projects.show", project_id=project.id) + "#visits")
