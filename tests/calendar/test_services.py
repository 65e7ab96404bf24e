"""Calendar services on a real (in-memory SQLite) database."""
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from agency.calendar.models import CalendarOverride, CalendarYear
from agency.calendar.services import (
    CalendarError,
    CalendarImportError,
    IncompleteArrangement,
    get_calendar,
    import_arrangement,
    parse_arrangement_csv,
    remove_override,
    set_override,
    year_sources,
)
from agency.extensions import db
from tests.calendar.arrangements import ARRANGEMENT_2027, ROWS_2027, without

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)



@pytest.fixture
def session():
    engine = sa.create_engine("sqlite://")
    db.metadata.create_all(engine, tables=[CalendarOverride.__table__, CalendarYear.__table__])
    with Session(engine) as session:
        yield session
    engine.dispose()


def overrides(session: Session) -> list[tuple[date, bool, str]]:
    rows = session.execute(
        sa.select(CalendarOverride.day, CalendarOverride.is_workday, CalendarOverride.source).order_by(
            CalendarOverride.day
        )
    )
    return [tuple(row) for row in rows]


def test_set_override_upserts_by_day(session):
    first = set_override(session, NOW, date(2026, 12, 1), False, note="停电", actor_id=7)
    again = set_override(session, NOW, date(2026, 12, 1), True, note="恢复")
    assert again.id == first.id
    assert overrides(session) == [(date(2026, 12, 1), True, "override")]
    assert (again.note, again.created_by_id, again.created_at) == ("恢复", None, NOW)


def test_set_override_rejects_a_long_note_and_early_dates(session):
    with pytest.raises(CalendarError):
        set_override(session, NOW, date(2026, 12, 1), False, note="x" * 201)
    with pytest.raises(CalendarError):
        set_override(session, NOW, date(2003, 5, 1), True)
    assert overrides(session) == []


def test_remove_override_leaves_imported_rows(session):
    import_arrangement(session, NOW, 2027, parse_arrangement_csv(ARRANGEMENT_2027))
    set_override(session, NOW, date(2027, 3, 1), False)
    assert remove_override(session, date(2027, 3, 1)) is True
    assert remove_override(session, date(2027, 3, 1)) is False
    assert remove_override(session, date(2027, 2, 20)) is False  # an imported row
    assert (date(2027, 2, 20), True, "import") in overrides(session)


def test_get_calendar_is_cached_and_sees_a_new_override(session):
    calendar = get_calendar(session)
    assert get_calendar(session) is calendar
    assert calendar.is_working_day(date(2026, 12, 1))
    set_override(session, NOW, date(2026, 12, 1), False)
    assert not get_calendar(session).is_working_day(date(2026, 12, 1))
    set_override(session, NOW, date(2026, 12, 1), True)  # same instant, same row: still seen
    assert get_calendar(session).is_working_day(date(2026, 12, 1))


def test_get_calendar_sees_a_change_made_by_another_process(session):
    calendar = get_calendar(session)
    # Another process writes straight to the table: only the fingerprint can tell.
    session.execute(
        sa.insert(CalendarOverride).values(
            day=date(2026, 12, 5), is_workday=True, note="", source="override", created_at=NOW
        )
    )
    session.commit()  # our next transaction reads the calendar afresh (one read per transaction)
    fresh = get_calendar(session)
    assert fresh is not calendar
    assert fresh.is_working_day(date(2026, 12, 5))  # a Saturday made a working day
    assert get_calendar(session) is fresh


def test_import_with_a_bad_line_writes_nothing(session):
    text = ARRANGEMENT_2027.replace("2027-02-07,holiday", "2026-02-07,holiday")
    with pytest.raises(CalendarImportError) as caught:
        import_arrangement(session, NOW, 2027, parse_arrangement_csv(text))
    assert caught.value.line_no == 7
    assert str(caught.value) == "line 7: 2026-02-07 is not in 2027"
    assert overrides(session) == []
    assert session.scalars(sa.select(CalendarYear)).all() == []
    assert not get_calendar(session).is_confirmed(2027)


@pytest.mark.parametrize(
    ("text", "line_no", "fragment"),
    [
        ("day,kind,name\n2027-01-01,holiday,元旦\n", 1, "header"),
        ("date,kind,name\n2027-01-01,holiday,元旦\n2027-13-01,holiday,x\n", 3, "does not exist"),
        ("date,kind,name\n2027/01/01,holiday,元旦\n", 2, "YYYY-MM-DD"),
        ("date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,rest,x\n", 3, "kind"),
        ("date,kind,name\n2027-01-01,holiday\n", 2, "3 fields"),
        ("date,kind,name\n2027-01-01,holiday,元旦\n\n2027-01-02,holiday,x\n", 3, "empty line"),
    ],
)
def test_parse_errors_name_the_line(text, line_no, fragment):
    with pytest.raises(CalendarImportError) as caught:
        parse_arrangement_csv(text)
    assert caught.value.line_no == line_no
    assert fragment in caught.value.message


def test_import_rejects_duplicates_and_bad_kinds(session):
    rows = [(date(2027, 1, 1), "holiday", "元旦"), (date(2027, 1, 1), "holiday", "元旦")]
    with pytest.raises(CalendarImportError, match="line 3: 2027-01-01 is already given on line 2"):
        import_arrangement(session, NOW, 2027, rows)
    with pytest.raises(CalendarImportError, match="line 1: kind"):
        import_arrangement(session, NOW, 2027, [(date(2027, 1, 1), "off", "")], first_line=1)
    assert overrides(session) == []


def test_good_import_confirms_2027_with_its_working_weekend(session):
    before = get_calendar(session)
    assert not before.is_confirmed(2027)
    assert not before.is_working_day(date(2027, 2, 20))  # a Saturday
    assert before.is_working_day(date(2027, 2, 11))  # a Thursday the rule knows nothing about

    result = import_arrangement(session, NOW, 2027, parse_arrangement_csv(ARRANGEMENT_2027), actor_id=3)

    assert (result.year, result.imported, result.kept_overrides) == (2027, ROWS_2027, [])
    calendar = get_calendar(session)
    assert calendar.is_confirmed(2027)
    assert calendar.unconfirmed_years(2026, 2028) == [2028]
    assert calendar.is_working_day(date(2027, 2, 20))
    assert not calendar.is_working_day(date(2027, 2, 11))
    assert calendar.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 15)
    assert calendar.add_working_days(date(2027, 2, 19), 1) == date(2027, 2, 20)
    assert session.get(CalendarYear, 2027).imported_at == NOW


def test_reimport_replaces_the_year_and_keeps_director_overrides(session):
    import_arrangement(session, NOW, 2027, parse_arrangement_csv(ARRANGEMENT_2027))
    set_override(session, NOW, date(2027, 2, 12), True, note="窗口值班")
    set_override(session, NOW, date(2028, 1, 3), False)
    corrected = ARRANGEMENT_2027.replace("2027-02-20,workday", "2027-02-21,workday")

    result = import_arrangement(session, NOW, 2027, parse_arrangement_csv(corrected))

    assert result.kept_overrides == [date(2027, 2, 12)]
    assert result.imported == ROWS_2027 - 1
    rows = overrides(session)
    assert (date(2027, 2, 20), True, "import") not in rows
    assert (date(2027, 2, 21), True, "import") in rows
    assert (date(2027, 2, 12), True, "override") in rows
    assert (date(2028, 1, 3), False, "override") in rows
    assert session.scalar(sa.select(sa.func.count()).select_from(CalendarYear)) == 1
    calendar = get_calendar(session)
    assert calendar.is_working_day(date(2027, 2, 21)) and not calendar.is_working_day(date(2027, 2, 20))
    assert calendar.is_working_day(date(2027, 2, 12))


# -- an import must be complete: every statutory festival of the year has a holiday date --


def test_an_import_without_national_day_is_refused_and_writes_nothing(session):
    partial = without(ARRANGEMENT_2027, "国庆节")
    with pytest.raises(IncompleteArrangement) as caught:
        import_arrangement(session, NOW, 2027, parse_arrangement_csv(partial))
    assert str(caught.value).startswith("2027: National Day (国庆节) has no holiday date")
    assert caught.value.missing == ["National Day (国庆节) has no holiday date (by rule around 2027-10-01)"]
    assert overrides(session) == []
    assert session.scalars(sa.select(CalendarYear)).all() == []
    calendar = get_calendar(session)
    assert not calendar.is_confirmed(2027)
    assert not calendar.is_working_day(date(2027, 10, 1))  # still a holiday by rule, not a working Friday


def test_the_refusal_names_every_missing_festival(session):
    spring_only = "date,kind,name\n" + "".join(line + "\n" for line in ARRANGEMENT_2027.splitlines() if "春节" in line)
    with pytest.raises(IncompleteArrangement) as caught:
        import_arrangement(session, NOW, 2027, parse_arrangement_csv(spring_only))
    message = str(caught.value)
    for label in ("New Year (元旦)", "Qingming (清明节)", "Labour Day (劳动节)", "Dragon Boat (端午节)",
                  "Mid-Autumn (中秋节)", "National Day (国庆节)"):
        assert f"{label} has no holiday date" in message
    assert "Spring Festival" not in message
    assert len(caught.value.missing) == 6


def test_a_refused_reimport_leaves_the_previous_import_whole(session):
    import_arrangement(session, NOW, 2027, parse_arrangement_csv(ARRANGEMENT_2027))
    before = overrides(session)
    with pytest.raises(IncompleteArrangement, match="Mid-Autumn"):
        import_arrangement(session, NOW, 2027, parse_arrangement_csv(without(ARRANGEMENT_2027, "中秋节")))
    assert overrides(session) == before
    assert not get_calendar(session).is_working_day(date(2027, 9, 15))


def test_working_days_alone_do_not_cover_a_festival(session):
    text = ARRANGEMENT_2027.replace("2027-06-09,holiday,端午节", "2027-06-09,workday,端午节")
    with pytest.raises(IncompleteArrangement, match=r"^2027: Dragon Boat \(端午节\) has no holiday date"):
        import_arrangement(session, NOW, 2027, parse_arrangement_csv(text))
    assert overrides(session) == []


def test_a_festival_is_covered_by_a_date_near_its_day_by_rule(session):
    # The rule puts Mid-Autumn on 2027-09-15; an arrangement a day off still covers it, a week off does not.
    near = ARRANGEMENT_2027.replace("2027-09-15,holiday", "2027-09-16,holiday")
    assert import_arrangement(session, NOW, 2027, parse_arrangement_csv(near)).imported == ROWS_2027
    far = ARRANGEMENT_2027.replace("2027-09-15,holiday", "2027-09-22,holiday")
    with pytest.raises(IncompleteArrangement, match="Mid-Autumn"):
        import_arrangement(session, NOW, 2027, parse_arrangement_csv(far))
    assert (date(2027, 9, 16), False, "import") in overrides(session)  # the first import stands


def test_years_outside_the_calendar_are_refused(session):
    with pytest.raises(CalendarError, match="2004-2099"):
        import_arrangement(session, NOW, 2100, [(date(2100, 1, 1), "holiday", "元旦")])
    with pytest.raises(CalendarError, match="after 2099-12-31"):
        set_override(session, NOW, date(2100, 1, 4), False)
    assert overrides(session) == []


# -- where each non-ordinary date comes from --


def test_year_sources_name_package_rule_import_and_override(session):
    import_arrangement(session, NOW, 2027, parse_arrangement_csv(ARRANGEMENT_2027))
    set_override(session, NOW, date(2027, 10, 8), False, note="窗口检修")
    set_override(session, NOW, date(2026, 12, 26), True, note="补班")
    by_year = {y.year: y for y in year_sources(session, get_calendar(session), [2028, 2026, 2027, 2026, 1999])}
    assert list(by_year) == [2026, 2027, 2028]  # sorted, once each, only years the calendar knows

    y2026 = by_year[2026]
    assert (y2026.confirmed, y2026.basis, y2026.imported_at) == (True, "package", None)
    days = {d.day: d for d in y2026.days}
    assert days[date(2026, 10, 1)] == (date(2026, 10, 1), False, "package", "国庆节")
    assert days[date(2026, 2, 28)] == (date(2026, 2, 28), True, "package", "调休上班")  # a working Saturday
    assert days[date(2026, 12, 26)] == (date(2026, 12, 26), True, "override", "补班")
    assert date(2026, 3, 2) not in days  # an ordinary Monday is not listed
    assert (y2026.count("package"), y2026.count("override")) == (25, 1)

    y2027 = by_year[2027]
    assert (y2027.confirmed, y2027.basis, y2027.imported_at) == (True, "import", NOW)
    assert (y2027.count("import"), y2027.count("override"), y2027.count("rule")) == (ROWS_2027, 1, 0)
    assert {d.day: d.source for d in y2027.days}[date(2027, 10, 8)] == "override"

    y2028 = by_year[2028]
    assert (y2028.confirmed, y2028.basis) == (False, "rule")
    assert all(d.source == "rule" and not d.is_workday for d in y2028.days)
    assert date(2028, 10, 2) in {d.day for d in y2028.days}  # National Day by rule, a Monday
