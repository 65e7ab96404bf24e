"""The home page of each role, and the language switch."""
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("people.login"))
    return redirect(url_for("web.home"))


@bp.get("/home")
@login_required
def home():
    return render_template(f"web/home_{current_user.role}.html")


@bp.post("/lang/<code>")
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    target = request.form.get("next") or url_for("web.index")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("web.index"))
