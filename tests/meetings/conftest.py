"""Fixtures of the meeting tests: the small hall of tests/projects, a project with stage 1 dispatched,
and ``make_meeting`` that schedules a meeting and delivers its invitations at a chosen instant.

Times (Asia/Shanghai): dispatch on Monday 2026-11-23 09:00; the default meeting is on Wednesday
2026-11-25 09:00, so an invitation is due notice when delivered by Tuesday 2026-11-24 09:00.
"""
from datetime import datetime, timedelta, timezone

import pytest

from agency.audit.services import Actor
from tests.projects.conftest import ENTRUST, hall  # noqa: F401  (the fixture, shared)
from tests.support import ready_for_dispatch

UTC = timezone.utc
MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)          # Mon 09:00 Shanghai
WEDNESDAY = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)       # Wed 09:00 Shanghai
DUE_BY = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)          # Tue 09:00 Shanghai: the last due instant
SATURDAY = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)        # Sat 09:00 Shanghai


@pytest.fixture
def project(session, hall):
    """An IND_PERMIT project carried by ``agent``, stage 1 dispatched Monday: FGW and ZRGH have open tasks."""
    from agency.projects.services import dispatch_stage, entrust_project
    project = entrust_project(session, MONDAY, hall["agent"], enterprise_id=hall["ent"].id, **ENTRUST)
    session.commit()
    ready_for_dispatch(session, MONDAY, project)
    dispatch_stage(session, MONDAY, Actor.of(hall["agent"]), project)
    session.commit()
    return project


@pytest.fixture
def make_meeting(session, hall, project, clock, run_jobs):
    """``make_meeting(kind="joint_review", starts_at=WEDNESDAY, codes=None, deliver_at=MONDAY)``.

    Schedules as ``agent`` at ``scheduled_at`` (default Monday), then runs the delivery jobs with the clock
    at ``deliver_at`` (None: leave them waiting).
    """
    from agency.meetings.services import schedule_meeting

    def make(kind="joint_review", starts_at=WEDNESDAY, codes=None, deliver_at=MONDAY, scheduled_at=MONDAY,
             place="行政服务中心三楼联审室"):
        meeting = schedule_meeting(session, scheduled_at, hall["agent"], project, kind=kind, starts_at=starts_at,
                                   place=place, department_codes=codes)
        session.commit()
        if deliver_at is not None:
            clock.set(deliver_at)
            run_jobs()
            session.expire_all()
        return meeting
    return make


def at(moment: datetime, **delta) -> datetime:
    return moment + timedelta(**delta)
