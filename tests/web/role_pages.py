"""The main pages of each role of the demo hall, for the phone-width and accessibility browser tests
(tests/web/test_browser_visual.py, tests/web/test_browser_a11y.py).

A path is fixed, or a page found in the demo's data (the first project of the agent, a task of the
liaison's department, the enterprise's contact card), looked up once per live server."""
from sqlalchemy import select

ROLE_PAGES = {
    "director": ["/home", "/projects/all", "/director/workload", "/supervision/", "/director/rankings",
                 "/director/reports", "/meetings/calendar", "/complaints", "/director/settings", "/director/liaisons",
                 "/users", "/catalog/", "/inbox", "/account", "project"],
    "agent1": ["/home", "/projects", "project", "materials", "/meetings/", "/notices", "/inbox", "/catalog/"],
    "fgw_a": ["/home", "/tasks/inbox", "task", "/meetings/invitations", "/notices", "/inbox"],
    "ent1": ["/home", "/projects", "project", "card", "/projects/new", "/notices", "/complaints", "/inbox"],
}
PUBLIC_PAGES = ["/login", "/guide", "/disclosure"]


def demo_paths(app) -> dict[str, dict[str, str]]:
    """username -> {"project"/"materials"/"task"/"card": path} from the demo's rows."""
    from agency.extensions import db
    from agency.people.models import User
    from agency.projects.models import ContactCard, Project
    from agency.tasks.models import Task
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(ROLE_PAGES)))}
        agents_project = db.session.scalar(select(Project.id).where(Project.agent_id == users["agent1"].id)
                                           .order_by(Project.id))
        carded = db.session.scalar(select(Project.id).join(ContactCard, ContactCard.project_id == Project.id)
                                   .where(Project.enterprise_id == users["ent1"].id, ContactCard.void.is_(False))
                                   .order_by(Project.id))
        task = db.session.scalar(select(Task.id).where(Task.department_id == users["fgw_a"].department_id)
                                 .order_by(Task.id))
        db.session.remove()
    return {"director": {"project": f"/projects/{agents_project}"},
            "agent1": {"project": f"/projects/{agents_project}", "materials": f"/projects/{agents_project}/materials"},
            "fgw_a": {"task": f"/tasks/{task}"},
            "ent1": {"project": f"/projects/{carded}", "card": f"/projects/{carded}/card"}}


def main_pages(app, username: str) -> list[str]:
    found = demo_paths(app)[username]
    return [found.get(path, path) for path in ROLE_PAGES[username]]
