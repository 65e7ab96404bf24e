"""The catalog, browsable by everyone signed in."""
from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select

from agency.catalog.models import Department, ProjectType
from agency.catalog.services import list_items, stage_names
from agency.extensions import db

bp = Blueprint("catalog", __name__, url_prefix="/catalog")


@bp.get("/")
@login_required
def index():
    department = request.args.get("department") or None
    return render_template(
        "catalog/index.html",
        departments=db.session.scalars(select(Department).order_by(Department.code)).all(),
        items=list_items(db.session, department), selected=department, stages=stage_names(db.session),
        project_types=db.session.scalars(select(ProjectType).order_by(ProjectType.code)).all(),
    )
