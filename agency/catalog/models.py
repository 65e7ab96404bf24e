from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agency.extensions import db

OPTIONAL_MARK = "(如需)"


def is_optional(material: str) -> bool:
    """A material the catalog marks ``(如需)``: filed when it applies, never required (R14)."""
    return material.endswith(OPTIONAL_MARK)


class Department(db.Model):
    """A department seated in the hall (进厅部门)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))

    liaisons = relationship("User", back_populates="department")
    items = relationship("ApprovalItem", back_populates="department", order_by="ApprovalItem.code")

    @property
    def queue_name(self) -> str:
        return f"dept.{self.code}"

    def liaison(self, slot: str):
        return next((u for u in self.liaisons if u.liaison_slot == slot and u.active), None)

    @property
    def primary_liaison(self):
        return self.liaison("primary")

    @property
    def backup_liaison(self):
        return self.liaison("backup")

    def reachable_liaison(self):
        """R8: the primary, or the backup while the primary is on leave."""
        return reachable(self.primary_liaison, self.backup_liaison)


def reachable(primary, backup):
    """R8 for a department's primary and backup liaisons (the active users in those slots, or None;
    anything with ``on_leave``): the primary, or the backup while the primary is on leave."""
    for person in (primary, backup):
        if person is not None and not person.on_leave:
            return person
    return None


class ApprovalItem(db.Model):
    """An entry of the agency catalog (代办事项目录)."""

    __tablename__ = "approval_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    statutory_days: Mapped[int] = mapped_column(Integer)
    promised_days: Mapped[int] = mapped_column(Integer)
    immediate: Mapped[bool] = mapped_column(Boolean, default=False)
    deemed_consent_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    materials: Mapped[list] = mapped_column(JSON, default=list)  # a name ending in (如需) is optional
    star: Mapped[int] = mapped_column(Integer, default=3)  # online service level 1-5 (R17)
    result_name: Mapped[str] = mapped_column(String(200), default="")  # what its consent issues (R16)
    deferrable_materials: Mapped[list] = mapped_column(JSON, default=list)  # names of ``materials`` (R15)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    fee: Mapped[str] = mapped_column(String(200), default="免费")

    department = relationship(Department, back_populates="items")

    @property
    def required_materials(self) -> list[str]:
        """The materials a dispatch needs: every name not marked optional."""
        return [m for m in self.materials if not is_optional(m)]


class ProjectType(db.Model):
    """A kind of project with its stage template and "3550" target."""

    __tablename__ = "project_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    target_days: Mapped[int] = mapped_column(Integer)
    needs_project_code: Mapped[bool] = mapped_column(Boolean, default=False)  # R17

    stages = relationship(
        "StageTemplate", back_populates="project_type", order_by="StageTemplate.order",
        cascade="all, delete-orphan",
    )


class StageTemplate(db.Model):
    __tablename__ = "stage_templates"
    __table_args__ = (UniqueConstraint("project_type_id", "order", name="uq_stage_templates_type_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_type_id: Mapped[int] = mapped_column(ForeignKey("project_types.id"))
    order: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    item_codes: Mapped[list] = mapped_column(JSON, default=list)

    project_type = relationship(ProjectType, back_populates="stages")
