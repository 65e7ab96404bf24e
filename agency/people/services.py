"""Users, passwords and API tokens."""
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.audit.services import Actor, record
from agency.catalog.models import Department
from agency.errors import BadInput, RuleViolation
from agency.people.models import LIAISON_SLOTS, ROLES, ApiToken, User

# Argon2id, RFC 9106 "low memory" profile (t=3, m=64 MiB, p=4).  The test
# configuration picks the cheapest profile so a suite can create many users.
_HASHERS = {
    "RFC_9106_LOW_MEMORY": PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
    "CHEAPEST": PasswordHasher.from_parameters(profiles.CHEAPEST),
}


def _hasher() -> PasswordHasher:
    from flask import current_app, has_app_context
    profile = current_app.config.get("PASSWORD_HASH_PROFILE") if has_app_context() else None
    return _HASHERS[profile or "RFC_9106_LOW_MEMORY"]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


_EQUALISERS: dict[int, str] = {}  # one stored hash per hasher, verified when the user does not exist


def _equaliser(hasher: PasswordHasher) -> str:
    if id(hasher) not in _EQUALISERS:
        _EQUALISERS[id(hasher)] = hasher.hash(secrets.token_hex(16))
    return _EQUALISERS[id(hasher)]


def check_password(user: User | None, password: str) -> bool:
    """The same Argon2 work (one verify) whether or not the user exists (no timing oracle)."""
    hasher = _hasher()
    try:
        return hasher.verify(user.password_hash if user else _equaliser(hasher), password) \
            and user is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if not check_password(user, password) or not user.active:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def create_user(session: Session, now: datetime, actor: Actor, *, role: str, username: str, password: str,
                department_code: str | None = None, name: str = "", phone: str = "", email: str = "",
                organization: str = "", liaison_slot: str | None = None, skills: list | None = None) -> User:
    errors = {}
    if role not in ROLES:
        errors["role"] = f"must be one of {', '.join(ROLES)}"
    if not username or len(username) > 80:
        errors["username"] = "required, at most 80 characters"
    elif session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = "already taken"
    if len(password or "") < 8:
        errors["password"] = "at least 8 characters"
    department = None
    if role == "liaison":
        department = session.scalar(select(Department).where(Department.code == (department_code or "")))
        if department is None:
            errors["department"] = f"unknown department {department_code!r}" if department_code else "a liaison needs a department"
        elif liaison_slot is None:
            taken = {u.liaison_slot for u in department.liaisons}
            liaison_slot = next((s for s in LIAISON_SLOTS if s not in taken), None)
        elif liaison_slot not in LIAISON_SLOTS:
            errors["liaison_slot"] = "primary or backup"
    elif department_code:
        errors["department"] = "only a liaison belongs to a department"
    if errors:
        raise BadInput("invalid user", fields=errors)
    user = User(role=role, username=username, password_hash=hash_password(password), name=name or username,
                phone=phone, email=email, organization=organization, department=department,
                liaison_slot=liaison_slot if role == "liaison" else None, skills=skills or [],
                session_nonce=secrets.token_hex(8), created_at=now)
    session.add(user)
    session.flush()
    record(session, now, actor, "user.created", user, after={"username": username, "role": role,
                                                              "department": department_code})
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, now: datetime, user: User, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_digest(token), created_at=now,
                         expires_at=now + timedelta(hours=hours)))
    session.flush()
    return token


def user_for_token(session: Session, now: datetime, token: str) -> User | None:
    """The active user of a live (unrevoked, unexpired) token, else None.

    One statement: every API request pays for it before doing anything else.
    """
    return session.scalar(
        select(User).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _token_digest(token), ApiToken.revoked_at.is_(None),
               ApiToken.expires_at > now, User.active.is_(True)))


def set_leave(session: Session, now: datetime, actor: Actor, user: User, on_leave: bool) -> None:
    if user.on_leave == on_leave:
        return
    record(session, now, actor, "user.leave", user, before={"on_leave": user.on_leave}, after={"on_leave": on_leave})
    user.on_leave = on_leave


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise RuleViolation(f"this needs the role {' or '.join(roles)}")
