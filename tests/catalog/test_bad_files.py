"""Bad catalog, project-type and calendar files (#12.7): a one-line error naming line and column, nothing written.

GBK (spreadsheets exported in China) is detected and read; UTF-16 with its BOM too.
"""
import pytest
from sqlalchemy import func, select

from agency.catalog.models import ApprovalItem, Department, ProjectType
from agency.textfiles import UnreadableFile, decode_text
from tests.support import SAMPLE_DIR

CATALOG = (SAMPLE_DIR / "catalog.sample.csv").read_text(encoding="utf-8")
TYPES = (SAMPLE_DIR / "project_types.sample.csv").read_text(encoding="utf-8")


def _import(app, tmp_path, kind: str, data: bytes):
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    return app.test_cli_runner().invoke(args=["agency", f"import-{kind}", str(path)])


def _counts(session) -> tuple:
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Department, ApprovalItem, ProjectType))


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16"])
def test_a_catalog_in_gbk_or_utf16_is_read(app, session, tmp_path, encoding):
    result = _import(app, tmp_path, "catalog", CATALOG.encode(encoding))
    assert result.exit_code == 0, result.output
    assert session.scalar(select(ApprovalItem.name).where(ApprovalItem.code == "SCJG-01")) == "企业设立登记(营业执照)"


@pytest.mark.parametrize("data, where", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 3, column 1"),                      # binary: NUL bytes
    ("department_code,x\nFGW\x00,y\n".encode(), "line 2, column 4"),                    # a NUL in a cell
    ("department_code\nF\x07GW\n".encode(), "line 2, column 2"),                         # a control character
    (CATALOG.encode("utf-16-le"), "line 1, column 2"),                                   # UTF-16 without its BOM
    (b"department_code\n\xff\xfe\xfd\xfc\n", "line 2, column 1"),                        # neither UTF-8 nor GBK
])
def test_an_unreadable_file_is_one_line_naming_line_and_column(app, session, tmp_path, data, where):
    result = _import(app, tmp_path, "catalog", data)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.count("\n") == 1 and where in result.output, result.output
    assert _counts(session) == (0, 0, 0)


def _catalog_with(row: str) -> str:
    return CATALOG.rstrip("\n") + "\n" + row + "\n"


HEADER_CELLS = len(CATALOG.splitlines()[0].split(","))


@pytest.mark.parametrize("text, message", [
    (_catalog_with("FGW,发展和改革局,FGW-" + "9" * 40 + ",x,3,1,false,true,表"),
     "line 25: item_code is longer than 30 characters (column item_code)"),
    (_catalog_with("FGW,发展和改革局,FGW-09,x,99999999999,1,false,true,表"),
     "line 25: statutory_days must be at most 999 (column statutory_days)"),
    (_catalog_with("FGW,发展和改革局,FGW-01,重复,3,1,false,true,表"),
     "line 25: FGW-01 is already on line 2 (column item_code)"),
    (_catalog_with("FGW,发改委,FGW-09,x,3,1,false,true,表"),
     "line 25: FGW is named '发展和改革局' on line 2, '发改委' here (column department_name)"),
    (_catalog_with("FGW,发展和改革局,FGW-09,x,3,1,false,true,表,3,,,,免费,多余"), "line 25: 15 cells, the header names 14"),
])
def test_a_bad_catalog_is_refused_naming_line_and_column(app, session, tmp_path, text, message):
    result = _import(app, tmp_path, "catalog", text.encode())
    assert result.exit_code != 0 and message in result.output, result.output
    assert _counts(session) == (0, 0, 0)


@pytest.mark.parametrize("row, message", [
    ("STARTUP,企业开办改,3,2,二阶段,BDC-01,false", "line 9: STARTUP has '企业开办' on line 2, '企业开办改' here "
                                                  "(column type_name)"),
    ("STARTUP,企业开办,5,2,二阶段,BDC-01,false", "line 9: STARTUP has 3 on line 2, 5 here (column target_days)"),
    ("NEW,新类型,5,1,一阶段,BDC-01|BDC-01,false", "line 9: BDC-01 twice in one stage (column item_codes)"),
    ("N" * 31 + ",新类型,5,1,一阶段,BDC-01,false", "line 9: type_code is longer than 30 characters (column type_code)"),
])
def test_a_bad_project_type_file_is_refused_naming_line_and_column(app, session, tmp_path, row, message):
    assert _import(app, tmp_path, "catalog", CATALOG.encode()).exit_code == 0
    before = _counts(session)
    result = _import(app, tmp_path, "project-types", (TYPES.rstrip("\n") + "\n" + row + "\n").encode())
    assert result.exit_code != 0 and message in result.output, result.output
    assert _counts(session) == before


def test_a_calendar_file_in_gbk_is_read_and_a_binary_one_refused(app, tmp_path):
    from tests.calendar.arrangements import ARRANGEMENT_2027
    path = tmp_path / "2027.csv"
    path.write_bytes(ARRANGEMENT_2027.encode("gbk"))
    result = app.test_cli_runner().invoke(args=["agency", "calendar", "import", "2027", str(path)])
    assert result.exit_code == 0, result.output
    path.write_bytes(b"date,kind,name\n\x00\x01")
    result = app.test_cli_runner().invoke(args=["agency", "calendar", "import", "2027", str(path)])
    assert result.exit_code != 0 and "line 2, column 1" in result.output and "Traceback" not in result.output


def test_decode_text_names_where_it_stopped():
    with pytest.raises(UnreadableFile) as caught:
        decode_text("第一行\n第二行\x00".encode())
    assert caught.value.fields == {"line": 2, "column": 10}
    assert decode_text("项目".encode("gbk")) == "项目"
