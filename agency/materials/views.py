"""The checklist page (R14, R15): every material once, its status, the upload of each, the agent's pre-review."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from agency import clock
from agency.enterprise.files import commit_or_discard
from agency.errors import BadInput, DomainError, Forbidden, NotFound
from agency.extensions import db
from agency.materials import services
from agency.materials.forms import FileForm, PrereviewForm
from agency.people.access import get_project, is_assigned_agent
from agency.people.models import User
from agency.projects.models import Project
from agency.web.access import role_required
from agency.web.errors import page_message

bp = Blueprint("materials", __name__)

# status -> (label, badge tone): the label says it, the colour only repeats it
STATUSES = {"missing": (_l("待上传"), "warn"), "awaiting_result": (_l("待前序事项出具"), "info"),
            "uploaded": (_l("待预审"), "info"), "accepted": (_l("预审通过"), "ok"),
            "returned": (_l("已退回"), "bad"), "deferred": (_l("容缺待补"), "warn"),
            "from_result": (_l("由办理结果提供"), "ok")}
# Errors of file_material, said to a person (the API says them in English in its own shape).
UPLOAD_MESSAGES = {400: _l("文件名不正确或文件为空：文件名不能包含路径。"),
                   403: _l("只有委托企业或承办代办员可以上传材料。"),
                   409: _l("项目已办结或终止，不能再上传材料。"),
                   413: _l("文件过大，超过了上传大小限制。"),
                   415: _l("不支持的文件类型，或扩展名与文件内容不符。请上传 PDF、PNG、JPEG、DOCX 或 XLSX。"),
                   422: _l("该材料不在本项目的材料清单上。")}


@bp.app_template_filter("material_status")
def material_status(status: str) -> str:
    return str(STATUSES.get(status, (status, ""))[0])


@bp.app_template_filter("material_tone")
def material_tone(status: str) -> str:
    return STATUSES.get(status, ("", ""))[1]


def _me() -> User:
    return current_user._get_current_object()


def anchor(entries, name: str) -> str:
    """The id of an entry's card on the page (``entry-<n>``), so a form returns the reader to it."""
    names = [e.name for e in entries]
    return f"entry-{names.index(name) + 1}" if name in names else "checklist"


def render_checklist(project: Project, status: int = 200, *, error: str | None = None,
                     upload: tuple[str, str] | None = None, prereview_form: PrereviewForm | None = None):
    """The page; ``upload`` is (material name, message) of a refused upload, shown next to its form."""
    user = _me()
    items = {i.code: i for i in services.template_items(db.session, project)}
    entries = services.checklist(db.session, project, list(items.values()))
    carrying = is_assigned_agent(user, project) and project.is_open
    if prereview_form is None:
        reviewable = [e for e in entries if e.status == "uploaded"] if carrying else []
        prereview_form = PrereviewForm(formdata=None, data={"decisions": [{"name": e.name} for e in reviewable]})
    review = {d.form.name.data: d.form for d in prereview_form.decisions}
    # the entries whose decision was refused, linked from the message at the top (the page opens there)
    refused = [(name, anchor(entries, name)) for name, d in review.items() if d.errors]
    counts = {s: sum(1 for e in entries if e.status == s) for s in STATUSES}
    return render_template(
        "materials/checklist.html", project=project, entries=entries, error=error, counts=counts, items=items,
        may_file=services.may_file(user, project) and project.is_open, carrying=carrying,
        failed_upload=upload, prereview_form=prereview_form, review=review, refused=refused, upload_form=FileForm(formdata=None),
    ), status


@bp.get("/projects/<int:project_id>/materials")
@login_required
def checklist(project_id: int):
    return render_checklist(get_project(db.session, _me(), project_id))


@bp.post("/projects/<int:project_id>/materials")
@role_required("enterprise", "agent")
def file(project_id: int):
    project = get_project(db.session, _me(), project_id)
    form = FileForm()
    name = (form.name.data or "").strip()
    if not form.validate_on_submit():
        message = (_("表单已过期，请重试。") if form.csrf_token.errors
                   else "；".join(str(e) for e in form.file.errors) or str(UPLOAD_MESSAGES[422]))
        return render_checklist(project, 400, upload=(name, message))
    try:
        row = services.file_material(db.session, clock.now(), _me(), project, name, form.file.data.filename,
                                     form.file.data.stream)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        db.session.rollback()
        return render_checklist(project, error.status, upload=(name, str(UPLOAD_MESSAGES.get(error.status)
                                                                                        or page_message(error))))
    commit_or_discard(row)
    flash(_("已上传“%(material)s”：%(name)s。代办员预审后即可派发。", material=row.material, name=row.filename),
          "success")
    entries = services.checklist(db.session, project)
    return redirect(url_for("materials.checklist", project_id=project.id) + "#" + anchor(entries, row.material))


@bp.post("/projects/<int:project_id>/prereview")
@role_required("agent")
def prereview(project_id: int):
    """One form for every filed material: the returns of one submission reach the enterprise in one message."""
    project = get_project(db.session, _me(), project_id)
    form = PrereviewForm()
    if not form.validate_on_submit() or form.returns_without_reason():
        return render_checklist(project, 400, error=_("预审未提交，请按提示修改："), prereview_form=form)
    decisions = form.chosen()
    if not decisions:
        return render_checklist(project, 400, error=_("请至少对一项材料选择“通过”或“退回”。"), prereview_form=form)
    try:
        services.prereview(db.session, clock.now(), _me(), project, decisions)
    except DomainError as error:
        if isinstance(error, (NotFound, Forbidden)):
            raise  # only the carrying agent pre-reviews (the error page says so, as the API does)
        db.session.rollback()
        if isinstance(error, BadInput):
            for d in form.decisions:
                if d.form.name.data in error.fields:
                    d.form.reason.errors = [_("退回须写明原因，企业将据此一次性补正")]
        return render_checklist(project, error.status, prereview_form=form,
                                error=_("预审未提交：材料清单已变化，请以页面上的最新状态为准。"))
    db.session.commit()
    returned = [d["name"] for d in decisions if not d["accepted"]]
    flash(_("预审完成：%(accepted)s项通过，%(returned)s项退回。", accepted=len(decisions) - len(returned),
            returned=len(returned)) + (_("退回原因已一次性告知企业。") if returned else ""), "success")
    return redirect(url_for("materials.checklist", project_id=project.id))


@bp.get("/projects/<int:project_id>/materials/history")
@login_required
def history(project_id: int):
    """Every file filed for the checklist, the replaced ones too, newest first."""
    project = get_project(db.session, _me(), project_id)
    files = list(reversed(services.filed_files(db.session, project)))
    current = {e.file.id for e in services.checklist(db.session, project) if e.file is not None}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({f.uploaded_by_id for f in files})))}
    return render_template("materials/history.html", project=project, files=files, current=current, people=people)
