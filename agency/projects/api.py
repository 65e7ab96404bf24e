"""Projects: entrust, list, read, assign, dispatch, withdraw, timeline."""
from flask import jsonify, url_for
from sqlalchemy.orm import selectinload

from agency import clock
from agency.api import Blueprint, caller, current_user, error_body, roles
from agency.audit.services import Actor
from agency.extensions import db
from agency.people.access import get_project, is_assigned_agent, visible_projects
from agency.projects import decisions, services
from agency.projects.models import Project
from agency.projects.schemas import (LIST_PAGE, SEARCH_PAGE, AgreementInput, AssignInput, DispatchAnswer, DispatchInput, EntrustInput,
                                     ProjectDetailSchema, ProjectPatch, ProjectQuery, ProjectSchema, ReasonInput,
                                     TimelineEntry, WithdrawInput)
from agency.projects.timeline import timeline

blp = Blueprint("projects_api", __name__, description="Projects from entrustment to completion")


@blp.post("/projects")
@roles("enterprise", "agent")
@blp.arguments(EntrustInput)
@blp.response(201, ProjectDetailSchema)
def entrust(data):
    """Entrust a project (an enterprise for itself, or an agent on its behalf with ``enterprise_id``)."""
    project = services.entrust_project(db.session, clock.now(), current_user(), **data)
    db.session.commit()
    return project


LINK = {"description": "only when there are more projects: `<URL of the next page>; rel=\"next\"` (RFC 8288), "
                       "the same filters and limit with the cursor `after`", "schema": {"type": "string"}}


@blp.get("/projects")
@blp.arguments(ProjectQuery, location="query")
@blp.response(200, ProjectSchema(many=True), headers={"Link": LINK})
def list_projects(query):
    """The caller's projects, newest first; ``q`` finds them by a word of the name, the tracking code or the
    project code.

    A page at a time: ``limit`` projects (default 1,000 as the list held before it had pages; 50 for a
    search, which people read); when there are more, the ``Link`` header gives the next page's URL.
    """
    limit = query.get("limit") or (SEARCH_PAGE if query.get("q") else LIST_PAGE)
    statement = (services.search(visible_projects(current_user()), query.get("q")).order_by(Project.id.desc())
                 .options(selectinload(Project.project_type), selectinload(Project.enterprise)))
    if query.get("status"):
        statement = statement.where(Project.status == query["status"])
    if query.get("after"):
        statement = statement.where(Project.id < query["after"])
    projects = db.session.scalars(statement.limit(limit + 1)).all()
    response = jsonify(ProjectSchema(many=True).dump(projects[:limit]))
    if len(projects) > limit:
        params = {k: query[k] for k in ("status", "q") if query.get(k)}
        url = url_for("projects_api.list_projects", _external=True, **params, limit=limit, after=projects[limit - 1].id)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


@blp.get("/projects/<int:project_id>")
@blp.response(200, ProjectDetailSchema)
def read(project_id):
    """The project as the caller may read it: a liaison gets its identity and stage and its own department's
    tasks, without the enterprise's contact, the agreement, delivery and visits (agency.people.scope)."""
    return get_project(db.session, current_user(), project_id)


@blp.post("/projects/<int:project_id>/assign")
@roles("director")
@blp.arguments(AssignInput)
@blp.response(200, ProjectDetailSchema)
def assign(data, project_id):
    project = get_project(db.session, current_user(), project_id)
    services.assign_agent(db.session, clock.now(), current_user(), project, data["agent_id"])
    db.session.commit()
    return project


@blp.patch("/projects/<int:project_id>")
@roles("enterprise", "agent")
@blp.arguments(ProjectPatch)
@blp.response(200, ProjectDetailSchema)
def update(data, project_id):
    """Give the investment project code (``YYYY-AAAAAA-II-TT-NNNNNN``)."""
    project = get_project(db.session, current_user(), project_id)
    services.set_project_code(db.session, clock.now(), current_user(), project, data["project_code"])
    db.session.commit()
    return project


@blp.post("/projects/<int:project_id>/agreement")
@roles("enterprise", "agent")
@blp.arguments(AgreementInput)
@blp.response(200, ProjectDetailSchema)
def sign_agreement(data, project_id):
    """The enterprise signs the entrustment agreement; its agent may record a paper signature with its date."""
    project = get_project(db.session, current_user(), project_id)
    services.accept_agreement(db.session, clock.now(), current_user(), project, data["paper_signed_on"])
    db.session.commit()
    return project


@blp.post("/projects/<int:project_id>/dispatch")
@roles("agent")
@blp.arguments(DispatchInput)
@blp.response(200, DispatchAnswer)
def dispatch(data, project_id):
    """Dispatch the next stage of the template (or the chosen items of it)."""
    user = caller()  # id, role and department: all the dispatch needs of its caller, no User built
    project = get_project(db.session, user, project_id, to_change=True)
    if not is_assigned_agent(user, project):
        return error_body(403, "forbidden", "only the agent carrying the project dispatches it")
    stage, tasks = services.dispatch_stage(db.session, clock.now(), Actor.of(user), project, data.get("items"),
                                           data.get("deferred"))
    db.session.commit()
    return {"stage": stage, "tasks": tasks}


@blp.post("/projects/<int:project_id>/withdraw")
@roles("enterprise")
@blp.arguments(WithdrawInput)
@blp.response(200, ProjectDetailSchema)
def withdraw(data, project_id):
    project = get_project(db.session, current_user(), project_id)
    services.withdraw_project(db.session, clock.now(), current_user(), project, data["reason"])
    db.session.commit()
    return project


@blp.post("/projects/<int:project_id>/end")
@blp.arguments(ReasonInput)
@blp.response(200, ProjectDetailSchema)
def end(data, project_id):
    """After a refusal, the carrying agent ends the project: terminated (cause refused), open tasks cancelled."""
    project = get_project(db.session, current_user(), project_id)
    decisions.end_project(db.session, clock.now(), current_user(), project, data["reason"])
    db.session.commit()
    return project


@blp.post("/projects/<int:project_id>/suspend")
@blp.arguments(ReasonInput)
@blp.response(200, ProjectDetailSchema)
def suspend(data, project_id):
    """At the enterprise's request the carrying agent suspends the project: every running clock stops."""
    project = get_project(db.session, current_user(), project_id)
    decisions.suspend_project(db.session, clock.now(), current_user(), project, data["reason"])
    db.session.commit()
    return project


@blp.post("/projects/<int:project_id>/resume")
@blp.response(200, ProjectDetailSchema)
def resume(project_id):
    """The carrying agent resumes it: each task gets back the working days it had left."""
    project = get_project(db.session, current_user(), project_id)
    decisions.resume_project(db.session, clock.now(), current_user(), project)
    db.session.commit()
    return project


@blp.get("/projects/<int:project_id>/timeline")
@blp.response(200, TimelineEntry(many=True))
def project_timeline(project_id):
    """The project's events the caller may read (a liaison: its tasks, its meetings and the project's life)."""
    return timeline(db.session, get_project(db.session, current_user(), project_id), current_user())

