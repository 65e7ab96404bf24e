"""Rating once and the overdue-notice sweep on PostgreSQL (partial unique indexes, conditional UPDATEs)."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from agency.audit.services import SYSTEM, Actor
from agency.enterprise import services
from agency.enterprise.models import DissatisfactionNotice, Rating
from agency.enterprise.rules import sweep_notices
from agency.errors import TransitionNotAllowed
from agency.supervision.models import Card
from tests.support import SAMPLE_DIR, UserFactory, committed_or_conflict, run_together
from tests.support import ready_for_dispatch

pytestmark = pytest.mark.postgres


def import_all(session, now):
    from agency.catalog.services import import_catalog, import_project_types
    import_catalog(session, now, SYSTEM, (SAMPLE_DIR / "catalog.sample.csv").read_text(encoding="utf-8"))
    import_project_types(session, now, SYSTEM, (SAMPLE_DIR / "project_types.sample.csv").read_text(encoding="utf-8"))


@pytest.fixture
def pg_rated(pg_app, now):
    from agency.extensions import db
    from agency.projects.services import dispatch_stage, entrust_project
    from agency.tasks.services import answer_task
    with pg_app.app_context():
        session = db.session
        import_all(session, now)
        make = UserFactory(session, now)
        agent, ent = make("agent", "pa", phone="1"), make("enterprise", "pe")
        liaison = make("liaison", "bdc_pa", department_code="BDC", liaison_slot="primary")
        project = entrust_project(session, now, agent, name="不动产", project_type="REAL_ESTATE", location="x",
                                  investment_wan=1, contact_name="c", contact_phone="12345", enterprise_id=ent.id)
        session.commit()
        ready_for_dispatch(session, now, project)
        _, tasks = dispatch_stage(session, now, Actor.of(agent), project)
        answer_task(session, now, Actor.of(liaison), tasks[0], "consent")
        session.commit()
        yield pg_app, session, project, ent
        session.rollback()


def test_rating_once_and_sweep_on_postgres(pg_rated, now):
    app, session, project, ent = pg_rated
    assert project.status == "completed"
    services.rate(session, now, ent, project, 2, "慢", "BDC")
    session.commit()
    with pytest.raises(TransitionNotAllowed):
        services.rate(session, now, ent, project, 1, "", "BDC")
    session.rollback()
    notice = session.scalar(select(DissatisfactionNotice))
    session.commit()

    results = []

    def sweep():
        from agency.extensions import db
        with app.app_context():
            results.append(sweep_notices(db.session, notice.due + timedelta(hours=1)))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["notice_red_cards"] for r in results) == [0, 0, 1]
    assert session.scalar(select(func.count()).select_from(Card).where(Card.reason == "notice_overdue")) == 1
    assert session.scalar(select(func.count()).select_from(Rating)) == 1


def test_two_cards_issued_at_once_with_the_same_random_part_both_succeed(pg_app, now, monkeypatch):
    """Two transactions insert the same card number: the second waits on the unique index, finds the
    number taken (ON CONFLICT DO NOTHING) and retries with a new one in the same transaction; both commit."""
    from agency.extensions import db
    from agency.people.models import User
    from agency.projects import cards
    from agency.projects.models import ContactCard, Project
    from agency.projects.services import entrust_project
    from tests.enterprise.test_cards import forced_serials

    with pg_app.app_context():
        session = db.session
        import_all(session, now)
        make = UserFactory(session, now)
        agent, ent = make("agent", "pa", phone="1"), make("enterprise", "pe")
        ids = [entrust_project(session, now, agent, name=f"项目{n}", project_type="REAL_ESTATE", location="x",
                               investment_wan=1, contact_name="c", contact_phone="12345", enterprise_id=ent.id).id
               for n in (1, 2)]
        session.commit()
        agent_id = agent.id
        session.remove()
    queue = forced_serials(monkeypatch, 7, 7, 8)
    barrier, errors = threading.Barrier(2), []

    def reissue(project_id):
        with pg_app.app_context():
            try:
                project = db.session.get(Project, project_id)
                agent = db.session.get(User, agent_id)
                barrier.wait()
                cards.issue_card(db.session, now, project, agent)
                db.session.commit()
            except Exception as error:  # noqa: BLE001  (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reissue, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and queue == []
    with pg_app.app_context():
        current = db.session.scalars(select(ContactCard.card_no).where(ContactCard.void.is_(False))
                                     .order_by(ContactCard.card_no)).all()
        assert [c[-6:] for c in current] == ["000007", "000008"]
        assert db.session.scalar(select(func.count()).select_from(ContactCard)) == 4  # two voided, two new


def test_two_cards_issued_at_once_for_one_project_one_wins_the_other_409(pg_app, now):
    """Two reissues of one project's card at once (without the reassignment's conditional UPDATE before
    them): the second waits on the first's void, then its new card meets the first's valid card on
    uq_contact_cards_project_valid and is refused (409); one valid card remains."""
    from agency.extensions import db
    from agency.people.models import User
    from agency.projects import cards
    from agency.projects.models import ContactCard, Project
    from agency.projects.services import entrust_project

    with pg_app.app_context():
        session = db.session
        import_all(session, now)
        make = UserFactory(session, now)
        agent, ent = make("agent", "pa", phone="1"), make("enterprise", "pe")
        project_id = entrust_project(session, now, agent, name="项目", project_type="REAL_ESTATE", location="x",
                                     investment_wan=1, contact_name="c", contact_phone="12345",
                                     enterprise_id=ent.id).id
        session.commit()
        agent_id = agent.id
        session.remove()

    def reissue(session_, barrier):
        project, agent = session_.get(Project, project_id), session_.get(User, agent_id)
        barrier.wait()
        return committed_or_conflict(session_, lambda: cards.issue_card(session_, now, project, agent), "issued")

    outcomes = run_together(pg_app, reissue, reissue)
    assert sorted(outcomes) == ["conflict", "issued"]
    with pg_app.app_context():
        valid = db.session.scalars(select(ContactCard).where(ContactCard.project_id == project_id,
                                                             ContactCard.void.is_(False))).all()
        assert len(valid) == 1
        assert db.session.scalar(select(func.count()).select_from(ContactCard)) == 2  # the first, void; one new
