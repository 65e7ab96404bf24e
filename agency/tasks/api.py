"""Department tasks: the liaison's queue and its answers."""
from sqlalchemy.orm import selectinload

from agency import clock
from agency.api import Blueprint, current_user, roles
from agency.audit.services import Actor
from agency.extensions import db
from agency.people.access import get_task, visible_tasks
from agency.tasks import services
from agency.tasks.models import OPEN_CLAUSE, Task

# What a serialised task touches, loaded with the list instead of row by row.
TASK_LOADS = (selectinload(Task.project), selectinload(Task.stage), selectinload(Task.department),
              selectinload(Task.item), selectinload(Task.supplements))
from agency.tasks.schemas import AnswerInput, SupplementInput, TaskQuery, TaskSchema

blp = Blueprint("tasks_api", __name__, description="Department tasks (办件)")


@blp.get("/tasks")
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskSchema(many=True))
def list_tasks(query):
    """Liaison: its department's tasks; agent: its projects'; director: all.  Soonest deadline first."""
    statement = visible_tasks(current_user()).order_by(Task.deadline, Task.id).options(*TASK_LOADS)
    if query.get("status") == "open":
        statement = statement.where(OPEN_CLAUSE)
    elif query.get("status"):
        statement = statement.where(Task.status == query["status"])
    if query.get("project_id"):
        statement = statement.where(Task.project_id == query["project_id"])
    return db.session.scalars(statement.limit(1000)).all()


@blp.get("/tasks/<int:task_id>")
@blp.response(200, TaskSchema)
def read(task_id):
    return get_task(db.session, current_user(), task_id)


@blp.post("/tasks/<int:task_id>/accept")
@roles("liaison")
@blp.response(200, TaskSchema)
def accept(task_id):
    task = get_task(db.session, current_user(), task_id)
    services.accept_task(db.session, clock.now(), Actor.of(current_user()), task)
    db.session.commit()
    return task


@blp.post("/tasks/<int:task_id>/supplement")
@roles("liaison")
@blp.arguments(SupplementInput)
@blp.response(200, TaskSchema)
def supplement(data, task_id):
    """One-time notice: list every missing material at once; the clock stops."""
    task = get_task(db.session, current_user(), task_id)
    services.request_supplement(db.session, clock.now(), Actor.of(current_user()), task, data["materials"],
                                data["note"])
    db.session.commit()
    return task


@blp.post("/tasks/<int:task_id>/materials-supplied")
@roles("agent", "enterprise")
@blp.response(200, TaskSchema)
def materials_supplied(task_id):
    """The materials arrived: the clock restarts with the full promised limit."""
    task = get_task(db.session, current_user(), task_id)
    services.supply_materials(db.session, clock.now(), Actor.of(current_user()), task)
    db.session.commit()
    return task


@blp.post("/tasks/<int:task_id>/answer")
@roles("liaison")
@blp.arguments(AnswerInput)
@blp.response(200, TaskSchema)
def answer(data, task_id):
    task = get_task(db.session, current_user(), task_id)
    services.answer_task(db.session, clock.now(), Actor.of(current_user()), task, data["decision"], data["opinion"])
    db.session.commit()
    return task
