"""Catalog and project types: import from the CSV formats of shared/data."""
import csv
import io
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from agency.audit.services import Actor, record
from agency.catalog.models import ApprovalItem, Department, ProjectType, StageTemplate
from agency.materials.models import ProjectMaterial

ProjectMaterialName = ProjectMaterial.__table__.c.name.type  # a material name must fit the checklist
from agency.errors import BadInput

CATALOG_COLUMNS = ("department_code", "department_name", "item_code", "item_name", "statutory_days",
                   "promised_days", "immediate", "deemed_consent_allowed", "materials")
TYPE_COLUMNS = ("type_code", "type_name", "target_days", "stage_order", "stage_name", "item_codes")
# Optional columns (v1.1): an older file without them still imports, with these defaults.
CATALOG_OPTIONAL = {"star": "3", "result_name": "", "deferrable_materials": "", "legal_basis": "", "fee": "免费"}
TYPE_OPTIONAL = {"needs_project_code": "false"}


class ImportError_(BadInput):
    """A bad row; the message names its line.  Nothing of the file is written."""

    def __init__(self, line: int, message: str, column: str | None = None):
        super().__init__(f"line {line}: {message}" + (f" (column {column})" if column else ""),
                         fields={"line": line, **({"column": column} if column else {})})
        self.line = line


def _rows(text: str, columns: tuple[str, ...], optional: dict[str, str] | None = None):
    """(line, row) of every non-blank row: the required ``columns``, and ``optional`` ones or their defaults."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_(1, f"missing column(s): {', '.join(missing)}")
    optional = optional or {}
    try:
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            if None in row:  # more cells than the header names
                raise ImportError_(reader.line_num, f"{len(reader.fieldnames) + len(row[None])} cells, "
                                                    f"the header names {len(reader.fieldnames)}")
            values = {k: (row.get(k) or "").strip() for k in columns}
            values.update({k: (row.get(k) or "").strip() or default for k, default in optional.items()})
            yield reader.line_num, values
    except csv.Error as error:
        raise ImportError_(reader.line_num, f"unreadable CSV: {error}") from None


MAX_DAYS = 999  # working days: beyond any statutory limit, within what the calendar can count


def _int(line: int, row: dict, name: str, minimum: int = 0, maximum: int = MAX_DAYS) -> int:
    try:
        value = int(row[name])
    except ValueError:
        raise ImportError_(line, column=name, message=f"{name} must be a whole number, got {row[name][:20]!r}") from None
    if value < minimum:
        raise ImportError_(line, column=name, message=f"{name} must be at least {minimum}")
    if value > maximum:
        raise ImportError_(line, column=name, message=f"{name} must be at most {maximum}")
    return value


def _fits(line: int, row: dict, columns: dict) -> None:
    """Each named cell fits its database column (``{cell name: model column}``)."""
    for name, column in columns.items():
        if len(row[name]) > column.type.length:
            raise ImportError_(line, column=name, message=f"{name} is longer than {column.type.length} characters")


def _names(cell: str) -> list[str]:
    """A ``;``-separated list of names, blanks dropped."""
    return [m.strip() for m in cell.split(";") if m.strip()]


def _bool(line: int, row: dict, name: str) -> bool:
    value = row[name].lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise ImportError_(line, column=name, message=f"{name} must be true or false, got {row[name][:20]!r}")
    return value in ("true", "1", "yes")


def import_catalog(session: Session, now: datetime, actor: Actor, text: str) -> dict:
    """Create or update departments and approval items; idempotent.  A bad row names its line and column."""
    parsed, item_lines, department_names = [], {}, {}
    for line, row in _rows(text, CATALOG_COLUMNS, CATALOG_OPTIONAL):
        for name in ("department_code", "department_name", "item_code", "item_name"):
            if not row[name]:
                raise ImportError_(line, column=name, message=f"{name} is empty")
        _fits(line, row, {"department_code": Department.code, "department_name": Department.name,
                          "item_code": ApprovalItem.code, "item_name": ApprovalItem.name,
                          "result_name": ApprovalItem.result_name, "fee": ApprovalItem.fee})
        if row["item_code"] in item_lines:
            raise ImportError_(line, column="item_code", message=f"{row['item_code']} is already on line {item_lines[row['item_code']]}")
        item_lines[row["item_code"]] = line
        first = department_names.setdefault(row["department_code"], (row["department_name"], line))
        if first[0] != row["department_name"]:
            raise ImportError_(line, column="department_name", message=f"{row['department_code']} is named {first[0]!r} on "
                                     f"line {first[1]}, {row['department_name']!r} here")
        statutory = _int(line, row, "statutory_days", 1)
        promised = _int(line, row, "promised_days", 1)
        if promised > statutory:
            raise ImportError_(line, column="promised_days", message=f"promised_days ({promised}) exceeds statutory_days "
                                     f"({statutory})")
        materials = _names(row["materials"])
        if any(len(m) > ProjectMaterialName.length for m in materials):
            raise ImportError_(line, column="materials", message=f"a name longer than {ProjectMaterialName.length} characters")
        star = _int(line, row, "star", 1, 5)  # "star must be at most 5"
        deferrable = _names(row["deferrable_materials"])
        strays = [m for m in deferrable if m not in materials]
        if strays:
            raise ImportError_(line, column="deferrable_materials", message=f"deferrable_materials must be named in materials: {', '.join(strays)}")
        parsed.append((row, dict(
            statutory_days=statutory, promised_days=promised, immediate=_bool(line, row, "immediate"),
            deemed_consent_allowed=_bool(line, row, "deemed_consent_allowed"), materials=materials, star=star,
            result_name=row["result_name"], deferrable_materials=deferrable, legal_basis=row["legal_basis"],
            fee=row["fee"])))
    counts = {"departments": 0, "items": 0, "updated": 0}
    departments = {d.code: d for d in session.scalars(select(Department))}
    items = {i.code: i for i in session.scalars(select(ApprovalItem))}
    for row, fields in parsed:
        department = departments.get(row["department_code"])
        if department is None:
            department = departments[row["department_code"]] = Department(
                code=row["department_code"], name=row["department_name"])
            session.add(department)
            counts["departments"] += 1
        department.name = row["department_name"]
        values = dict(name=row["item_name"], department=department, **fields)
        item = items.get(row["item_code"])
        if item is None:
            item = items[row["item_code"]] = ApprovalItem(code=row["item_code"], **values)
            session.add(item)
            counts["items"] += 1
        elif any(getattr(item, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(item, k, v)
            counts["updated"] += 1
    session.flush()
    record(session, now, actor, "catalog.imported", detail=str(counts), after=counts)
    return counts


def import_project_types(session: Session, now: datetime, actor: Actor, text: str) -> dict:
    """Create or update project types and their stage templates; idempotent."""
    known_items = set(session.scalars(select(ApprovalItem.code)))
    types: dict[str, dict] = {}
    for line, row in _rows(text, TYPE_COLUMNS, TYPE_OPTIONAL):
        for name in ("type_code", "type_name", "stage_name", "item_codes"):
            if not row[name]:
                raise ImportError_(line, column=name, message=f"{name} is empty")
        _fits(line, row, {"type_code": ProjectType.code, "type_name": ProjectType.name,
                          "stage_name": StageTemplate.name})
        codes = [c.strip() for c in row["item_codes"].split("|") if c.strip()]
        unknown = [c for c in codes if c not in known_items]
        if unknown:
            raise ImportError_(line, column="item_codes", message=f"unknown approval item(s) {', '.join(unknown)}; "
                                     "import the catalog first")
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ImportError_(line, column="item_codes", message=f"{', '.join(twice)} twice in one stage")
        target, needs_code = _int(line, row, "target_days", 1), _bool(line, row, "needs_project_code")
        entry = types.setdefault(row["type_code"], {"name": row["type_name"], "target": target, "stages": {},
                                                    "needs_code": needs_code, "line": line})
        for key, column, value in (("name", "type_name", row["type_name"]), ("target", "target_days", target),
                                   ("needs_code", "needs_project_code", needs_code)):
            if entry[key] != value:
                raise ImportError_(line, column=column, message=f"{row['type_code']} has {entry[key]!r} on line "
                                         f"{entry['line']}, {value!r} here")
        order = _int(line, row, "stage_order", 1)
        if order in entry["stages"]:
            raise ImportError_(line, column="stage_order", message=f"stage {order} of {row['type_code']} appears twice")
        entry["stages"][order] = (row["stage_name"], codes)
    counts = {"project_types": 0, "updated": 0}
    existing = {t.code: t for t in session.scalars(select(ProjectType))}
    for code, entry in types.items():
        ptype = existing.get(code)
        if ptype is None:
            ptype = ProjectType(code=code, name=entry["name"], target_days=entry["target"],
                                needs_project_code=entry["needs_code"])
            session.add(ptype)
            counts["project_types"] += 1
        elif (ptype.name, ptype.target_days, ptype.needs_project_code,
              {s.order: (s.name, list(s.item_codes)) for s in ptype.stages}) != (
                entry["name"], entry["target"], entry["needs_code"], entry["stages"]):
            counts["updated"] += 1  # only types that actually change, as import_catalog counts items
        ptype.name, ptype.target_days = entry["name"], entry["target"]
        ptype.needs_project_code = entry["needs_code"]
        current = {s.order: s for s in ptype.stages}
        for order, (name, codes) in sorted(entry["stages"].items()):
            stage = current.pop(order, None)
            if stage is None:
                ptype.stages.append(StageTemplate(order=order, name=name, item_codes=codes))
            else:
                stage.name, stage.item_codes = name, codes
        for stale in current.values():
            ptype.stages.remove(stale)
    session.flush()
    record(session, now, actor, "project_types.imported", detail=str(counts), after=counts)
    return counts


def get_project_type(session: Session, code: str) -> ProjectType | None:
    """The type with its stage templates, in one statement (an entrustment creates a stage per template)."""
    return session.scalars(_TYPE_BY_CODE, {"code": code}).unique().first()


def project_type_of(session: Session, project) -> ProjectType:
    """The project's type with its stage templates: the session's, else one statement (a dispatch)."""
    ptype = session.identity_map.get(session.identity_key(ProjectType, project.project_type_id))
    if ptype is not None and "stages" in ptype.__dict__:
        return ptype
    return session.scalars(_TYPE_BY_ID, {"type_id": project.project_type_id}).unique().one()


def items_by_code(session: Session, codes) -> dict[str, ApprovalItem]:
    """The items of ``codes``, with their departments (a dispatch needs both)."""
    return {i.code: i for i in session.scalars(_ITEMS_BY_CODE, {"codes": list(codes)})}


# Built once: every entrustment and dispatch reads these (building them cost as much as running them).
_TYPE_BY_CODE = (select(ProjectType).where(ProjectType.code == bindparam("code"))
                 .options(joinedload(ProjectType.stages)))
_TYPE_BY_ID = select(ProjectType).where(ProjectType.id == bindparam("type_id")).options(joinedload(ProjectType.stages))
_ITEMS_BY_CODE = (select(ApprovalItem).where(ApprovalItem.code.in_(bindparam("codes", expanding=True)))
                  .options(joinedload(ApprovalItem.department)))


def stage_names(session: Session) -> dict[str, str]:
    """Item code -> name of the first template stage that holds it."""
    names: dict[str, str] = {}
    for stage in session.scalars(select(StageTemplate).order_by(StageTemplate.project_type_id, StageTemplate.order)):
        for code in stage.item_codes:
            names.setdefault(code, stage.name)
    return names


def item_view(item: ApprovalItem, stages: dict[str, str]) -> dict:
    return {"id": item.id, "code": item.code, "name": item.name, "department": item.department.code,
            "statutory_days": item.statutory_days, "promised_days": item.promised_days,
            "immediate": item.immediate, "stage": stages.get(item.code),
            "deemed_consent_allowed": item.deemed_consent_allowed, "materials": item.materials,
            "star": item.star, "result_name": item.result_name, "deferrable_materials": item.deferrable_materials,
            "legal_basis": item.legal_basis, "fee": item.fee}


def list_items(session: Session, department_code: str | None = None) -> list[ApprovalItem]:
    query = select(ApprovalItem).join(Department).order_by(ApprovalItem.code)
    if department_code:
        query = query.where(Department.code == department_code)
    return list(session.scalars(query))
