"""Report jobs: the scheduler's call writes a job on the reports queue; the job keeps CSV and XLSX
files whose cells are the rankings of the same period."""
import csv
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from agency.calendar.services import get_calendar
from agency.clock import hall_tz
from agency.jobs.models import OutboxJob
from agency.supervision import figures
from agency.supervision.figures import Period
from agency.supervision.models import Report
from agency.supervision.reports import (AGENT_COLUMNS, DEPARTMENT_COLUMNS, OVER_COLUMNS, TYPE_COLUMNS, last_complete,
                                        period_of, schedule_report)
from tests.supervision.conftest import at
from tests.supervision.fixture_week import build_week

MONDAY_MORNING = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # Monday 23 November, 09:00 in Shanghai


@pytest.fixture
def week(session, build, make_user):
    agents = (make_user("agent", "fa", name="甲代办"), make_user("agent", "fb", name="乙代办"))
    rows = build_week(build, agents)
    session.commit()
    return rows


def test_periods_just_ended():
    today = date(2026, 11, 23)  # a Monday
    assert last_complete("daily", today) == Period(date(2026, 11, 22), date(2026, 11, 22))
    assert last_complete("weekly", today) == Period(date(2026, 11, 16), date(2026, 11, 22))
    assert last_complete("monthly", today) == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert last_complete("weekly", date(2026, 11, 29)) == Period(date(2026, 11, 16), date(2026, 11, 22))
    assert last_complete("monthly", date(2026, 3, 1)) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert period_of("monthly", date(2026, 12, 1)).end == date(2026, 12, 31)


def test_schedule_report_writes_one_keyed_job_per_period(session, ctx):
    for _ in range(2):
        schedule_report(session, MONDAY_MORNING, "weekly")
    session.commit()
    jobs = session.scalars(select(OutboxJob).where(OutboxJob.queue == "reports")).all()
    assert [(j.func, j.args, j.key) for j in jobs] == [
        ("workers.reports.generate_report", ["weekly", "2026-11-16"], "report:weekly:2026-11-16")]


def read_csv(path: str) -> dict[str, list[list[str]]]:
    """Sections of the report CSV: name -> rows (header first)."""
    sections, current = {}, None
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        if not row:
            current = None
        elif current is None:
            current = sections.setdefault(row[0], [])
        else:
            current.append(row)
    return sections


def text(value) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("period", ["daily", "weekly", "monthly"])
def test_report_job_keeps_files_matching_the_rankings(app, session, week, run_jobs, period):
    now = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc) if period == "monthly" else MONDAY_MORNING
    if period == "daily":
        now = datetime(2026, 11, 18, 1, 0, tzinfo=timezone.utc)  # Wednesday: the daily report of Tuesday 17
    schedule_report(session, now, period)
    session.commit()
    assert run_jobs() >= 1
    report = session.scalar(select(Report).where(Report.period == period))
    span = Period(report.start, report.end)
    assert span == last_complete(period, now.astimezone(hall_tz()).date())
    expected = figures.department_figures(session, get_calendar(session), span, hall_tz())
    agents = figures.agent_figures(session, get_calendar(session), span, hall_tz())
    types = figures.project_type_figures(session, get_calendar(session), span, hall_tz())

    sections = read_csv(report.csv_path)
    departments = sections["部门排名"]
    assert departments[0] == [h for _, h in DEPARTMENT_COLUMNS]
    assert departments[1:] == [[text(row[k]) for k, _ in DEPARTMENT_COLUMNS] for row in expected]
    assert sections["代办员"][1:] == [[text(row[k]) for k, _ in AGENT_COLUMNS] for row in agents]
    assert sections["项目类型（3550目标）"][1:] == [[text(row[k]) for k, _ in TYPE_COLUMNS] for row in types]

    book = load_workbook(report.xlsx_path)
    sheet = book["部门排名"]
    cells = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert cells == [[row[k] for k, _ in DEPARTMENT_COLUMNS] for row in expected]
    assert [[c.value for c in row] for row in book["代办员"].iter_rows(min_row=2)] == \
        [[row[k] for k, _ in AGENT_COLUMNS] for row in agents]


def test_weekly_report_cells_hold_the_hand_computed_figures(app, session, week, run_jobs):
    schedule_report(session, MONDAY_MORNING, "weekly")  # 16-22 November: adds Saturday's rows to the fixture week
    session.commit()
    run_jobs()
    report = session.scalar(select(Report).where(Report.period == "weekly"))
    fgw = next(r for r in read_csv(report.csv_path)["部门排名"][1:] if r[0] == "FGW")
    row = dict(zip([k for k, _ in DEPARTMENT_COLUMNS], fgw))
    # Monday-Friday figures plus T10 (answered Sat 21 on time, early: 21 < 23; used wd(19 -> 21) = 1; promised 2),
    # the red card of Saturday 08:00 and the rating 1 of Saturday 00:00:
    assert row["tasks"] == "7"
    assert row["on_time_rate"] == str(round(4 / 7, 4))
    assert row["early_rate"] == str(round(2 / 7, 4))
    assert row["red"] == "2" and row["yellow"] == "2"
    assert row["avg_working_days"] == str(round(12 / 7, 2))      # (11 + 1) / 7
    assert row["satisfaction"] == "3.0"                         # (5+2+4+1) / 4
    sheet = load_workbook(report.xlsx_path)["部门排名"]
    header = [c.value for c in sheet[1]]
    xrow = next([c.value for c in r] for r in sheet.iter_rows(min_row=2) if r[0].value == "FGW")
    assert dict(zip(header, xrow))["按时率"] == round(4 / 7, 4)


def test_report_job_is_idempotent(app, session, week, run_jobs):
    from workers.reports import generate_report
    schedule_report(session, MONDAY_MORNING, "weekly")
    session.commit()
    run_jobs()
    first = session.scalar(select(Report))
    stamp = Path(first.csv_path).stat().st_mtime_ns
    generate_report(session, MONDAY_MORNING, "weekly", "2026-11-16")
    session.commit()
    assert session.scalar(select(func.count()).select_from(Report)) == 1
    assert Path(first.csv_path).stat().st_mtime_ns == stamp
    Path(first.xlsx_path).unlink()  # a lost file is written again
    generate_report(session, MONDAY_MORNING, "weekly", "2026-11-16")
    session.commit()
    assert Path(first.xlsx_path).is_file()
    assert session.scalar(select(func.count()).select_from(Report)) == 1


def test_daily_report_prints_a_fresh_audit_checkpoint(app, session, week, run_jobs, clock):
    """R12: the chains' heads anchored and the anchor printed outside the database."""
    from agency.audit.models import AuditCheckpoint
    from agency.supervision.reports import CHECKPOINT_COLUMNS
    now = clock.set(datetime(2026, 11, 18, 1, 0, tzinfo=timezone.utc))
    schedule_report(session, now, "daily")
    session.commit()
    run_jobs()
    checkpoint = session.scalars(select(AuditCheckpoint)).one()  # written by the report job
    assert checkpoint.at == now and checkpoint.heads  # every chain of the fixture week
    report = session.scalar(select(Report).where(Report.period == "daily"))
    rows = read_csv(report.csv_path)["审计检查点"]
    assert rows == [[h for _, h in CHECKPOINT_COLUMNS],
                    [str(checkpoint.id), "2026-11-18T09:00:00+08:00", str(len(checkpoint.heads)), checkpoint.hash]]
    sheet = load_workbook(report.xlsx_path)["审计检查点"]
    assert [c.value for c in sheet[2]][0::3] == [checkpoint.id, checkpoint.hash]
    anchor = f"{checkpoint.id}:{checkpoint.hash}"
    assert app.test_cli_runner().invoke(args=["agency", "verify-audit", "--anchor", anchor]).exit_code == 0


def test_only_the_daily_report_carries_the_audit_checkpoint(app, session, week, run_jobs):
    schedule_report(session, MONDAY_MORNING, "weekly")
    session.commit()
    run_jobs()
    report = session.scalar(select(Report).where(Report.period == "weekly"))
    assert "审计检查点" not in read_csv(report.csv_path)


HOSTILE = ['=HYPERLINK("http://x","y")', "@SUM(1)", "-2+3", "+1", "\tTAB"]


def test_names_that_look_like_formulas_stay_text_in_both_files(app, session, build, make_user, run_jobs):
    """Enterprise-chosen names (a project over its 3550 target) and an agent's name reach the report as
    text: quoted in the CSV (OWASP), string cells in the XLSX; numbers stay numbers."""
    agent = make_user("agent", "evil", name="=cmd|' /C calc'!A0")
    for n, name in enumerate(HOSTILE):  # STARTUP's target is 3 working days; Mon 16 -> Fri 20 is 4: over target
        build.project(type_code="STARTUP", agent=agent, status="completed", entrusted=at("2026-11-16 09:00"),
                      completed=at("2026-11-20 16:00"), name=name, project_code=f"2026-330106-34-03-00000{n}")
    session.commit()
    schedule_report(session, MONDAY_MORNING, "weekly")
    session.commit()
    run_jobs()
    report = session.scalar(select(Report).where(Report.period == "weekly"))

    over = read_csv(report.csv_path)["超目标项目"]
    assert over[0] == [h for _, h in OVER_COLUMNS]
    assert sorted(row[2] for row in over[1:]) == sorted("'" + name for name in HOSTILE)
    assert sorted(row[3] for row in over[1:]) == [f"2026-330106-34-03-00000{n}" for n in range(len(HOSTILE))]
    assert {tuple(row[4:]) for row in over[1:]} == {("4", "3", "1")}  # numbers are written as they are
    (agent_row,) = [r for r in read_csv(report.csv_path)["代办员"][1:] if r[0] == str(agent.id)]
    assert agent_row[1] == "'=cmd|' /C calc'!A0"
    with open(report.csv_path, encoding="utf-8-sig", newline="") as handle:
        assert not [c for row in csv.reader(handle) for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]

    book = load_workbook(report.xlsx_path)
    sheet = book["超目标项目"]
    names = {row[2].value: row[2] for row in sheet.iter_rows(min_row=2)}
    assert sorted(names) == sorted(HOSTILE)  # the exact name, unquoted: a text cell needs no quote
    assert {cell.data_type for cell in names.values()} == {"s"}
    assert [[c.value for c in row[4:]] for row in sheet.iter_rows(min_row=2)] == [[4, 3, 1]] * len(HOSTILE)
    assert {c.data_type for row in sheet.iter_rows(min_row=2) for c in row[4:]} == {"n"}
    assert {row[3].value[:5] for row in sheet.iter_rows(min_row=2)} == {"2026-"}  # the project code (R17)
    for sheet in book.worksheets:  # no cell anywhere is a formula
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    (xagent,) = [r for r in book["代办员"].iter_rows(min_row=2) if r[0].value == agent.id]
    assert (xagent[1].value, xagent[1].data_type) == ("=cmd|' /C calc'!A0", "s")


def test_the_spreadsheet_helper_quotes_csv_text_and_keeps_xlsx_text_as_strings():
    from openpyxl import Workbook

    from agency.spreadsheets import append_xlsx_row, csv_row
    assert csv_row(["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "a=b", "", None, -2, 0.5, "项目"]) == [
        "'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "a=b", "", "", -2, 0.5, "项目"]
    sheet = Workbook().active
    append_xlsx_row(sheet, ["=SUM(A1:A2)", -2, 1.5, None, "bell\x07"])
    cells = list(sheet[1])
    assert [(c.value, c.data_type) for c in cells] == [
        ("=SUM(A1:A2)", "s"), (-2, "n"), (1.5, "n"), (None, "n"), ("bell", "s")]


# -- the quarterly report (季公示) and the visits section of the monthly and quarterly reports ----------

NEW_YEAR = datetime(2026, 12, 31, 18, 0, tzinfo=timezone.utc)  # Friday 1 January 2027, 02:00 in Shanghai


def test_quarters():
    from agency.errors import BadInput
    assert last_complete("quarterly", date(2026, 11, 23)) == Period(date(2026, 7, 1), date(2026, 9, 30))
    assert last_complete("quarterly", date(2026, 10, 1)) == Period(date(2026, 7, 1), date(2026, 9, 30))
    assert last_complete("quarterly", date(2026, 9, 30)) == Period(date(2026, 4, 1), date(2026, 6, 30))
    assert last_complete("quarterly", date(2027, 1, 1)) == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert period_of("quarterly", date(2026, 1, 1)).end == date(2026, 3, 31)
    for start in (date(2026, 2, 1), date(2026, 4, 2)):
        with pytest.raises(BadInput):
            period_of("quarterly", start)


def test_the_scheduler_runs_the_quarterly_report_on_the_first_day_of_each_quarter(ctx):
    from apscheduler.schedulers.background import BackgroundScheduler

    from workers.scheduler import declare_jobs
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    declare_jobs(scheduler, ctx)
    job = scheduler.get_job("report-quarterly")
    assert job.args[1] == "quarterly"
    fire = job.trigger.get_next_fire_time(None, MONDAY_MORNING.astimezone(hall_tz()))
    assert fire.isoformat() == "2027-01-01T02:00:00+08:00"
    fire = job.trigger.get_next_fire_time(None, fire.replace(minute=1))
    assert fire.isoformat() == "2027-04-01T02:00:00+08:00"


def test_quarterly_report_holds_the_quarters_rows_in_both_files(app, session, week, build, run_jobs):
    # a task answered in the third quarter (30 September) stays out of the fourth quarter's report
    build.task(week["project"], item="ZRGH-02", status="answered", started=at("2026-09-28 09:00"),
               deadline=at("2026-10-09 17:30"), answered=at("2026-09-30 10:00"), promised=7)
    session.commit()
    schedule_report(session, NEW_YEAR, "quarterly")
    session.commit()
    assert run_jobs() >= 1
    report = session.scalar(select(Report).where(Report.period == "quarterly"))
    assert (report.start, report.end) == (date(2026, 10, 1), date(2026, 12, 31))
    quarter = Period(report.start, report.end)
    expected = figures.department_figures(session, get_calendar(session), quarter, hall_tz())
    fgw = next(r for r in expected if r["department"] == "FGW")
    zrgh = next(r for r in expected if r["department"] == "ZRGH")
    # the fixture week plus its Sunday and Saturday neighbours (T9, T10): 8 FGW tasks, 5 on time
    assert (fgw["tasks"], fgw["on_time_rate"], fgw["red"], fgw["satisfaction"]) == (8, 0.625, 2, 3.0)
    assert zrgh["tasks"] == 1  # Z1 only, not the task of 30 September

    with open(report.csv_path, encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == ["代办服务季公示 2026-10-01 至 2026-12-31"]
    sections = read_csv(report.csv_path)
    assert sections["部门排名"][1:] == [[text(row[k]) for k, _ in DEPARTMENT_COLUMNS] for row in expected]
    assert "跑动次数（最多跑一次）" in sections and "事项星级" in sections
    book = load_workbook(report.xlsx_path)
    assert [[c.value for c in row] for row in book["部门排名"].iter_rows(min_row=2)] == \
        [[row[k] for k, _ in DEPARTMENT_COLUMNS] for row in expected]
    assert {"跑动次数(最多跑一次)", "跑动超过一次的项目", "事项星级"} <= set(book.sheetnames)


@pytest.mark.parametrize("period,start", [("monthly", date(2026, 11, 1)), ("quarterly", date(2026, 10, 1))])
def test_monthly_and_quarterly_reports_give_the_visits(app, session, now, hall, period, start):
    from agency.supervision.reports import OVER_ONE_COLUMNS, STAR_COLUMNS, VISIT_COLUMNS, build_report
    from tests.supervision.visits_world import build_visits
    projects = build_visits(session, now, hall)
    report = build_report(session, now, period, start, app.config["REPORT_DIR"])
    session.commit()
    sections = read_csv(report.csv_path)
    visits = sections["跑动次数（最多跑一次）"]
    assert visits[0] == [h for _, h in VISIT_COLUMNS]
    assert ["REAL_ESTATE", "不动产登记", "3", "1", "0.3333", "2", "0.6667", "1"] in visits[1:]
    assert sections["跑动超过一次的项目"] == [[h for _, h in OVER_ONE_COLUMNS], [
        "REAL_ESTATE", str(projects["两次"].id), "不动产登记两次", "", "2", "现场核验身份证原件；补签不动产登记申请表"]]
    assert [row[0] for row in sections["事项星级"][1:]] == ["1", "2", "3", "4", "5"]
    book = load_workbook(report.xlsx_path)
    row = next([c.value for c in r] for r in book["跑动次数(最多跑一次)"].iter_rows(min_row=2)
               if r[0].value == "REAL_ESTATE")
    assert row == ["REAL_ESTATE", "不动产登记", 3, 1, 0.3333, 2, 0.6667, 1]
    assert book["跑动次数(最多跑一次)"]["E2"].number_format == "0.00%"
    assert [c.value for c in book["事项星级"][1]] == [h for _, h in STAR_COLUMNS]


def test_weekly_report_has_no_visits_section(app, session, week, run_jobs):
    schedule_report(session, MONDAY_MORNING, "weekly")
    session.commit()
    run_jobs()
    report = session.scalar(select(Report).where(Report.period == "weekly"))
    assert "跑动次数（最多跑一次）" not in read_csv(report.csv_path)
