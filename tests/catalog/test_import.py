"""Importing the catalog and project types (CSV), and reading them through the API."""
import csv
import io
import json

import pytest
from sqlalchemy import func, select

from agency.audit.services import SYSTEM
from agency.catalog.models import ApprovalItem, Department, ProjectType, StageTemplate
from agency.catalog.services import import_catalog, import_project_types
from agency.errors import BadInput
from tests.support import SAMPLE_DIR

CATALOG = (SAMPLE_DIR / "catalog.sample.csv").read_text(encoding="utf-8")
TYPES = (SAMPLE_DIR / "project_types.sample.csv").read_text(encoding="utf-8")
CATALOG_ROWS = list(csv.DictReader(io.StringIO(CATALOG)))
TYPE_ROWS = list(csv.DictReader(io.StringIO(TYPES)))


def _counts(session) -> dict:
    session.expire_all()
    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Department, ApprovalItem, ProjectType, StageTemplate)}


def _snapshot(session) -> list:
    session.expire_all()
    items = [(i.code, i.name, i.department.code, i.statutory_days, i.promised_days, i.immediate,
              i.deemed_consent_allowed, i.materials) for i in session.scalars(select(ApprovalItem).order_by(ApprovalItem.code))]
    stages = [(s.project_type.code, s.order, s.name, s.item_codes, s.id)
              for s in session.scalars(select(StageTemplate).order_by(StageTemplate.id))]
    return [items, stages]


def _with_line(text: str, line: int, replacement: str) -> str:
    lines = text.splitlines()
    lines[line - 1] = replacement
    return "\n".join(lines) + "\n"


def test_sample_import_creates_what_the_files_hold(session, now):
    expected = {
        "Department": len({r["department_code"] for r in CATALOG_ROWS}),
        "ApprovalItem": len(CATALOG_ROWS),
        "ProjectType": len({r["type_code"] for r in TYPE_ROWS}),
        "StageTemplate": len(TYPE_ROWS),
    }
    first = import_catalog(session, now, SYSTEM, CATALOG)
    types = import_project_types(session, now, SYSTEM, TYPES)
    session.commit()

    assert first == {"departments": expected["Department"], "items": expected["ApprovalItem"], "updated": 0}
    assert types == {"project_types": expected["ProjectType"], "updated": 0}
    assert _counts(session) == expected

    fire = session.scalar(select(ApprovalItem).where(ApprovalItem.code == "ZJ-02"))
    assert (fire.department.code, fire.statutory_days, fire.promised_days, fire.immediate,
            fire.deemed_consent_allowed, fire.materials) == ("ZJ", 15, 10, False, False, ["消防设计文件", "申请表"])
    permit = session.scalar(select(ProjectType).where(ProjectType.code == "IND_PERMIT"))
    assert permit.target_days == 50
    assert [(s.order, s.name, s.item_codes) for s in permit.stages] == [
        (int(r["stage_order"]), r["stage_name"], r["item_codes"].split("|"))
        for r in TYPE_ROWS if r["type_code"] == "IND_PERMIT"]


def test_importing_twice_changes_nothing(session, now):
    import_catalog(session, now, SYSTEM, CATALOG)
    import_project_types(session, now, SYSTEM, TYPES)
    session.commit()
    counts, snapshot = _counts(session), _snapshot(session)

    assert import_catalog(session, now, SYSTEM, CATALOG) == {"departments": 0, "items": 0, "updated": 0}
    assert import_project_types(session, now, SYSTEM, TYPES) == {"project_types": 0, "updated": 0}
    session.commit()
    assert _counts(session) == counts
    assert _snapshot(session) == snapshot


def test_reimport_updates_changed_rows(session, now):
    import_catalog(session, now, SYSTEM, CATALOG)
    import_project_types(session, now, SYSTEM, TYPES)
    session.commit()
    line = next(i for i, r in enumerate(CATALOG_ROWS, start=2) if r["item_code"] == "ZJ-03")
    changed = _with_line(CATALOG, line, "ZJ,住房和城乡建设局,ZJ-03,建筑工程施工许可证核发,7,2,false,true,申请表")
    assert import_catalog(session, now, SYSTEM, changed) == {"departments": 0, "items": 0, "updated": 1}
    assert import_project_types(session, now, SYSTEM, TYPES.replace("STARTUP,企业开办,3,", "STARTUP,企业开办,2,")) == {
        "project_types": 0, "updated": 1}
    session.commit()
    item = session.scalar(select(ApprovalItem).where(ApprovalItem.code == "ZJ-03"))
    assert (item.promised_days, item.materials) == (2, ["申请表"])
    assert session.scalar(select(ProjectType.target_days).where(ProjectType.code == "STARTUP")) == 2


BAD_CATALOG = [
    (4, "FGW,发展和改革局,FGW-03,固定资产投资项目节能审查,twenty,10,false,true,节能报告",
     "line 4: statutory_days must be a whole number"),
    (3, "FGW,发展和改革局,FGW-02,企业投资项目核准,5,10,false,true,项目申请报告",
     "line 3: promised_days (10) exceeds statutory_days (5)"),
    (5, "ZRGH,自然资源和规划局,ZRGH-01,建设项目用地预审与选址意见书,20,10,maybe,true,",
     "line 5: immediate must be true or false"),
    (6, ",自然资源和规划局,ZRGH-02,建设用地规划许可证核发,20,7,false,true,申请表", "line 6: department_code is empty"),
]


@pytest.mark.parametrize("line, row, message", BAD_CATALOG)
def test_a_bad_catalog_row_names_its_line_and_writes_nothing(session, now, line, row, message):
    with pytest.raises(BadInput) as caught:
        import_catalog(session, now, SYSTEM, _with_line(CATALOG, line, row))
    assert message in caught.value.message
    assert caught.value.fields["line"] == line
    assert not session.new  # refused before anything was added
    session.rollback()
    assert _counts(session) == {"Department": 0, "ApprovalItem": 0, "ProjectType": 0, "StageTemplate": 0}


def _without(text: str, column: str) -> str:
    """``text`` (CSV) with the column named ``column`` removed from every row."""
    rows = list(csv.reader(io.StringIO(text)))
    at = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:at] + r[at + 1:] for r in rows])
    return out.getvalue()


def test_a_catalog_without_a_column_is_refused(session, now):
    with pytest.raises(BadInput) as caught:
        import_catalog(session, now, SYSTEM, _without(CATALOG, "materials"))
    assert caught.value.message == "line 1: missing column(s): materials"


def test_the_columns_of_v1_1_are_optional(session, now):
    """An older catalog (no star, result_name, deferrable_materials, legal_basis, fee) imports with defaults."""
    older = CATALOG
    for column in ("fee", "legal_basis", "deferrable_materials", "result_name", "star"):
        older = _without(older, column)
    import_catalog(session, now, SYSTEM, older)
    item = session.scalar(select(ApprovalItem).where(ApprovalItem.code == "FGW-03"))
    assert (item.star, item.result_name, item.deferrable_materials, item.legal_basis, item.fee) == (3, "", [], "", "免费")


def test_the_columns_of_v1_1_are_read(session, now):
    import_catalog(session, now, SYSTEM, CATALOG)
    item = session.scalar(select(ApprovalItem).where(ApprovalItem.code == "FGW-03"))
    assert (item.star, item.result_name, item.deferrable_materials, item.fee) == (4, "节能审查意见", ["项目备案证明"], "免费")
    assert item.legal_basis.startswith("《固定资产投资项目节能审查办法》")


@pytest.mark.parametrize("cell, message", [
    ("6", "star must be at most 5"), ("0", "star must be at least 1"), ("x", "star must be a whole number")])
def test_a_bad_star_is_refused(session, now, cell, message):
    header, first, *rest = CATALOG.splitlines()
    row = next(csv.reader([first]))
    row[header.split(",").index("star")] = cell
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    with pytest.raises(BadInput) as caught:
        import_catalog(session, now, SYSTEM, "\n".join([header, out.getvalue().strip(), *rest]))
    assert message in caught.value.message and caught.value.message.startswith("line 2:")
    assert not session.new


def test_a_deferrable_material_must_be_one_of_the_items(session, now):
    text = CATALOG.replace("节能报告;项目备案证明,4,节能审查意见,项目备案证明", "节能报告;项目备案证明,4,节能审查意见,营业执照")
    assert text != CATALOG
    with pytest.raises(BadInput) as caught:
        import_catalog(session, now, SYSTEM, text)
    assert "deferrable_materials must be named in materials: 营业执照" in caught.value.message


@pytest.mark.parametrize("line, row, message", [
    (3, "REAL_ESTATE,不动产登记,5,1,不动产登记,BDC-01|XX-99", "line 3: unknown approval item(s) XX-99"),
    (2, "STARTUP,企业开办,three,1,企业开办,SCJG-01", "line 2: target_days must be a whole number"),
    (5, "IND_PERMIT,工业生产建设项目(至施工许可),50,1,重复阶段,ZJ-03,true", "line 5: stage 1 of IND_PERMIT appears twice"),
])
def test_a_bad_project_type_row_names_its_line_and_writes_nothing(session, now, line, row, message):
    import_catalog(session, now, SYSTEM, CATALOG)
    session.commit()
    before = _counts(session)
    with pytest.raises(BadInput) as caught:
        import_project_types(session, now, SYSTEM, _with_line(TYPES, line, row))
    assert message in caught.value.message
    session.rollback()
    assert _counts(session) == before


def test_import_commands(app, session, tmp_path):
    runner = app.test_cli_runner()
    catalog_file, types_file = tmp_path / "catalog.csv", tmp_path / "types.csv"
    catalog_file.write_text(CATALOG, encoding="utf-8")
    types_file.write_text(TYPES, encoding="utf-8")

    result = runner.invoke(args=["agency", "import-catalog", str(catalog_file)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"departments": 13, "items": len(CATALOG_ROWS), "updated": 0}
    result = runner.invoke(args=["agency", "import-project-types", str(types_file)])
    assert json.loads(result.output) == {"project_types": 4, "updated": 0}
    result = runner.invoke(args=["agency", "import-catalog", str(catalog_file)])
    assert json.loads(result.output) == {"departments": 0, "items": 0, "updated": 0}
    counts = _counts(session)

    bad = tmp_path / "bad.csv"
    bad.write_text(CATALOG + "QX,气象局,QX-02,防雷装置竣工验收,ten,5,false,true,检测报告\n", encoding="utf-8")
    result = runner.invoke(args=["agency", "import-catalog", str(bad)])
    assert result.exit_code == 1
    assert f"line {len(CATALOG_ROWS) + 2}: statutory_days must be a whole number" in result.output
    assert str(bad) in result.output
    assert _counts(session) == counts

    bad.write_text(TYPES + "NEW,新类型,10,1,唯一阶段,NOPE-1\n", encoding="utf-8")
    result = runner.invoke(args=["agency", "import-project-types", str(bad)])
    assert result.exit_code == 1 and f"line {len(TYPE_ROWS) + 2}: unknown approval item(s) NOPE-1" in result.output
    assert _counts(session) == counts


def test_catalog_items_api(catalog, api, make_user):
    client = api(make_user("enterprise"))
    response = client.get("/catalog/items", query_string={"department": "ZJ"})
    assert response.status_code == 200
    items = response.get_json()
    expected_codes = sorted(r["item_code"] for r in CATALOG_ROWS if r["department_code"] == "ZJ")
    assert [i["code"] for i in items] == expected_codes
    for item in items:
        assert {"id", "code", "name", "department", "statutory_days", "promised_days", "stage",
                "deemed_consent_allowed"} <= set(item)
        assert item["department"] == "ZJ" and isinstance(item["id"], int)
    by_code = {i["code"]: i for i in items}
    assert (by_code["ZJ-02"]["name"], by_code["ZJ-02"]["statutory_days"], by_code["ZJ-02"]["promised_days"],
            by_code["ZJ-02"]["deemed_consent_allowed"], by_code["ZJ-02"]["stage"]) == (
        "建设工程消防设计审查", 15, 10, False, "工程建设许可")
    assert by_code["ZJ-06"]["stage"] == "竣工验收备案"

    everything = client.get("/catalog/items").get_json()
    assert len(everything) == len(CATALOG_ROWS)


def test_project_types_api(catalog, api, make_user):
    response = api(make_user("agent")).get("/project-types")
    assert response.status_code == 200
    types = response.get_json()
    assert [t["code"] for t in types] == sorted({r["type_code"] for r in TYPE_ROWS})
    startup = next(t for t in types if t["code"] == "STARTUP")
    assert startup == {"code": "STARTUP", "name": "企业开办", "target_days": 3, "needs_project_code": False,
                       "stages": [{"order": 1, "name": "企业开办", "items": ["SCJG-01", "GA-01", "SW-01", "RS-01"]}]}
    completion = next(t for t in types if t["code"] == "COMPLETION")
    assert completion["needs_project_code"] is True
    assert [(s["order"], s["name"], s["items"]) for s in completion["stages"]] == [
        (1, "联合验收", ["ZRGH-04", "ZJ-05", "DA-01"]), (2, "竣工验收备案", ["ZJ-06"])]


def test_catalog_api_needs_a_token(client, catalog):
    response = client.get("/api/v1/catalog/items")
    assert response.status_code == 401
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}
