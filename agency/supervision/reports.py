"""Daily, weekly, monthly and quarterly reports (日清周结月通报季公示), kept as CSV and XLSX.

The scheduler calls ``schedule_report(session, now, period)``, which writes an
outbox job on the ``reports`` queue for the period that just ended; the job
(``workers.reports.generate_report``) calls ``build_report``.  The figures are
those of ``agency.supervision.figures``, so a report matches the rankings of
the same period cell for cell.  The monthly and quarterly reports add the visits
per project type (最多跑一次, R18) and the catalog's star levels (R17).
"""
from __future__ import annotations

import csv
import os
import tempfile
from calendar import monthrange
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.calendar.workdays import WorkingCalendar
from agency.errors import BadInput
from agency.jobs.services import enqueue_job
from agency.spreadsheets import append_xlsx_row, csv_row
from agency.supervision import figures
from agency.supervision.figures import Period
from agency.supervision.models import Report

PERIODS = ("daily", "weekly", "monthly", "quarterly")
PERIOD_NAMES = {"daily": "日报", "weekly": "周报", "monthly": "月报", "quarterly": "季公示"}
VISIT_PERIODS = ("monthly", "quarterly")  # reports with the visits and stars sections
JOB = "workers.reports.generate_report"

# (key, header) of each table; the same keys as the API.
DEPARTMENT_COLUMNS = (
    ("department", "部门编码"), ("department_name", "部门"), ("tasks", "办结件数"), ("on_time", "按时办结"),
    ("on_time_rate", "按时率"), ("early", "提前办结"), ("early_rate", "提前办结率"), ("deemed_timeout", "超时默认"),
    ("red", "红牌"), ("yellow", "黄牌"), ("second_supplements", "二次补正"),
    ("avg_working_days", "平均用时(工作日)"), ("avg_promised_days", "平均承诺时限(工作日)"),
    ("satisfaction", "满意度(1-5)"), ("ratings", "评价数"),
)
AGENT_COLUMNS = (
    ("agent_id", "代办员编号"), ("name", "代办员"), ("open", "在办项目"), ("completed", "办结项目"),
    ("avg_working_days", "平均用时(工作日)"), ("satisfaction", "满意度(1-5)"), ("ratings", "评价数"),
)
TYPE_COLUMNS = (
    ("project_type", "类型编码"), ("name", "项目类型"), ("target_days", "目标(工作日)"), ("completed", "办结项目"),
    ("avg_working_days", "平均用时(工作日)"), ("over_target", "超目标项目"),
)
OVER_COLUMNS = (("project_type", "类型编码"), ("id", "项目编号"), ("name", "项目"), ("project_code", "项目代码"),
                ("working_days", "用时(工作日)"),
                ("target_days", "目标(工作日)"), ("over_by", "超出(工作日)"))
VISIT_COLUMNS = (
    ("project_type", "类型编码"), ("name", "项目类型"), ("completed", "办结项目"), ("zero_visit", "不见面"),
    ("zero_visit_rate", "不见面比例"), ("at_most_one", "最多跑一次"), ("at_most_one_rate", "最多跑一次比例"),
    ("over_one_count", "跑动超过一次"),
)
OVER_ONE_COLUMNS = (("project_type", "类型编码"), ("project_id", "项目编号"), ("name", "项目"), ("project_code", "项目代码"),
                    ("visits", "跑动次数"),
                    ("reasons", "到厅原因"))
STAR_COLUMNS = (("star", "星级"), ("items", "事项数"), ("share", "占比"))
CHECKPOINT_COLUMNS = (("id", "审计检查点编号"), ("at", "检查点时间"), ("chains", "本次锚定链数"), ("hash", "检查点哈希"))
RATE_KEYS = {"on_time_rate", "early_rate", "zero_visit_rate", "at_most_one_rate", "share"}
QUARTER_MONTHS = (1, 4, 7, 10)


def period_of(kind: str, start: date) -> Period:
    """The period of a report of ``kind`` starting on ``start``."""
    if kind == "daily":
        return Period(start, start)
    if kind == "weekly":
        if start.weekday() != 0:
            raise BadInput("a weekly report starts on a Monday", fields={"start": start.isoformat()})
        return Period(start, start + timedelta(days=6))
    if kind == "monthly":
        if start.day != 1:
            raise BadInput("a monthly report starts on the 1st", fields={"start": start.isoformat()})
        return Period(start, start.replace(day=monthrange(start.year, start.month)[1]))
    if kind == "quarterly":
        if start.day != 1 or start.month not in QUARTER_MONTHS:
            raise BadInput("a quarterly report starts on 1 January, April, July or October",
                           fields={"start": start.isoformat()})
        end_month = start.month + 2
        return Period(start, date(start.year, end_month, monthrange(start.year, end_month)[1]))
    raise BadInput(f"unknown period {kind!r}", fields={"period": f"one of {', '.join(PERIODS)}"})


def last_complete(kind: str, today: date) -> Period:
    """The last period of ``kind`` that ended before ``today`` (yesterday, last week, last month)."""
    if kind == "daily":
        return period_of(kind, today - timedelta(days=1))
    if kind == "weekly":
        return period_of(kind, today - timedelta(days=today.weekday() + 7))
    if kind == "monthly":
        last_month_end = today.replace(day=1) - timedelta(days=1)
        return period_of(kind, last_month_end.replace(day=1))
    if kind == "quarterly":
        last_quarter_end = quarter_start(today) - timedelta(days=1)
        return period_of(kind, quarter_start(last_quarter_end))
    raise BadInput(f"unknown period {kind!r}", fields={"period": f"one of {', '.join(PERIODS)}"})


def quarter_start(day: date) -> date:
    """The first day of the quarter holding ``day``."""
    return date(day.year, QUARTER_MONTHS[(day.month - 1) // 3], 1)


def _tz() -> tzinfo:
    from agency.clock import hall_tz
    return hall_tz()


def schedule_report(session: Session, now: datetime, period: str):
    """Write the job that produces the report of the ``period`` just ended; once per period (keyed)."""
    span = last_complete(period, now.astimezone(_tz()).date())
    start = span.start.isoformat()
    return enqueue_job(session, now, "reports", JOB, period, start, key=f"report:{period}:{start}")


def tables(session: Session, calendar: WorkingCalendar, span: Period, tz: tzinfo) -> dict[str, list[dict]]:
    """The report's tables, from the same functions as the rankings."""
    types = figures.project_type_figures(session, calendar, span, tz)
    over = [{"project_type": t["project_type"], **p} for t in types for p in t["over_target_projects"]]
    return {"departments": figures.department_figures(session, calendar, span, tz),
            "agents": figures.agent_figures(session, calendar, span, tz),
            "project_types": types, "over_target": over}


def visit_tables(session: Session, span: Period, tz: tzinfo) -> dict[str, list[dict]]:
    """The visits per project type (R18) and the catalog's star levels (R17), as the API gives them."""
    visits = figures.visit_figures(session, span, tz)
    over = [{"project_type": v["project_type"], **p, "reasons": "；".join(p["reasons"])}
            for v in visits for p in v["over_one"]]
    return {"visits": visits, "visits_over_one": over, "stars": figures.star_figures(session)}


SECTIONS = (("departments", "部门排名", DEPARTMENT_COLUMNS), ("agents", "代办员", AGENT_COLUMNS),
            ("project_types", "项目类型（3550目标）", TYPE_COLUMNS), ("over_target", "超目标项目", OVER_COLUMNS),
            ("visits", "跑动次数（最多跑一次）", VISIT_COLUMNS),  # monthly and quarterly
            ("visits_over_one", "跑动超过一次的项目", OVER_ONE_COLUMNS), ("stars", "事项星级", STAR_COLUMNS),
            ("audit_checkpoint", "审计检查点", CHECKPOINT_COLUMNS))  # the daily report only


def audit_checkpoint_rows(session: Session, now: datetime, tz: tzinfo) -> list[dict]:
    """A fresh audit checkpoint (or the latest, when no chain moved), printed so that it lives outside
    the database: ``verify-audit --anchor ID:HASH`` then shows its removal (R12)."""
    from agency.audit.checkpoints import checkpoint_audit, latest_checkpoint
    checkpoint = checkpoint_audit(session, now) or latest_checkpoint(session)
    if checkpoint is None:
        return []
    return [{"id": checkpoint.id, "at": checkpoint.at.astimezone(tz).isoformat(timespec="seconds"),
             "chains": len(checkpoint.heads), "hash": checkpoint.hash}]


def write_csv(path: Path, title: str, data: dict) -> None:
    """One file: a title line, then each table as its name, a header row and its rows, a blank line between.

    Text that a spreadsheet would run as a formula is written quoted (agency.spreadsheets)."""
    with _atomic(path, newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(csv_row([title]))
        for key, name, columns in SECTIONS:
            if key not in data:
                continue
            writer.writerow([])
            writer.writerow(csv_row([name]))
            writer.writerow(csv_row(header for _, header in columns))
            for row in data[key]:
                writer.writerow(csv_row(row.get(k) for k, _ in columns))


def write_xlsx(path: Path, title: str, data: dict) -> None:
    """One sheet per table; row 1 the header, rates formatted as percentages, text stored as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    book = Workbook()
    book.remove(book.active)
    for key, name, columns in SECTIONS:
        if key not in data:
            continue
        sheet = book.create_sheet(name[:31].replace("（", "(").replace("）", ")"))
        append_xlsx_row(sheet, [header for _, header in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in data[key]:
            append_xlsx_row(sheet, [row.get(k) for k, _ in columns])
        for index, (k, _) in enumerate(columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = {"name": 28, "department_name": 28, "hash": 66,
                                                     "reasons": 48}.get(k, 14)
            if k in RATE_KEYS:
                for cell in sheet[letter][1:]:
                    cell.number_format = "0.00%"
    book.properties.title = title
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".xlsx.tmp")
    os.close(fd)
    book.save(tmp)
    os.replace(tmp, path)


class _atomic:
    """Write to a temporary file beside ``path`` and move it into place on success."""

    def __init__(self, path: Path, **kwargs):
        self.path, self.kwargs = path, kwargs

    def __enter__(self):
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        self.file = os.fdopen(fd, "w", **self.kwargs)
        return self.file

    def __exit__(self, kind, *_):
        self.file.close()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)


def report_title(kind: str, span: Period) -> str:
    return f"代办服务{PERIOD_NAMES[kind]} {span.start.isoformat()} 至 {span.end.isoformat()}"


def build_report(session: Session, now: datetime, kind: str, start: date, report_dir: str | Path) -> Report:
    """Compute and keep the report of ``kind`` starting on ``start``; idempotent.

    A report already kept with both files is returned as it is; otherwise the
    files are (re)written and the row created or updated.
    """
    from agency.calendar.services import get_calendar
    span = period_of(kind, start)
    report = session.scalar(select(Report).where(Report.period == kind, Report.start == span.start))
    if report is not None and Path(report.csv_path).is_file() and Path(report.xlsx_path).is_file():
        return report
    folder = Path(report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{kind}-{span.start.isoformat()}"
    csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    data = tables(session, get_calendar(session), span, _tz())
    if kind in VISIT_PERIODS:
        data.update(visit_tables(session, span, _tz()))
    if kind == "daily":  # last, just before the files: on PostgreSQL it holds audit writers until the commit
        data["audit_checkpoint"] = audit_checkpoint_rows(session, now, _tz())
    title = report_title(kind, span)
    write_csv(csv_path, title, data)
    write_xlsx(xlsx_path, title, data)
    if report is None:
        report = Report(period=kind, start=span.start)
        session.add(report)
    report.end, report.generated_at = span.end, now
    report.csv_path, report.xlsx_path = str(csv_path), str(xlsx_path)
    session.flush()
    return report


def report_key(kind: str, start: date) -> str:
    """How a page names a report, kept or still being generated: ``weekly:2026-11-16``."""
    return f"{kind}:{start.isoformat()}"


def pending_reports(session: Session) -> list[dict]:
    """The reports asked for (by the scheduler or the director) whose job has not finished, oldest first:
    ``{key, period, start, end, status, attempts, last_error}``; ``status`` is the outbox row's
    (``pending``/``enqueued`` while it waits or runs, ``failed`` once parked after its last attempt)."""
    from agency.jobs.models import OutboxJob
    rows = []
    for job in session.scalars(select(OutboxJob).where(OutboxJob.status != "done", OutboxJob.func == JOB)
                               .order_by(OutboxJob.created_at, OutboxJob.id)):
        kind, start = job.args[0], date.fromisoformat(job.args[1])
        span = period_of(kind, start)
        rows.append({"key": report_key(kind, start), "period": kind, "start": span.start, "end": span.end,
                     "status": job.status, "attempts": job.attempts, "last_error": job.last_error})
    return rows


def report_states(session: Session, keys: list[str]) -> dict[str, dict]:
    """key -> ``{"state": "ready", "report": Report}`` once kept, ``{"state": "pending"|"failed", ...}``
    while its job has not finished; a key neither kept nor asked for is left out."""
    from agency.jobs.models import OutboxJob
    wanted = {}
    for key in keys:
        kind, _, start = key.partition(":")
        try:
            wanted[key] = (kind, date.fromisoformat(start))
        except ValueError:
            continue
    if not wanted:
        return {}
    kept = {report_key(r.period, r.start): r for r in session.scalars(
        select(Report).where(Report.start.in_({start for _, start in wanted.values()})))}
    jobs = {job.key: job for job in session.scalars(
        select(OutboxJob).where(OutboxJob.key.in_([f"report:{key}" for key in wanted])))}
    states = {}
    for key in wanted:
        report, job = kept.get(key), jobs.get(f"report:{key}")
        if report is not None:
            states[key] = {"state": "ready", "report": report}
        elif job is not None:
            states[key] = {"state": "failed" if job.status == "failed" else "pending", "attempts": job.attempts}
    return states


def list_reports(session: Session, kind: str | None = None, limit: int = 200) -> list[Report]:
    query = select(Report).order_by(Report.start.desc(), Report.period, Report.id.desc()).limit(limit)
    if kind:
        query = query.where(Report.period == kind)
    return list(session.scalars(query))
