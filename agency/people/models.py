from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.dbtypes import UTCDateTime
from agency.extensions import db

ROLES = ("enterprise", "agent", "liaison", "director")
LIAISON_SLOTS = ("primary", "backup")


class User(UserMixin, db.Model):
    """A person who signs in: enterprise, agent, liaison or director."""

    __tablename__ = "users"
    __table_args__ = (
        # R8: one primary (A角) and one backup (B角) per department.
        UniqueConstraint("department_id", "liaison_slot", name="uq_users_department_slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    organization: Mapped[str] = mapped_column(String(200), default="")  # an enterprise's legal name
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    liaison_slot: Mapped[str | None] = mapped_column(String(10))
    on_leave: Mapped[bool] = mapped_column(Boolean, default=False)
    skills: Mapped[list] = mapped_column(JSON, default=list)  # project type codes; empty: any
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_nonce: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    department = relationship("Department", back_populates="liaisons")

    def get_id(self) -> str:
        # Changing the nonce (password change, sign-out everywhere) ends old sessions.
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def display_name(self) -> str:
        return self.name or self.username

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship(User)
