"""A task's life (R3, R4): every transition, the 409 from wrong states, and a
hypothesis state machine that plays random histories against the sweep."""
import shutil
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from agency.audit.models import AuditEvent
from agency.audit.services import SYSTEM, Actor
from agency.clock import local
from agency.errors import BadInput, TransitionNotAllowed
from agency.extensions import db
from agency.notifications.models import Message
from agency.projects.models import Project, Stage
from agency.projects.services import withdraw_project
from agency.supervision.models import Card
from agency.tasks.models import SupplementRequest, Task
from agency.tasks.services import (
    accept_task,
    answer_task,
    cancel_task,
    deem_consent,
    request_supplement,
    supply_materials,
)
from tests.tasks import (  # noqa: F401  (fixtures)
    app,
    as_actor,
    audit_actions,
    count,
    deadline_from,
    events_for,
    fresh_database,
    hall,
    hall_template,
    inbox,
    liaison_of,
    shared_app,
    start,
)

CLOSED = ("answered", "deemed_consent", "cancelled")


@pytest.fixture
def begun(session, now, hall):  # noqa: F811
    """IND_PERMIT entrusted by the agent for ``ent``, stage 1 dispatched Monday 09:00."""
    project, tasks = start(session, now, hall)
    return project, {t.item.code: t for t in tasks}


def _liaison(hall, task):  # noqa: F811
    return as_actor(liaison_of(hall, task))


# -- accept --------------------------------------------------------------------------------------------


def test_accept_moves_pending_to_accepted_and_audits(session, now, hall, begun):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-03"]
    accept_task(session, now + timedelta(hours=1), _liaison(hall, task), task)
    session.commit()
    session.expire_all()
    assert (task.status, task.accepted_at) == ("accepted", now + timedelta(hours=1))
    assert events_for(session, "task.accepted", task.id) == 1


@pytest.mark.parametrize("state", ["accepted", "supplement", "answered", "deemed_consent", "cancelled"])
def test_accept_from_any_other_state_is_a_conflict(session, now, hall, begun, state):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-03"]
    _put_in(session, now, hall, task, state)
    with pytest.raises(TransitionNotAllowed) as raised:
        accept_task(session, now + timedelta(hours=2), _liaison(hall, task), task)
    assert raised.value.status == 409
    session.rollback()
    assert session.get(Task, task.id).status == state


def _put_in(session, now, hall, task, state):  # noqa: F811
    actor = _liaison(hall, task)
    if state in ("accepted", "supplement"):
        accept_task(session, now, actor, task)
    if state == "supplement":
        request_supplement(session, now, actor, task, ["营业执照副本"])
    if state == "answered":
        answer_task(session, now, actor, task, "consent")
    if state == "deemed_consent":
        assert deem_consent(session, now, [task], "timeout")
    if state == "cancelled":
        assert cancel_task(session, now, SYSTEM, task, "测试")
    session.commit()
    assert task.status == state


# -- supplement (one-time notice) and materials ----------------------------------------------------------


@pytest.mark.parametrize("start_state", ["pending", "accepted"])
def test_supplement_stops_the_clock_and_tells_agent_and_enterprise(session, now, hall, begun, start_state):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-03"]
    if start_state == "accepted":
        accept_task(session, now, _liaison(hall, task), task)
    at = now + timedelta(hours=3)
    request_supplement(session, at, _liaison(hall, task), task, ["节能报告", " 项目备案证明 ", ""], note="请一次补齐")
    session.commit()
    session.expire_all()
    assert (task.status, task.paused_at, task.supplement_count) == ("supplement", at, 1)
    assert task.accepted_at is not None
    request = session.scalar(select(SupplementRequest).where(SupplementRequest.task_id == task.id))
    assert (request.materials, request.note, request.supplied_at) == (["节能报告", "项目备案证明"], "请一次补齐", None)
    assert task.working_days_left(None, at, None) is None  # the clock is stopped
    assert any(s.startswith("需补正材料") for s in inbox(session, hall["agent"]))
    assert any(s.startswith("需补正材料") for s in inbox(session, hall["ent"]))
    assert count(session, Card, Card.task_id == task.id) == 0  # the first notice earns no card


@pytest.mark.parametrize("materials", [[], ["", "  "], None])
def test_supplement_without_materials_is_bad_input_and_changes_nothing(session, now, hall, begun, materials):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-03"]
    with pytest.raises(BadInput) as raised:
        request_supplement(session, now, _liaison(hall, task), task, materials)
    assert raised.value.status == 400 and "materials" in raised.value.fields
    session.rollback()
    assert (session.get(Task, task.id).status, count(session, SupplementRequest)) == ("pending", 0)


@pytest.mark.parametrize("state", ["supplement", "answered", "deemed_consent", "cancelled"])
def test_supplement_from_a_stopped_or_closed_task_is_a_conflict(session, now, hall, begun, state):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-03"]
    _put_in(session, now, hall, task, state)
    requests = count(session, SupplementRequest)
    with pytest.raises(TransitionNotAllowed):
        request_supplement(session, now, _liaison(hall, task), task, ["材料"])
    session.rollback()
    assert count(session, SupplementRequest) == requests
    assert session.get(Task, task.id).status == state


@pytest.mark.parametrize("state", ["pending", "accepted", "answered", "deemed_consent", "cancelled"])
def test_materials_without_an_open_request_are_a_conflict(session, now, hall, begun, state):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-03"]
    _put_in(session, now, hall, task, state)
    deadline = task.deadline
    with pytest.raises(TransitionNotAllowed):
        supply_materials(session, now + timedelta(days=1), as_actor(hall["agent"]), task)
    session.rollback()
    task = session.get(Task, task.id)
    assert (task.status, task.deadline) == (state, deadline)


def test_materials_restart_the_clock_with_the_full_promised_limit(session, now, hall, begun):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-03"]  # 10 working days: Monday 23 Nov -> Monday 7 Dec
    assert local(task.deadline).isoformat() == "2026-12-07T17:30:00+08:00"
    accept_task(session, now, _liaison(hall, task), task)
    request_supplement(session, now + timedelta(hours=2), _liaison(hall, task), task, ["节能报告"])
    session.commit()
    friday = datetime.fromisoformat("2026-11-27T10:15:00+08:00")
    supply_materials(session, friday, as_actor(hall["ent"]), task)
    session.commit()
    session.expire_all()
    # ten working days counted from the Friday of supply, not from Monday: the days in supplement never count
    assert local(task.deadline).isoformat() == "2026-12-11T17:30:00+08:00"
    assert task.deadline == deadline_from(session, friday, 10)
    assert (task.status, task.started_at, task.paused_at, task.warned_at) == ("accepted", friday, None, None)
    assert local(task.warn_at).isoformat() == "2026-12-10T17:30:00+08:00"
    assert task.supplements[0].supplied_at == friday
    assert any(s.startswith("补正材料已到") for s in inbox(session, liaison_of(hall, task)))
    assert audit_actions(session, project.id)[-1] == "task.materials_supplied"


def test_supply_across_a_long_holiday_counts_only_working_days(session, hall):  # noqa: F811
    """Friday 25 Sep 2026 + 10 working days skips the National Day week: 15 Oct."""
    september = datetime.fromisoformat("2026-09-21T09:00:00+08:00")
    project, tasks = start(session, september, hall)
    task = next(t for t in tasks if t.item.code == "FGW-03")
    request_supplement(session, september, _liaison(hall, task), task, ["节能报告"])
    supply_materials(session, datetime.fromisoformat("2026-09-25T16:00:00+08:00"), as_actor(hall["agent"]), task)
    session.commit()
    assert local(task.deadline).isoformat() == "2026-10-15T17:30:00+08:00"


def test_second_supplement_request_is_a_yellow_card(session, now, hall, begun):  # noqa: F811
    project, tasks = begun
    task = tasks["ZRGH-01"]
    liaison = _liaison(hall, task)
    request_supplement(session, now, liaison, task, ["勘测定界图"])
    supply_materials(session, now + timedelta(days=1), as_actor(hall["agent"]), task)
    request_supplement(session, now + timedelta(days=2), liaison, task, ["项目建议书"])
    session.commit()
    cards = session.scalars(select(Card).where(Card.task_id == task.id)).all()
    assert [(c.color, c.reason, c.department_id, c.project_id) for c in cards] == [
        ("yellow", "second_supplement", task.department_id, project.id)]
    assert task.supplement_count == 2 and task.status == "supplement"
    # supplying and asking a third time is a new fact, and another card
    supply_materials(session, now + timedelta(days=3), as_actor(hall["agent"]), task)
    request_supplement(session, now + timedelta(days=4), liaison, task, ["身份证明"])
    session.commit()
    assert count(session, Card, Card.task_id == task.id, Card.reason == "second_supplement") == 2


# -- answers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decision, opinion", [("consent", ""), ("consent", "同意"),
                                               ("consent_with_conditions", "需补办节能承诺")])
def test_answer_closes_the_task(session, now, hall, begun, decision, opinion):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-01"]
    liaison = liaison_of(hall, task)
    at = now + timedelta(hours=4)
    answer_task(session, at, as_actor(liaison), task, decision, opinion)
    session.commit()
    session.expire_all()
    assert (task.status, task.outcome, task.opinion, task.answered_at, task.answered_by_id) == (
        "answered", decision, opinion, at, liaison.id)
    assert task.is_consent and not task.is_open
    assert events_for(session, "task.answered", task.id) == 1
    assert any(s.startswith("部门已答复") for s in inbox(session, hall["ent"]))


@pytest.mark.parametrize("decision, opinion, field", [
    ("refuse", "", "opinion"), ("refuse", "   ", "opinion"), ("consent_with_conditions", "", "opinion"),
    ("approve", "好", "decision"), ("", "", "decision")])
def test_bad_answers_are_bad_input_and_change_nothing(session, now, hall, begun, decision, opinion, field):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-01"]
    events = count(session, AuditEvent)
    with pytest.raises(BadInput) as raised:
        answer_task(session, now, _liaison(hall, task), task, decision, opinion)
    assert raised.value.status == 400 and field in raised.value.fields
    session.rollback()
    assert session.get(Task, task.id).status == "pending" and count(session, AuditEvent) == events


@pytest.mark.parametrize("state", ["supplement", "answered", "deemed_consent", "cancelled"])
def test_answering_a_stopped_or_closed_task_is_a_conflict(session, now, hall, begun, state):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-03"]
    _put_in(session, now, hall, task, state)
    with pytest.raises(TransitionNotAllowed) as raised:
        answer_task(session, now + timedelta(hours=1), _liaison(hall, task), task, "refuse", "不符合规划")
    assert raised.value.status == 409
    session.rollback()
    task = session.get(Task, task.id)
    assert task.status == state and task.outcome != "refuse"
    assert session.get(Project, project.id).halted_at is None


def test_refusal_halts_the_project_and_alerts_agent_and_director(session, now, hall, begun):  # noqa: F811
    project, tasks = begun
    refused = tasks["ZRGH-01"]
    answer_task(session, now + timedelta(hours=5), _liaison(hall, refused), refused, "refuse", "选址不符合国土空间规划")
    session.commit()
    session.expire_all()
    assert project.halted_at == now + timedelta(hours=5)
    assert project.status == "in_progress"
    for person in ("agent", "director"):
        assert [s for s in inbox(session, hall[person]) if s.startswith("不予办理")] == [f"不予办理：{project.name}"]
    body = session.scalar(select(Message.body).where(Message.user_id == hall["director"].id,
                                                     Message.subject.startswith("不予办理")))
    assert "选址不符合国土空间规划" in body
    assert "project.halted" in audit_actions(session, project.id)
    # the rest of the stage consenting does not move the project on
    for code in ("FGW-01", "FGW-03", "ZRGH-02"):
        answer_task(session, now + timedelta(hours=6), _liaison(hall, tasks[code]), tasks[code], "consent")
    session.commit()
    stages = {s.order: s.status for s in session.scalars(select(Stage).where(Stage.project_id == project.id))}
    assert stages == {1: "open", 2: "waiting", 3: "waiting"}
    assert count(session, Task, Task.project_id == project.id) == 4
    from agency.projects.services import dispatch_stage
    with pytest.raises(TransitionNotAllowed):
        dispatch_stage(session, now + timedelta(hours=7), as_actor(hall["agent"]), project)
    session.rollback()


# -- stages and the project -------------------------------------------------------------------------------


def test_next_stage_opens_only_when_every_task_consents(session, now, hall, begun):  # noqa: F811
    project, tasks = begun
    codes = ["FGW-01", "FGW-03", "ZRGH-01", "ZRGH-02"]
    for i, code in enumerate(codes[:-1]):
        decision = "consent_with_conditions" if i == 0 else "consent"
        answer_task(session, now + timedelta(hours=i), _liaison(hall, tasks[code]), tasks[code], decision, "附条件")
        session.commit()
        assert count(session, Task, Task.project_id == project.id) == 4
        assert session.scalar(select(Stage.status).where(Stage.project_id == project.id, Stage.order == 2)) == "waiting"
    last = tasks["ZRGH-02"]
    request_supplement(session, now + timedelta(hours=5), _liaison(hall, last), last, ["土地出让合同"])
    session.commit()
    assert session.scalar(select(Stage.status).where(Stage.project_id == project.id, Stage.order == 1)) == "open"
    supply_materials(session, now + timedelta(days=1), as_actor(hall["ent"]), last)
    assert deem_consent(session, now + timedelta(days=1, hours=1), [last], "timeout")  # a deemed consent counts
    session.commit()
    session.expire_all()
    stages = {s.order: (s.status, s.dispatched_at) for s in project.stages}
    assert stages[1][0] == "closed"
    assert stages[2] == ("open", now + timedelta(days=1, hours=1))
    assert stages[3] == ("waiting", None)
    second = [t for t in project.tasks if t.stage.order == 2]
    assert sorted(t.item.code for t in second) == sorted(
        ["ZRGH-03", "ZJ-01", "ZJ-02", "STHJ-01", "RF-01", "QX-01", "SL-01"])
    assert all(t.status == "pending" and t.started_at == now + timedelta(days=1, hours=1) for t in second)
    actions = audit_actions(session, project.id)
    assert actions.index("stage.closed") < len(actions) - 1 and actions[-1] == "stage.dispatched"


def test_closing_the_last_stage_completes_the_project(session, now, hall, begun, run_jobs, mail):  # noqa: F811
    project, _ = begun
    at = now
    for order in (1, 2, 3):
        open_tasks = session.scalars(select(Task).join(Stage).where(Task.project_id == project.id,
                                                                    Stage.order == order)).all()
        assert open_tasks and all(t.status == "pending" for t in open_tasks)
        for task in open_tasks:
            at += timedelta(minutes=10)
            answer_task(session, at, _liaison(hall, task), task, "consent")
            session.commit()
    session.expire_all()
    assert (project.status, project.completed_at) == ("completed", at)
    assert [s.status for s in project.stages] == ["closed", "closed", "closed"]
    assert audit_actions(session, project.id)[-2:] == ["stage.closed", "project.completed"]
    assert any(s.startswith("项目办结") for s in inbox(session, hall["ent"]))
    run_jobs()
    assert any(m["To"] == "ent@corp.test" and m["Subject"].startswith("项目办结") for m in mail)


def test_withdraw_cancels_every_open_task_with_the_reason(session, now, hall, begun):  # noqa: F811
    project, tasks = begun
    answer_task(session, now, _liaison(hall, tasks["FGW-01"]), tasks["FGW-01"], "consent")
    accept_task(session, now, _liaison(hall, tasks["FGW-03"]), tasks["FGW-03"])
    request_supplement(session, now, _liaison(hall, tasks["ZRGH-01"]), tasks["ZRGH-01"], ["勘测定界图"])
    session.commit()
    at = now + timedelta(days=1)
    withdraw_project(session, at, hall["ent"], project, "  项目暂缓  ")
    session.commit()
    session.expire_all()
    statuses = {t.item.code: (t.status, t.cancel_reason) for t in project.tasks}
    assert statuses["FGW-01"] == ("answered", "")
    for code in ("FGW-03", "ZRGH-01", "ZRGH-02"):
        assert statuses[code] == ("cancelled", "企业撤回委托：项目暂缓")
    assert (project.status, project.terminated_at) == ("terminated", at)
    assert [s.status for s in project.stages] == ["cancelled", "cancelled", "cancelled"]
    assert audit_actions(session, project.id).count("task.cancelled") == 3
    assert audit_actions(session, project.id)[-1] == "project.withdrawn"
    with pytest.raises(TransitionNotAllowed):
        withdraw_project(session, at, hall["ent"], project, "再次撤回")
    session.rollback()
    with pytest.raises(TransitionNotAllowed):  # nothing of a terminated project can be answered any more
        answer_task(session, at, _liaison(hall, tasks["FGW-03"]), tasks["FGW-03"], "consent")
    session.rollback()


def test_withdraw_needs_a_reason(session, now, hall, begun):  # noqa: F811
    project, _ = begun
    with pytest.raises(BadInput):
        withdraw_project(session, now, hall["ent"], project, " ")
    session.rollback()
    assert session.get(Project, project.id).status == "in_progress"


def test_deem_and_cancel_leave_closed_tasks_alone(session, now, hall, begun):  # noqa: F811
    project, tasks = begun
    task = tasks["FGW-01"]
    request_supplement(session, now, _liaison(hall, task), task, ["营业执照"])
    session.commit()
    assert not deem_consent(session, now + timedelta(days=30), [task], "timeout")  # never from supplement
    answer = tasks["FGW-03"]
    answer_task(session, now, _liaison(hall, answer), answer, "consent")
    session.commit()
    assert not deem_consent(session, now + timedelta(days=30), [answer], "timeout")
    assert not cancel_task(session, now, SYSTEM, answer, "x")
    session.commit()
    assert (task.status, answer.status) == ("supplement", "answered")
    assert events_for(session, "task.deemed_consent", task.id) == 0


# -- the state machine -------------------------------------------------------------------------------------

HALL_TEMPLATE: dict = {}
MACHINE_START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


class TaskLives(RuleBasedStateMachine):
    """Random accepts, supplements, supplies, answers, sweeps and withdrawals on one IND_PERMIT project.

    Each example starts from a fresh copy of one SQLite file (the hall, and
    ent's project with stage 1 dispatched at MACHINE_START) on the shared app;
    time moves only forward, by the rules, and is passed to every service.
    """

    @initialize()
    def open_hall(self):
        application, path = HALL_TEMPLATE["app"]
        fresh_database(application, path, HALL_TEMPLATE["path"])
        self.context = application.app_context()
        self.context.push()
        self.session = db.session
        self.now = MACHINE_START
        self.ids = HALL_TEMPLATE["ids"]
        self.project_id = HALL_TEMPLATE["project_id"]
        self.closed: dict[int, str] = {}
        self.restarted: dict[int, datetime] = {}  # task id -> the instant its materials arrived

    def teardown(self):
        if getattr(self, "context", None) is not None:
            db.session.remove()
            db.engine.dispose()
            self.context.pop()

    # -- helpers

    def _tasks(self) -> list[Task]:
        self.session.expire_all()
        return self.session.scalars(select(Task).where(Task.project_id == self.project_id).order_by(Task.id)).all()

    def _pick(self, data, statuses=("pending", "accepted", "supplement")) -> Task | None:
        candidates = [t for t in self._tasks() if t.status in statuses]
        return data.draw(st.sampled_from(candidates), label="task") if candidates else None

    def _liaison(self, task) -> Actor:
        return Actor(self.ids[f"{task.department.code.lower()}_a"], "liaison")

    def _attempt(self, allowed: bool, call) -> None:
        """Run a service: it succeeds when ``allowed``, else it is a 409 and nothing is kept."""
        if allowed:
            call()
            self.session.commit()
        else:
            with pytest.raises(TransitionNotAllowed):
                call()
            self.session.rollback()

    def _tick(self):
        self.now += timedelta(minutes=1)

    # -- rules

    @rule(data=st.data(), any_state=st.booleans())
    def accept(self, data, any_state):
        task = self._pick(data, CLOSED + ("pending", "accepted", "supplement") if any_state else ("pending",))
        if task is None:
            return
        self._tick()
        self._attempt(task.status == "pending", lambda: accept_task(self.session, self.now, self._liaison(task), task))

    @rule(data=st.data(), materials=st.lists(st.sampled_from(["营业执照", "节能报告", "设计图纸"]), min_size=1,
                                             max_size=3))
    def supplement(self, data, materials):
        task = self._pick(data)
        if task is None:
            return
        self._tick()
        allowed = task.status in ("pending", "accepted")
        self._attempt(allowed, lambda: request_supplement(self.session, self.now, self._liaison(task), task,
                                                          materials))

    @rule(data=st.data())
    def supply(self, data):
        task = self._pick(data)
        if task is None:
            return
        self._tick()
        allowed = task.status == "supplement"
        self._attempt(allowed, lambda: supply_materials(self.session, self.now, Actor(self.ids["agent"], "agent"),
                                                        task))
        if allowed:
            self.restarted[task.id] = self.now

    @rule(data=st.data(), decision=st.sampled_from(["consent", "consent", "consent", "consent_with_conditions",
                                                    "refuse"]))
    def answer(self, data, decision):
        task = self._pick(data)
        if task is None:
            return
        self._tick()
        allowed = task.status in ("pending", "accepted")
        self._attempt(allowed, lambda: answer_task(self.session, self.now, self._liaison(task), task, decision,
                                                   "" if decision == "consent" else "意见"))

    @rule(hours=st.integers(min_value=1, max_value=200))
    def advance_and_sweep(self, hours):
        from workers.deadlines import run_sweep
        before = {t.id: (t.status, t.deadline, t.escalated_at) for t in self._tasks()}
        self.now += timedelta(hours=hours)
        run_sweep(self.session, self.now)
        self.session.commit()
        for task in self._tasks():
            if task.id not in before:
                continue
            status, deadline, escalated_at = before[task.id]
            if task.status == "deemed_consent" and status != "deemed_consent":
                assert status in ("pending", "accepted"), f"task {task.id} deemed from {status}"
                assert deadline <= self.now and task.outcome_reason == "timeout"
                assert task.item.deemed_consent_allowed
            if status in ("pending", "accepted") and deadline <= self.now:
                # due: deemed, or escalated where the law forbids deemed consent
                assert task.status == "deemed_consent" or task.escalated_at is not None, task.id
            if status == "supplement":
                assert task.status == "supplement", "a task in supplement was touched by the sweep"
            if task.status in ("pending", "accepted") and task.deadline > self.now:
                assert task.escalated_at == escalated_at

    @rule(roll=st.integers(min_value=0, max_value=9))
    def withdraw(self, roll):
        if roll != 0:  # rarely
            return
        from agency.people.models import User
        project = self.session.get(Project, self.project_id)
        self._tick()
        enterprise = self.session.get(User, self.ids["ent"])
        self._attempt(project.is_open, lambda: withdraw_project(self.session, self.now, enterprise, project, "不再建设"))

    # -- invariants (one pass over fresh rows)

    @invariant()
    def holds(self):
        if not hasattr(self, "project_id"):
            return
        tasks = self._tasks()
        # a closed task never changes status again
        for task in tasks:
            if task.id in self.closed:
                assert task.status == self.closed[task.id], f"task {task.id} left {self.closed[task.id]}"
            elif task.status in CLOSED:
                self.closed[task.id] = task.status
        # deemed at most once: one audit event and at most one red card per task
        deemed = self.session.scalars(select(AuditEvent.object_id).where(
            AuditEvent.project_id == self.project_id, AuditEvent.action == "task.deemed_consent")).all()
        assert len(deemed) == len(set(deemed))
        assert set(deemed) == {t.id for t in tasks if t.status == "deemed_consent"}
        red = self.session.scalars(select(Card.task_id).where(Card.project_id == self.project_id,
                                                              Card.color == "red")).all()
        assert len(red) == len(set(red))
        # time in supplement never counts: a restarted clock runs the full limit from the supply instant
        for task in tasks:
            if task.status == "supplement":
                assert task.paused_at is not None and task.outcome is None
            supplied = self.restarted.get(task.id)
            if supplied is not None and task.status != "supplement":
                assert task.started_at == supplied
                assert task.deadline == deadline_from(self.session, supplied, task.promised_days)
        # a stage is open only when every earlier stage closed with every task consenting
        project = self.session.get(Project, self.project_id)
        stages = list(project.stages)
        by_stage = {s.id: [t for t in tasks if t.stage_id == s.id] for s in stages}
        for i, stage in enumerate(stages):
            if stage.status in ("open", "closed"):
                for earlier in stages[:i]:
                    assert earlier.status == "closed"
                    assert by_stage[earlier.id] and all(t.is_consent for t in by_stage[earlier.id])
            if stage.status == "waiting":
                assert not by_stage[stage.id]
            if stage.status == "closed":
                assert all(t.is_consent for t in by_stage[stage.id])
        if project.status == "completed":
            assert [s.status for s in stages] == ["closed"] * len(stages)
        if project.status == "terminated":
            assert not any(t.is_open for t in tasks)


def test_task_lives(shared_app, hall_template, tmp_path):  # noqa: F811
    """Each example starts from a copy of one file: the hall, and ent's IND_PERMIT project with stage 1 dispatched.

    Jobs stay in the outbox table (no relay runs here: nothing here runs them).
    """
    from agency.people.models import User
    application, path = shared_app
    fresh_database(application, path, hall_template[0])
    with application.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        hall = {name: users[username] for name, username in hall_template[1].items()}
        project, _ = start(db.session, MACHINE_START, hall)
        HALL_TEMPLATE.update(app=shared_app, ids={name: user.id for name, user in hall.items()},
                             project_id=project.id)
        db.session.remove()
        db.engine.dispose()
    template = tmp_path / "machine.db"
    shutil.copy(path, template)
    HALL_TEMPLATE["path"] = template
    run_state_machine_as_test(TaskLives, settings=settings(
        max_examples=30, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]))
