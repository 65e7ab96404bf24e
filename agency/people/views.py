"""Sign-in and sign-out, the user's own account (password, API tokens), and the director's user pages."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from agency import clock
from agency.audit.services import Actor
from agency.errors import DomainError
from agency.extensions import db, login
from agency.people import services, throttle
from agency.people.forms import ActionForm, ChangePasswordForm, LoginForm, ResetPasswordForm
from agency.people.models import ROLES, User
from agency.web.access import role_required
from agency.web.errors import page_message

bp = Blueprint("people", __name__)
login.login_view = "people.login"
login.login_message = None


@login.user_loader
def load_user(value: str) -> User | None:
    """The session's user, if its nonce is still the user's (sign-out, a password change or deactivation
    changes it) and the user is active: otherwise the session is signed out."""
    user_id, _, nonce = value.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and nonce and user.session_nonce == nonce and user.active else None


def _is_local_path(target: str) -> bool:
    """A path on this site.  Browsers read "/\\host" and "/<tab>/host" as "//host", so refuse those too."""
    return (target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 32 or ord(c) == 127 for c in target))


def _fresh_session(user: User) -> None:
    """A new session for ``user`` (no fixation), keeping the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_page():
    form = LoginForm()
    if form.validate_on_submit():
        now = clock.now()
        wait = throttle.retry_after(now, form.username.data)
        if wait is not None:
            form.password.errors.append(_("登录失败次数过多，请 %(n)s 秒后再试", n=wait))
            return render_template("people/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = services.authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            throttle.count_failure(now, form.username.data)
            form.password.errors.append(_("用户名或密码不正确"))
        else:
            _fresh_session(user)
            db.session.commit()
            target = request.args.get("next", "")
            return redirect(target if _is_local_path(target) else url_for("web.home"))
    return render_template("people/login.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        services.end_sessions(db.session, current_user)  # a copy of this cookie is dead too
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("已退出"), "info")
    return redirect(url_for("people.login"))


# -- the user's own account ---------------------------------------------------------


@bp.get("/account")
@login_required
def account(password_form=None):
    return render_template("people/account.html", password_form=password_form or ChangePasswordForm(),
                           tokens=services.live_tokens(db.session, clock.now(), current_user), action=ActionForm())


@bp.post("/account/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(db.session, clock.now(), current_user, form.current_password.data,
                                     form.password.data)
        except DomainError as error:
            db.session.rollback()
            form.current_password.errors = [_("当前密码不正确")] if "current_password" in error.fields \
                else [page_message(error)]
        else:
            user = current_user._get_current_object()
            db.session.commit()
            _fresh_session(user)  # this browser stays signed in; every other session and token has ended
            flash(_("密码已更改；其他设备上的登录和全部 API 令牌已失效"), "success")
            return redirect(url_for("people.account"))
    return account(password_form=form), 400


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_own_token(token_id):
    if ActionForm().validate_on_submit():
        services.revoke_token(db.session, clock.now(), current_user, token_id)
        db.session.commit()
        flash(_("令牌已撤销"), "success")
    return redirect(url_for("people.account"))


# -- the director's user management ---------------------------------------------------


@bp.get("/users")
@role_required("director")
def users():
    role = request.args.get("role", "")
    query = select(User).order_by(User.role, User.username)
    if role in ROLES:
        query = query.where(User.role == role)
    return render_template("people/users.html", users=db.session.scalars(query).all(), roles=ROLES, role=role,
                           action=ActionForm())


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("director")
def user(user_id):
    """One user: status, live API tokens (revocable), password reset (POST)."""
    person = services.get_user(db.session, user_id)
    form = ResetPasswordForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            services.reset_password(db.session, clock.now(), Actor.of(current_user), person, form.password.data)
            db.session.commit()
            flash(_("已重置 %(name)s 的密码；其登录会话与 API 令牌已全部失效", name=person.display_name), "success")
            return redirect(url_for("people.user", user_id=person.id))
        status = 400
    from agency.director.services import work_to_reassign
    return render_template("people/user.html", person=person, form=form, action=ActionForm(),
                           tokens=services.live_tokens(db.session, clock.now(), person),
                           left=work_to_reassign(db.session, person)), status


def _user_action(user_id: int, change, message: str):
    person = services.get_user(db.session, user_id)
    if ActionForm().validate_on_submit():
        try:
            change(person)
            db.session.commit()
            flash(message % {"name": person.display_name}, "success")
        except DomainError as error:
            db.session.rollback()
            flash(page_message(error), "error")
    return redirect(url_for("people.user", user_id=person.id))


@bp.post("/users/<int:user_id>/deactivate")
@role_required("director")
def deactivate(user_id):
    return _user_action(user_id, lambda p: services.deactivate_user(db.session, clock.now(), Actor.of(current_user), p),
                        _("已停用 %(name)s：其登录会话与 API 令牌已失效"))


@bp.post("/users/<int:user_id>/reactivate")
@role_required("director")
def reactivate(user_id):
    return _user_action(user_id, lambda p: services.reactivate_user(db.session, clock.now(), Actor.of(current_user), p),
                        _("已恢复 %(name)s 的账号"))


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@role_required("director")
def revoke_token(user_id, token_id):
    return _user_action(user_id, lambda p: services.revoke_token(db.session, clock.now(), current_user, token_id),
                        _("已撤销 %(name)s 的一个令牌"))
