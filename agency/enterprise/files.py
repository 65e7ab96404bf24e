"""Material files as pages and the API hand them out: listed per task, sent as attachments."""
from sqlalchemy import select

from agency.enterprise import services, uploads
from agency.extensions import db
from agency.tasks.models import MaterialFile, Task


def materials_of(task: Task) -> dict:
    """What the one-time notice asks for, what is still missing, and every file of the task."""
    waiting = services.open_supplement(task)
    latest = waiting or (task.supplements[-1] if task.supplements else None)
    files = db.session.scalars(select(MaterialFile).where(MaterialFile.task_id == task.id)
                               .order_by(MaterialFile.id)).all()
    return {"task_id": task.id, "status": task.status, "requested": list(latest.materials) if latest else [],
            "missing": services.missing_materials(waiting) if waiting else [], "files": files,
            "checklist": task_checklist(task)}


def task_checklist(task: Task) -> list:
    """The entries of the project's checklist that the task's item needs: the same files for every task."""
    from agency.materials.services import checklist
    return [e for e in checklist(db.session, task.project) if task.item.code in e.items]


def commit_or_discard(row: MaterialFile) -> None:
    """Commit; when the commit fails the stored file goes too, so nothing is kept."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        try:
            services.material_path(row).unlink()
        except (FileNotFoundError, ValueError):
            pass
        raise


def send_material(material: MaterialFile):
    """Always an attachment, with the type read from the content (never HTML), and nosniff."""
    return uploads.send_stored(services.material_path(material), material.content_type, material.filename,
                               material.sha256, f"file {material.id} is missing from storage")
