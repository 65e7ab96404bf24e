"""The director's API: workload, suggestion, leave and skills, rankings, kept reports."""
from pathlib import Path

from flask import send_file

from agency import clock
from agency.api import Blueprint, current_user, produces, roles
from agency.calendar.services import get_calendar
from agency.director import services
from agency.director.schemas import (AgentFigures, DepartmentFigures, LeaveAnswer, LeaveInput, PeriodQuery,
                                     ProjectTypeFigures, ReportQuery, ReportSchema, SkillsAnswer, SkillsInput,
                                     StarFigures, SuggestionSchema, VisitFigures, WorkloadRow, period_between)
from agency.director.workload import suggest_agent, workload
from agency.errors import NotFound
from agency.extensions import db
from agency.people.access import get_project
from agency.supervision import figures
from agency.supervision.models import Report
from agency.supervision.reports import list_reports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

blp = Blueprint("director_api", __name__, description="The hall director: workload, assignment, rankings, reports")


def period_from(query: dict) -> figures.Period:
    """``from``/``to`` of the query; by default the current month to today (hall dates); 400 if reversed."""
    return period_between(query.get("start"), query.get("end"), clock.local(clock.now()).date())


@blp.get("/workload")
@roles("director")
@blp.response(200, WorkloadRow(many=True))
def get_workload():
    """Per agent: open projects, open tasks, weighted load, projects by running stage, leave, skills."""
    return workload(db.session)


@blp.get("/projects/<int:project_id>/assignment-suggestion")
@roles("director")
@blp.response(200, SuggestionSchema)
def assignment_suggestion(project_id):
    """The suggested agent (R7): not on leave, skilled in the type, least loaded; 422 without a candidate."""
    project = get_project(db.session, current_user(), project_id)
    suggestion = suggest_agent(db.session, project)
    return {"agent_id": suggestion.agent_id, "reason": suggestion.reason}


@blp.post("/agents/<int:agent_id>/leave")
@roles("director")
@blp.arguments(LeaveInput)
@blp.response(200, LeaveAnswer)
def agent_leave(data, agent_id):
    """Leave on or off; going on leave, ``reassign_to`` (or ``reassign_suggested``) hands every open
    project over, each with a new contact card."""
    agent = services.get_agent(db.session, agent_id)
    moved = services.set_agent_leave(db.session, clock.now(), current_user(), agent, data["on_leave"],
                                     data.get("reassign_to"), data.get("reassign_suggested", False))
    db.session.commit()
    return {"agent_id": agent.id, "on_leave": agent.on_leave,
            "reassigned": [{"project_id": p.id, "agent_id": a.id} for p, a in moved]}


@blp.put("/agents/<int:agent_id>/skills")
@roles("director")
@blp.arguments(SkillsInput)
@blp.response(200, SkillsAnswer)
def agent_skills(data, agent_id):
    """The project type codes the agent takes (empty list: any type)."""
    agent = services.get_agent(db.session, agent_id)
    services.set_skills(db.session, clock.now(), current_user(), agent, data["skills"])
    db.session.commit()
    return {"agent_id": agent.id, "skills": agent.skills}


@blp.get("/reports/departments")
@roles("director")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, DepartmentFigures(many=True))
def department_report(query):
    """Per department, for tasks closed from ``from`` to ``to`` (hall dates, both included)."""
    return figures.department_figures(db.session, get_calendar(db.session), period_from(query), clock.hall_tz())


@blp.get("/reports/agents")
@roles("director")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, AgentFigures(many=True))
def agent_report(query):
    return figures.agent_figures(db.session, get_calendar(db.session), period_from(query), clock.hall_tz())


@blp.get("/reports/project-types")
@roles("director")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, ProjectTypeFigures(many=True))
def project_type_report(query):
    """Per project type: working days from entrustment to completion against the "3550" target."""
    return figures.project_type_figures(db.session, get_calendar(db.session), period_from(query), clock.hall_tz())


@blp.get("/reports/visits")
@roles("director")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, VisitFigures(many=True))
def visit_report(query):
    """Per project type, over the projects completed from ``from`` to ``to``: the share with no visit to the
    hall (不见面), with at most one (最多跑一次), and those with more, with the reasons (R18)."""
    return figures.visit_figures(db.session, period_from(query), clock.hall_tz())


@blp.get("/reports/stars")
@roles("director")
@blp.response(200, StarFigures(many=True))
def star_report():
    """The catalog's items at each online service level 1..5, zeros included, and their share (R17)."""
    return figures.star_figures(db.session)


@blp.get("/reports")
@roles("director")
@blp.arguments(ReportQuery, location="query")
@blp.response(200, ReportSchema(many=True))
def reports(query):
    """The kept daily, weekly, monthly and quarterly reports, newest first."""
    return list_reports(db.session, query.get("period"))


def report_file(report_id: int, kind: str):
    report = db.session.get(Report, report_id)
    path = Path(getattr(report, f"{kind}_path")) if report is not None else None
    if path is None or not path.is_file():
        raise NotFound(f"report {report_id} not found")
    mimetype = "text/csv" if kind == "csv" else XLSX
    return send_file(path, mimetype=mimetype, as_attachment=True,
                     download_name=f"report-{report.period}-{report.start.isoformat()}.{kind}")


@blp.get("/reports/<int:report_id>.csv")
@roles("director")
@produces(200, "the kept report, a CSV file (UTF-8)", "text/csv")
def report_csv(report_id):
    return report_file(report_id, "csv")


@blp.get("/reports/<int:report_id>.xlsx")
@roles("director")
@produces(200, "the kept report, an Excel workbook", XLSX)
def report_xlsx(report_id):
    return report_file(report_id, "xlsx")
