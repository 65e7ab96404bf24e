"""Bearer tokens (sign in, list, revoke) and the director's (de)activation of users."""
from flask import current_app, g

from agency import clock
from agency.api import Blueprint, current_user, error_body, roles
from agency.audit.services import Actor
from agency.extensions import db
from agency.people import throttle
from agency.people.schemas import PasswordChange, TokenInfo, TokenRequest, TokenResponse, UserStatus
from agency.people.services import (authenticate, change_password, deactivate_user, get_user, issue_token,
                                    live_tokens, reactivate_user, revoke_token)

blp = Blueprint("auth_api", __name__, description="Bearer tokens: sign in, list, revoke")
users_blp = Blueprint("users_api", __name__, description="The director deactivates and reactivates users")


@blp.post("/auth/token")
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
@blp.alt_response(429, description="too many failed sign-ins for this account or from this address")
def token(data):
    """Exchange a username and password for a bearer token (failures are throttled: see README)."""
    now = clock.now()
    wait = throttle.retry_after(now, data["username"])
    if wait is not None:
        response = error_body(429, "too_many_requests", "too many failed sign-ins; try again later")
        response.headers["Retry-After"] = str(wait)
        return response
    user = authenticate(db.session, data["username"], data["password"])
    if user is None:
        throttle.count_failure(now, data["username"])
        return error_body(401, "unauthorized", "wrong username or password")
    value = issue_token(db.session, now, user, current_app.config["API_TOKEN_HOURS"])
    db.session.commit()
    return {"token": value, "role": user.role, "user_id": user.id}


@blp.delete("/auth/token")
@blp.response(204)
def sign_out():
    """Revoke the token of this request."""
    revoke_token(db.session, clock.now(), current_user(), g.api_token_id)
    db.session.commit()


@blp.get("/auth/tokens")
@blp.response(200, TokenInfo(many=True))
def tokens():
    """The caller's live tokens (never their values)."""
    return [{"id": t.id, "created_at": t.created_at, "expires_at": t.expires_at, "current": t.id == g.api_token_id}
            for t in live_tokens(db.session, clock.now(), current_user())]


@blp.delete("/auth/tokens/<int:token_id>")
@blp.response(204)
def revoke(token_id):
    """Revoke one of the caller's tokens; the director may revoke anyone's (another's is 404 to others)."""
    revoke_token(db.session, clock.now(), current_user(), token_id)
    db.session.commit()


@blp.put("/auth/password")
@blp.arguments(PasswordChange)
@blp.response(204)
def password(data):
    """Change the caller's password (at least 12 characters, not a common one: else 400 naming
    ``password``).  Every session and token of the caller ends, this one included."""
    change_password(db.session, clock.now(), current_user(), data["current_password"], data["password"])
    db.session.commit()


def user_status(user) -> dict:
    from agency.director.services import work_to_reassign
    return {"id": user.id, "username": user.username, "role": user.role, "active": user.active,
            **work_to_reassign(db.session, user)}


@users_blp.post("/users/<int:user_id>/deactivate")
@roles("director")
@users_blp.response(200, UserStatus)
@users_blp.alt_response(422, description="oneself, or the last active director")
def deactivate(user_id):
    """The user's tokens and sessions stop at once; its open projects and liaison slot are listed for
    reassignment (also on the director's workload board)."""
    user = deactivate_user(db.session, clock.now(), Actor.of(current_user()), get_user(db.session, user_id))
    db.session.commit()
    return user_status(user)


@users_blp.post("/users/<int:user_id>/reactivate")
@roles("director")
@users_blp.response(200, UserStatus)
def reactivate(user_id):
    """The user may sign in again; its old sessions and tokens stay dead."""
    user = reactivate_user(db.session, clock.now(), Actor.of(current_user()), get_user(db.session, user_id))
    db.session.commit()
    return user_status(user)
