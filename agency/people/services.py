"""Users, passwords and API tokens."""
import hashlib
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from agency.audit.services import Actor, record
from agency.catalog.models import Department
from agency.errors import BadInput, NotFound, RuleViolation
from agency.generations import generations, process_cache
from agency.people.models import LIAISON_SLOTS, ROLES, ApiToken, User
from agency.people.passwords import MESSAGES as PASSWORD_MESSAGES, password_problem

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
    if problem := password_problem(password):
        errors["password"] = PASSWORD_MESSAGES[problem]
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
        raise BadInput("invalid user", fields=errors,
                       shown=_l("账号信息有误，请检查后重试。"))
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


@dataclass(frozen=True, slots=True)
class UserSnapshot:
    """A user's columns as read with their token: what an API request needs to know of its caller
    (role, department, id) without an ORM object.  ``attach_user`` makes it the session's User."""

    id: int
    username: str
    role: str
    name: str
    phone: str
    email: str
    organization: str
    department_id: int | None
    liaison_slot: str | None
    on_leave: bool
    skills: list
    active: bool
    session_nonce: str
    created_at: datetime

    @property
    def display_name(self) -> str:
        return self.name or self.username

    @property
    def is_active(self) -> bool:
        return self.active


_SNAPSHOT = tuple(getattr(User, f.name) for f in fields(UserSnapshot))
_TOKENS_KEY = "tokens"
_TOKENS_MAX = 10_000  # per process; beyond it, a token is read on each request until the next change


def user_for_token(session: Session, now: datetime, token: str) -> tuple[UserSnapshot, int] | None:
    """The active user of a live (unrevoked, unexpired) token and the token's id, else None.

    Cached per process (agency.generations): a request pays one statement, the generations' read,
    and reads the token and its user only when this process has not seen it under the current
    ``people`` generation.  Revoking a token, deactivating a user or resetting a password bumps
    that generation in the same transaction, so every process sees it on its next request; the
    expiry is checked here against ``now`` on every request.
    """
    digest = _token_digest(token)
    cache = process_cache()
    if cache is None:
        found = _read_token(session, digest)
    else:
        generation = generations(session).people
        tokens = cache.get(_TOKENS_KEY)
        if tokens is None or tokens[0] != generation:
            tokens = cache[_TOKENS_KEY] = (generation, {})  # every entry of an older generation dropped
        found = tokens[1].get(digest)
        if found is None:
            found = _read_token(session, digest)
            if found is not None and len(tokens[1]) < _TOKENS_MAX:
                tokens[1][digest] = found
    if found is None or found[2] <= now:
        return None
    return found[0], found[1]


def _read_token(session: Session, digest: str) -> tuple[UserSnapshot, int, datetime] | None:
    """The unrevoked token's user (if active), the token's id and expiry: one statement, columns only."""
    row = session.execute(
        select(*_SNAPSHOT, ApiToken.id, ApiToken.expires_at).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), User.active.is_(True))).first()
    if row is None:
        return None
    return UserSnapshot(*row[:-2]), row[-2], row[-1]


def attach_user(session: Session, snapshot: UserSnapshot) -> User:
    """The session's User for ``snapshot``, without a statement: the one already in the session, else
    one built from the snapshot's columns as if just loaded (the rest, e.g. the password hash, loads
    on first use)."""
    key = session.identity_key(User, snapshot.id)
    user = session.identity_map.get(key)
    if user is None:
        columns = {f.name: getattr(snapshot, f.name) for f in fields(UserSnapshot)}
        user = User(**columns | {"skills": list(snapshot.skills)})  # the snapshot's list stays the cache's
        make_transient_to_detached(user)
        session.add(user)
    return user


def live_tokens(session: Session, now: datetime, user: User) -> list[ApiToken]:
    """The user's tokens that still open the API, newest first."""
    return list(session.scalars(select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .order_by(ApiToken.id.desc())))


def revoke_token(session: Session, now: datetime, actor: User, token_id: int) -> ApiToken:
    """Revoke one token: the actor's own, or anyone's for the director; another's is NotFound."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and actor.role != "director"):
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def revoke_tokens(session: Session, now: datetime, user: User) -> int:
    """Revoke every live token of the user; how many."""
    return session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .values(revoked_at=now)).rowcount


def end_sessions(session: Session, user: User) -> None:
    """End every page session of the user: their cookies carry the old nonce (``User.get_id``)."""
    user.session_nonce = secrets.token_hex(8)
    session.flush()


def _set_password(session: Session, now: datetime, actor: Actor, user: User, password: str, action: str) -> None:
    if problem := password_problem(password):
        raise BadInput("invalid password", fields={"password": PASSWORD_MESSAGES[problem]},
                       shown=_l("密码不符合要求：至少 10 个字符，且不能过于简单。"))
    user.password_hash = hash_password(password)
    end_sessions(session, user)
    revoked = revoke_tokens(session, now, user)
    record(session, now, actor, action, user, after={"tokens_revoked": revoked},
           detail=f"{user.display_name} 的密码已更改，其登录会话与 API 令牌全部失效")


def change_password(session: Session, now: datetime, user: User, current: str, new: str) -> None:
    """The user's own change: the current password first.  Every session and token of the user ends."""
    if not check_password(user, current):
        raise BadInput("wrong password", fields={"current_password": "wrong password"},
                       shown=_l("当前密码不正确"))
    _set_password(session, now, Actor.of(user), user, new, "user.password_changed")


def reset_password(session: Session, now: datetime, actor: Actor, user: User, new: str) -> None:
    """The director (or the CLI) sets a user's password.  Every session and token of the user ends."""
    _set_password(session, now, actor, user, new, "user.password_reset")


def deactivate_user(session: Session, now: datetime, actor: Actor, user: User) -> User:
    """The user can no longer sign in; its sessions and tokens stop at once.  Refused for oneself and
    for the last active director.  Its open projects and liaison slot wait for reassignment."""
    if actor.id == user.id:
        raise RuleViolation("不能停用自己的账号", fields={"user": "yourself"},
                            shown=_l("不能停用自己的账号"))
    if not user.active:
        return user
    if user.role == "director":
        # Lock the active directors' rows: two directors cannot deactivate each other at once.
        directors = session.scalars(select(User.id).where(User.role == "director", User.active.is_(True))
                                    .with_for_update()).all()
        if set(directors) <= {user.id}:
            raise RuleViolation("不能停用最后一位在岗的大厅主任", fields={"user": "the last active director"},
                                shown=_l("不能停用最后一位在岗的大厅主任"))
    user.active = False
    end_sessions(session, user)
    revoked = revoke_tokens(session, now, user)
    record(session, now, actor, "user.deactivated", user, before={"active": True},
           after={"active": False, "tokens_revoked": revoked}, detail=f"停用账号 {user.display_name}")
    return user


def reactivate_user(session: Session, now: datetime, actor: Actor, user: User) -> User:
    """The user may sign in again (with new sessions and tokens: the old ones stay dead)."""
    if not user.active:
        user.active = True
        record(session, now, actor, "user.reactivated", user, before={"active": False}, after={"active": True},
               detail=f"恢复账号 {user.display_name}")
        session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def get_user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def set_leave(session: Session, now: datetime, actor: Actor, user: User, on_leave: bool) -> None:
    if user.on_leave == on_leave:
        return
    record(session, now, actor, "user.leave", user, before={"on_leave": user.on_leave}, after={"on_leave": on_leave})
    user.on_leave = on_leave


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise RuleViolation(f"this needs the role {' or '.join(roles)}",
                            shown=_l("您的角色不能办理此操作。"))
