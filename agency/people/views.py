"""Sign-in and sign-out for pages."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from agency.extensions import db, limiter, login
from agency.people.forms import LoginForm
from agency.people.models import User
from agency.people.services import authenticate

bp = Blueprint("people", __name__)
login.login_view = "people.login"
login.login_message = None


@login.user_loader
def load_user(value: str) -> User | None:
    user_id, _, nonce = value.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.session_nonce == nonce and user.active else None


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _is_local_path(target: str) -> bool:
    """A path on this site.  Browsers read "/\\host" and "/<tab>/host" as "//host", so refuse those too."""
    return (target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 32 or ord(c) == 127 for c in target))


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
@limiter.limit(_login_limit, methods=["POST"])
def login_page():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            form.password.errors.append(_("用户名或密码不正确"))
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session at sign-in (no fixation)
            if lang:
                session["lang"] = lang
            login_user(user)
            db.session.commit()
            target = request.args.get("next", "")
            return redirect(target if _is_local_path(target) else url_for("web.home"))
    return render_template("people/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash(_("已退出"), "info")
    return redirect(url_for("people.login"))
