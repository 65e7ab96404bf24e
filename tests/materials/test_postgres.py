"""The online journey on the real PostgreSQL: checklist, deferral, results, search through its index."""
import io

import pytest
from sqlalchemy import func, select, text

from agency.audit.services import Actor
from agency.materials.models import Deferral, ProjectMaterial
from agency.materials.services import checklist, file_material, plan_dispatch, prereview
from agency.projects.models import Project
from agency.projects.services import accept_agreement, dispatch_stage, entrust_project, search
from agency.results.models import TaskResult
from agency.results.services import is_released
from agency.tasks.services import answer_task
from tests.support import ENTRUST, PDF_BYTES, build_hall, ready_for_dispatch

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app, now):
    from agency.extensions import db
    with pg_app.app_context():
        people = build_hall(db.session, now)
        yield db.session, people
        db.session.rollback()


def _entrust(session, now, people, **overrides):
    project = entrust_project(session, now, people["agent"], enterprise_id=people["ent"].id,
                              **{**ENTRUST, **overrides})
    session.commit()
    return project


def test_startup_files_once_defers_the_licence_and_releases_results_on_postgres(pg, now):
    session, people = pg
    project = _entrust(session, now, people, project_type="STARTUP", name="甲公司设立")
    accept_agreement(session, now, people["ent"], project)
    own = [e.name for e in checklist(session, project) if not e.issuers]
    for name in own:
        file_material(session, now, people["ent"], project, name, f"{name}.pdf", io.BytesIO(PDF_BYTES))
    prereview(session, now, people["agent"], project, [{"name": n, "accepted": True} for n in own])
    session.commit()
    assert session.scalar(select(func.count()).select_from(ProjectMaterial).where(
        ProjectMaterial.project_id == project.id, ProjectMaterial.status == "accepted")) == len(own) == 7
    _, tasks = dispatch_stage(session, now, Actor.of(people["agent"]), project)
    session.commit()
    by_item = {t.item.code: t for t in tasks}
    assert sorted(session.scalars(select(Deferral.task_id).where(Deferral.project_id == project.id))) == sorted(
        by_item[c].id for c in ("GA-01", "SW-01", "RS-01"))
    answer_task(session, now, Actor.of(people["ga_a"]), by_item["GA-01"], "consent")
    session.commit()
    assert not is_released(by_item["GA-01"])
    answer_task(session, now, Actor.of(people["scjg_a"]), by_item["SCJG-01"], "consent",
                result={"kind": "licence", "number": "91330106MA2X"})
    session.commit()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Deferral).where(Deferral.supplied_at.is_(None))) == 0
    assert is_released(session.get(type(by_item["GA-01"]), by_item["GA-01"].id))
    licence = next(e for e in checklist(session, session.get(type(project), project.id)) if e.name == "营业执照")
    assert (licence.status, licence.from_task_id) == ("from_result", by_item["SCJG-01"].id)
    assert session.scalar(select(func.count()).select_from(TaskResult)) == 2


def test_a_dispatch_without_materials_writes_nothing_on_postgres(pg, now):
    session, people = pg
    project = _entrust(session, now, people)
    ready_for_dispatch(session, now, project)
    session.execute(text("DELETE FROM project_materials WHERE name = '勘测定界图'"))
    session.commit()
    from agency.errors import RuleViolation
    with pytest.raises(RuleViolation) as refused:
        dispatch_stage(session, now, Actor.of(people["agent"]), project)
    session.rollback()
    assert refused.value.fields == {"missing": ["勘测定界图"]}
    assert session.scalar(text("SELECT count(*) FROM tasks")) == 0
    assert session.scalar(text("SELECT count(*) FROM stages WHERE status = 'open'")) == 0
    with pytest.raises(RuleViolation):
        plan_dispatch(session, now, project, [], [{"name": "营业执照", "until": None}])


def test_search_uses_the_trigram_index_on_postgres(pg, now):
    """GET /projects?q=: the name through ix_projects_name_trgm, the codes through their b-trees."""
    session, people = pg
    for n in range(3):
        _entrust(session, now, people, name=f"年产十万台精密机床项目{n}")
    session.execute(text("ANALYZE projects"))
    session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: ask for the plan it has at scale
    statement = search(select(Project.id), "精密机床")
    compiled = statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    plan = "\n".join(session.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert "ix_projects_name_trgm" in plan and "ix_projects_project_code" in plan, plan
    assert "uq_projects_tracking_code" in plan or "tracking_code" in plan, plan
    assert len(session.execute(search(select(Project.id), "精密机床")).all()) == 3
