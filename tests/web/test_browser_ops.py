"""In Chromium: the director opens the queue page, finds a report job RQ gave up on with the reason
of its last failure, retries it with the page's button, and once a worker ran it the job is gone
from the failed list.  Desktop and phone, Chinese and English."""
import re

import pytest
from sqlalchemy import select

from agency.demo import PASSWORD
from tests.browser_support import DESKTOP, PHONE, screenshot, sign_in
from tests.support import relay

pytestmark = pytest.mark.browser

REASON = "OSError: report directory not writable: /srv/reports"


def _broken_report(session, now, period, start_iso):
    raise OSError("report directory not writable: /srv/reports")


def _failed_report_job(app, monkeypatch) -> tuple[int, str]:
    """A daily report job whose function raises, run by a real RQ worker until RQ gives up on it."""
    from agency import clock
    from agency.extensions import db
    from agency.jobs.services import enqueue_job
    from workers import queues, reports
    from workers.worker import ThreadWorker, make_worker

    monkeypatch.setattr(reports, "generate_report", _broken_report)
    with app.app_context():
        row = enqueue_job(db.session, clock.now(), "reports", "workers.reports.generate_report", "daily",
                          clock.local(clock.now()).date().isoformat(), key="browser-ops")
        db.session.commit()
        row_id, job_id = row.id, row.rq_job_id
        assert relay() >= 1  # with the demo's own jobs
        queue = queues.get_queue("reports")
        for _ in range(queues.RETRY.max + 1):
            make_worker(["reports"], ThreadWorker).work(burst=True, logging_level="CRITICAL")
            for scheduled in queue.scheduled_job_registry.get_job_ids():
                queue.scheduled_job_registry.requeue(scheduled)
        assert queue.failed_job_registry.get_job_ids() == [job_id]
        from workers.deadlines import run_sweep
        run_sweep(db.session, clock.now())  # what the scheduler does every minute
        db.session.remove()
    return row_id, job_id


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_director_retries_a_failed_job_from_the_queue_page(live_server, open_page, monkeypatch):
    from agency.extensions import db
    from agency.jobs.models import OutboxJob
    from workers import queues
    from workers.worker import ThreadWorker, make_worker

    app = live_server.app
    row_id, job_id = _failed_report_job(app, monkeypatch)
    pages = {}
    for name, viewport, locale in (("desktop", DESKTOP, "zh-CN"), ("phone", PHONE, "zh-CN"),
                                   ("desktop-en", DESKTOP, "en"), ("phone-en", PHONE, "en")):
        page = pages[name] = open_page(viewport, locale)
        sign_in(page, live_server, "director", PASSWORD)
        page.goto(live_server("/ops/queues"))
        row = page.locator(f"tr[data-job-id='{job_id}']")
        assert REASON in row.inner_text()
        assert page.locator("tr[data-queue='reports'] [data-count=failed]").inner_text() == "1"
        assert _fits(page), f"{name}: the page scrolls sideways"
        idle = page.locator("tr[data-queue='default']")  # nothing on it: listed on a desktop only
        assert idle.is_visible() == (viewport == DESKTOP)
        screenshot(page, f"ops-queues-failed-{name}")
    assert "最近一次失败原因" in pages["desktop"].content()
    assert "尚无记录" not in pages["desktop"].locator("[data-testid=last-sweep]").inner_text()
    assert "Reason of the last failure" in pages["desktop-en"].content()
    assert "队列" in pages["desktop"].locator("nav.nav a[aria-current=page]").inner_text()

    monkeypatch.undo()  # the report directory is writable again
    page = pages["desktop"]
    page.locator(f"tr[data-job-id='{job_id}'] button[data-action=retry]").click()
    page.wait_for_url(re.compile(r".*/ops/queues#failed$"))
    assert f"已将任务 {job_id} 重新放回队列 reports" in page.locator(".flash-success").inner_text()
    assert page.locator("tr[data-queue='reports'] [data-count=waiting]").inner_text() == "1"
    assert page.locator(f"tr[data-job-id='{job_id}']").count() == 0
    with app.app_context():
        assert queues.get_queue("reports").job_ids == [job_id]
    screenshot(page, "ops-queues-retried-desktop")

    with app.app_context():
        make_worker(["reports"], ThreadWorker).work(burst=True, logging_level="CRITICAL")
        assert db.session.scalar(select(OutboxJob.status).where(OutboxJob.id == row_id)) == "done"
        db.session.remove()
    for name in ("phone", "phone-en"):
        page = pages[name]
        page.reload()
        assert page.locator("tr[data-queue='reports'] [data-count=waiting]").inner_text() == "0"
        assert page.locator("table[data-testid=failed-jobs] tr.empty").count() == 1
        screenshot(page, f"ops-queues-retried-{name}")
    assert "No failed jobs" in pages["phone-en"].content()
