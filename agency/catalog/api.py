"""Departments, catalog items and project types."""
from sqlalchemy import select

from agency.api import Blueprint
from agency.catalog.models import Department, ProjectType
from agency.catalog.schemas import DepartmentSchema, ItemQuery, ItemSchema, ProjectTypeSchema
from agency.catalog.services import item_view, list_items, stage_names
from agency.extensions import db

blp = Blueprint("catalog_api", __name__, description="Departments and the agency catalog")


@blp.get("/departments")
@blp.response(200, DepartmentSchema(many=True))
def departments():
    return db.session.scalars(select(Department).order_by(Department.code)).all()


@blp.get("/catalog/items")
@blp.arguments(ItemQuery, location="query")
@blp.response(200, ItemSchema(many=True))
def items(query):
    stages = stage_names(db.session)
    return [item_view(item, stages) for item in list_items(db.session, query.get("department"))]


@blp.get("/project-types")
@blp.response(200, ProjectTypeSchema(many=True))
def project_types():
    return db.session.scalars(select(ProjectType).order_by(ProjectType.code)).all()
