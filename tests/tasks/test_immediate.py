"""Immediate items (即办件): answered the working day they arrive (#11 point 8).

The deadline is the hall's closing time on the day of dispatch when it is a working day before
closing, else the next working day's closing time; no one-working-day warning.
"""
from datetime import datetime

import pytest
from sqlalchemy import select

from agency.audit.services import Actor
from agency.catalog.models import ApprovalItem
from agency.clock import local
from agency.supervision.models import Card
from agency.tasks.services import item_window, request_supplement, supply_materials
from tests.tasks import MONDAY, count, liaison_of, start
from tests.tasks import app, hall, hall_template, shared_app  # noqa: F401  (fixtures)
from workers.deadlines import run_sweep


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


@pytest.mark.parametrize("dispatched, due", [
    ("2026-11-23T09:00:00+08:00", "2026-11-23T17:30:00+08:00"),  # a working Monday morning: that day
    ("2026-11-23T17:29:59+08:00", "2026-11-23T17:30:00+08:00"),  # a second before closing: still that day
    ("2026-11-23T17:30:00+08:00", "2026-11-24T17:30:00+08:00"),  # at closing: the next working day
    ("2026-11-27T20:00:00+08:00", "2026-11-30T17:30:00+08:00"),  # Friday evening: Monday
    ("2026-11-28T10:00:00+08:00", "2026-11-30T17:30:00+08:00"),  # Saturday: Monday
    ("2026-10-01T10:00:00+08:00", "2026-10-08T17:30:00+08:00"),  # National Day: the first working day after
])
def test_an_immediate_item_is_due_at_closing_the_day_it_arrives(session, hall, dispatched, due):  # noqa: F811
    item = session.scalar(select(ApprovalItem).where(ApprovalItem.code == "GA-01"))
    assert item.immediate
    deadline, warn_at = item_window(session, at(dispatched), item)
    assert local(deadline).isoformat() == due
    assert warn_at == deadline  # never a day left: no warning


def test_a_startup_dispatch_gives_immediate_items_the_same_day(session, hall):  # noqa: F811
    _, tasks = start(session, MONDAY, hall, project_type="STARTUP", name="开办")
    due = {t.item.code: local(t.deadline).isoformat() for t in tasks}
    assert due == {"SCJG-01": "2026-11-24T17:30:00+08:00",  # one working day, not immediate
                   "GA-01": "2026-11-23T17:30:00+08:00", "SW-01": "2026-11-23T17:30:00+08:00",
                   "RS-01": "2026-11-23T17:30:00+08:00"}
    counts = run_sweep(session, at("2026-11-23T17:29:00+08:00"))
    assert (counts["warned"], counts["deemed_consent"]) == (0, 0)
    counts = run_sweep(session, at("2026-11-23T17:30:00+08:00"))
    assert (counts["warned"], counts["deemed_consent"]) == (1, 3)  # SCJG-01 warned; the immediate ones deemed
    session.expire_all()
    assert {t.item.code: t.status for t in tasks} == {"SCJG-01": "pending", "GA-01": "deemed_consent",
                                                      "SW-01": "deemed_consent", "RS-01": "deemed_consent"}
    for task in tasks:
        assert count(session, Card, Card.task_id == task.id) == 1  # red for the three, yellow for SCJG-01


def test_materials_supplied_restart_an_immediate_clock_for_the_same_day(session, hall):  # noqa: F811
    _, tasks = start(session, MONDAY, hall, project_type="STARTUP", name="开办")
    task = next(t for t in tasks if t.item.code == "GA-01")
    request_supplement(session, at("2026-11-23T10:00:00+08:00"), Actor.of(liaison_of(hall, task)), task, ["章程"])
    supply_materials(session, at("2026-11-24T11:00:00+08:00"), Actor.of(hall["ent"]), task)
    session.commit()
    assert local(task.deadline).isoformat() == "2026-11-24T17:30:00+08:00"
