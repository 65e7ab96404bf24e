"""POST /api/v1/auth/token."""
from flask import current_app

from agency import clock
from agency.api import Blueprint, error_body
from agency.extensions import db, limiter
from agency.people.schemas import TokenRequest, TokenResponse
from agency.people.services import authenticate, issue_token

blp = Blueprint("auth_api", __name__, description="Sign in for a bearer token")


@blp.post("/auth/token")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
def token(data):
    """Exchange a username and password for a bearer token."""
    user = authenticate(db.session, data["username"], data["password"])
    if user is None:
        return error_body(401, "unauthorized", "wrong username or password")
    value = issue_token(db.session, clock.now(), user, current_app.config["API_TOKEN_HOURS"])
    db.session.commit()
    return {"token": value, "role": user.role, "user_id": user.id}
