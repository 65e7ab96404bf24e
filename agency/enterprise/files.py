"""Material files as pages and the API hand them out: listed per task, sent as attachments."""
from flask import current_app, send_file
from sqlalchemy import select

from agency.enterprise import services
from agency.errors import NotFound
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
    path = services.material_path(material)
    if not path.is_file():
        current_app.logger.error("material file %s missing at %s", material.id, path)
        raise NotFound(f"file {material.id} is missing from storage")
    response = send_file(path, mimetype=material.content_type, as_attachment=True, download_name=material.filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Checksum-SHA256"] = material.sha256
    return response
