"""A project of 8 parallel department tasks through our services on PostgreSQL, against SpiffWorkflow.

Ours: entrust and dispatch (two request-equivalents), then 8 answers (eight), each in a
fresh session that loads what it needs, calls the service and commits once, as the API
handlers do.  Nothing is skipped: audit chain, contact card, outbox jobs (put on the
RQ on Redis by the outbox relay after each round, timed apart: in production it is a thread
of the scheduler process), notifications, stage closing, project completion.

SpiffWorkflow 3: the same work as BPMN (a parallel gateway splitting into 8 user tasks,
each with an interrupting PT240H timer boundary event merged back before the joining
gateway), run in memory and serialized to JSON after creation and after completion.

Goal (issue #14): ours at most 2.5x the floor (the same rows by hand in SQL, the same commits).
Run from the project root: ``python -m bench.bench_workflow [--quick]``.
"""
from __future__ import annotations

import json
import sys
from datetime import timedelta

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import UserTask
from sqlalchemy import text

from bench.common import BENCH8, NOW, REDIS_URL, Statements, bench_database, median, relay_timed, seed, table, timed

FULL = {"projects": 50, "warmup": 5}
QUICK = {"projects": 5, "warmup": 1}
TASKS = len(BENCH8)


# -- SpiffWorkflow ---------------------------------------------------------------


def stage_bpmn(tasks: int = TASKS) -> str:
    """start -> split -> N x (user task | its timer) -> merge_i -> join -> end."""
    branches = "".join(f"""
    <bpmn:sequenceFlow id="to_task_{i}" sourceRef="split" targetRef="task_{i}"/>
    <bpmn:userTask id="task_{i}" name="department task {i}"/>
    <bpmn:boundaryEvent id="timeout_{i}" attachedToRef="task_{i}" cancelActivity="true">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT240H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:exclusiveGateway id="merge_{i}"/>
    <bpmn:sequenceFlow id="answered_{i}" sourceRef="task_{i}" targetRef="merge_{i}"/>
    <bpmn:sequenceFlow id="deemed_{i}" sourceRef="timeout_{i}" targetRef="merge_{i}"/>
    <bpmn:sequenceFlow id="to_join_{i}" sourceRef="merge_{i}" targetRef="join"/>""" for i in range(tasks))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="bench_definitions"
                  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="stage" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="to_split" sourceRef="start" targetRef="split"/>
    <bpmn:parallelGateway id="split"/>{branches}
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="to_end" sourceRef="join" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


class Spiff:
    def __init__(self):
        parser = BpmnParser()
        parser.add_bpmn_str(stage_bpmn().encode())
        self.spec = parser.get_spec("stage")
        self.serializer = BpmnWorkflowSerializer()
        self.workflow = self.saved = None

    def create(self) -> None:
        workflow = BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        self.saved = self.serializer.serialize_json(workflow)
        self.workflow = workflow

    def complete(self) -> None:
        workflow = self.workflow
        for task in workflow.get_tasks(state=TaskState.READY, spec_class=UserTask):
            task.data["decision"] = "consent"
            task.run()
            workflow.do_engine_steps()
        assert workflow.is_completed()
        self.saved = self.serializer.serialize_json(workflow)

    def complete_persisted(self) -> None:
        """Informative: each answer loads the JSON, runs one task and saves the JSON again."""
        for i in range(TASKS):
            workflow = self.serializer.deserialize_json(self.saved)
            task = next(t for t in workflow.get_tasks(state=TaskState.READY, spec_class=UserTask))
            task.data["decision"] = "consent"
            task.run()
            workflow.do_engine_steps()
            self.saved = self.serializer.serialize_json(workflow)
        assert workflow.is_completed()


def check_spiff_shape(spiff: Spiff) -> None:
    spiff.create()
    ready = spiff.workflow.get_tasks(state=TaskState.READY, spec_class=UserTask)
    waiting = spiff.workflow.get_tasks(state=TaskState.WAITING)
    assert len(ready) == TASKS and len([t for t in waiting if t.task_spec.name.startswith("timeout_")]) == TASKS
    spiff.complete()


# -- ours -----------------------------------------------------------------------


class Ours:
    """Request-equivalents: a fresh session each, load, call the service, commit once."""

    def __init__(self, s):
        from agency.extensions import db
        self.db, self.agent, self.enterprise = db, s.agents[0], s.enterprises[0]
        self.liaison_of = {s.departments[code]: user_id for code, user_id in s.liaisons.items()}
        self.project_id: int | None = None
        self.tasks: list[tuple[int, int]] = []  # (task id, department id), as the dispatch answer gives them
        self.count = 0
        self.tokens: dict[int, str] = {}

    def _snapshot(self, session, user_id: int):
        """The caller as an API request reads it (agency.api.authenticate_request, ``caller()``): the bearer
        token's user from the per-process cache (one statement, the cache generations' read)."""
        from agency.people.services import issue_token, user_for_token
        if user_id not in self.tokens:
            from agency.people.models import User
            self.tokens[user_id] = issue_token(session, NOW, session.get(User, user_id), hours=24 * 365)
            session.commit()
        return user_for_token(session, NOW, self.tokens[user_id])[0]

    def _caller(self, session, user_id: int):
        """The caller as a User of the request's session (``current_user()``: attached without a statement),
        for the handlers that relate it (entrusting, signing)."""
        from agency.people.services import attach_user
        return attach_user(session, self._snapshot(session, user_id))

    def _request(self, work) -> None:
        session = self.db.session
        try:
            work(session)
            session.commit()
        finally:
            self.db.session.remove()

    def create(self) -> None:
        from agency.audit.services import Actor
        from agency.people.access import get_project
        from agency.projects.services import accept_agreement, dispatch_stage, entrust_project
        self.count += 1

        def entrust(session):  # and the enterprise signs the agreement the first dispatch needs (R2)
            project = entrust_project(session, NOW, self._caller(session, self.agent), name=f"并联审批项目{self.count}",
                                      project_type="BENCH8", location="开发区", investment_wan="1200.50",
                                      contact_name="张三", contact_phone="13900000000", enterprise_id=self.enterprise)
            accept_agreement(session, NOW, self._caller(session, self.enterprise), project)
            self.project_id = project.id

        def dispatch(session):
            agent = self._snapshot(session, self.agent)  # as the API's dispatch: no User built
            project = get_project(session, agent, self.project_id, to_change=True)  # as the API's dispatch
            _, tasks = dispatch_stage(session, NOW, Actor.of(agent), project)
            self.tasks = [(t.id, t.department_id) for t in tasks]

        self._request(entrust)
        self._request(dispatch)

    def complete(self) -> None:
        from agency.audit.services import Actor
        from agency.people.access import get_task
        from agency.tasks.services import answer_task
        for task_id, department_id in self.tasks:
            def answer(session, task_id=task_id, liaison_id=self.liaison_of[department_id]):
                liaison = self._snapshot(session, liaison_id)  # as the API's answer: no User built
                task = get_task(session, liaison, task_id, to_change=True)
                answer_task(session, NOW + timedelta(hours=2), Actor.of(liaison), task, "consent")
            self._request(answer)

    def check(self) -> None:
        from agency.projects.models import Project
        project = self.db.session.get(Project, self.project_id)
        assert project.status == "completed" and len(project.tasks) == TASKS, (project.status, len(project.tasks))
        assert all(t.status == "answered" for t in project.tasks)
        self.db.session.remove()


class Skeleton:
    """Informative: ours' 10 requests with nothing in them.  Each authenticates its caller as ours does
    (the cache generations' read), fetches the project or task it would change as the API does (locked
    with its project, ``to_change``) and commits: the part of ours that is the request, not the workflow.
    It uses the project ours made last (its tasks answered: nothing is due, nothing is written)."""

    def __init__(self, ours: Ours):
        self.ours = ours

    def create(self) -> None:
        from agency.people.access import get_project
        for _ in range(2):
            self.ours._request(lambda session: get_project(session, self.ours._snapshot(session, self.ours.agent),
                                                           self.ours.project_id, to_change=True))

    def complete(self) -> None:
        from agency.people.access import get_task
        for task_id, department_id in self.ours.tasks:
            def fetch(session, task_id=task_id, liaison_id=self.ours.liaison_of[department_id]):
                get_task(session, self.ours._snapshot(session, liaison_id), task_id, to_change=True)
            self.ours._request(fetch)


class Floor:
    """The floor: the rows ours writes for a project, by hand in SQL, with the same 10 commits.

    Every table ours writes gets the same rows, one statement per table and request (multi-row
    INSERTs): entrust (project, stage, contact card, agreement; 3 audit events), dispatch (lock, stage
    and project status, 8 tasks, their 8 outbox jobs, 1 audit event), each of the 8 answers (lock,
    conditional UPDATE, audit event, 4 deliveries and 2 inbox messages for the agent and the
    enterprise, their e-mail outbox job, the result; the last also
    closes stage and project with their 2 events and the completion's notices).  No ORM, no hash chain
    read (a digest of fixed fields), no rule evaluated: what any implementation persisting the same
    facts per request pays on this machine.  It pushes nothing to Redis, and its outbox rows are
    written as already relayed (``enqueued_at``), so the relay's pass after a round takes only ours'.
    """

    def __init__(self, engine, s):
        self.engine, self.s, self.count, self.items = engine, s, 20_000_000, None

    @staticmethod
    def _audit(conn, project_id, first_seq, actions):
        conn.execute(text(
            "INSERT INTO audit_events (chain, seq, project_id, at, actor_id, actor_role, action, object_type, "
            "object_id, detail, prev_hash, hash, key_id) SELECT :chain, :seq + n, :p, :t, NULL, 'system', a, 'task', "
            ":p, '', :prev, md5(a || n) || md5(a), 'k1' FROM unnest(CAST(:actions AS text[])) WITH ORDINALITY AS u(a, n)"),
            {"chain": f"project:{project_id}", "seq": first_seq - 1, "p": project_id, "t": NOW, "actions": actions,
             "prev": "0" * 64})

    def _notices(self, conn, project_id, key, users):
        """Inbox delivery + message and e-mail delivery per user, and one e-mail outbox job: 3 statements."""
        keys = [f"{key}:{channel}:{u}" for u in users for channel in ("inbox", "email")]
        conn.execute(text(
            "INSERT INTO deliveries (key, channel, recipient, subject, status, attempts, last_error, created_at, "
            "sent_at) SELECT k, split_part(k, ':', 3), 'r', 's', 'sent', 1, '', :t, :t "
            "FROM unnest(CAST(:keys AS text[])) AS k"), {"keys": keys, "t": NOW})
        conn.execute(text(
            "INSERT INTO messages (user_id, project_id, subject, body, link, created_at) "
            "SELECT u, :p, 's', 'b', '/projects', :t FROM unnest(CAST(:users AS int[])) AS u"),
            {"users": users, "p": project_id, "t": NOW})
        conn.execute(text(
            "INSERT INTO outbox_jobs (key, queue, func, args, status, attempts, last_error, created_at, enqueued_at) "
            "VALUES (NULL, 'notifications', 'workers.notifications.deliver_all', CAST(:args AS json), 'pending', 0, "
            "'', :t, :t)"), {"args": json.dumps([[k, "{}"] for k in keys if ":email:" in k]), "t": NOW})

    def create(self) -> None:
        from sqlalchemy import select

        from agency.catalog.models import ApprovalItem
        if self.items is None:
            with self.engine.connect() as conn:
                self.items = conn.execute(select(ApprovalItem.id, ApprovalItem.department_id)
                                          .where(ApprovalItem.code.in_(BENCH8))).all()
        self.count += 1
        with self.engine.connect() as conn:
            self.project_id = conn.execute(text(
                "INSERT INTO projects (name, project_type_id, enterprise_id, agent_id, first_contact_agent_id, "
                "location, investment_wan, contact_name, contact_phone, tracking_code, status, suspended, "
                "entrusted_at, termination_reason, created_at) VALUES ('p', :type, :e, :a, :a, '开发区', 1200.5, "
                "'张三', '13900000000', :code, 'entrusted', false, :t, '', :t) RETURNING id"),
                {"type": self.s.types["BENCH8"], "e": self.s.enterprises[0], "a": self.s.agents[0],
                 "code": f"FL{self.count}", "t": NOW}).scalar_one()
            conn.execute(text("INSERT INTO stages (project_id, \"order\", name, status) VALUES (:p, 1, 's', 'waiting')"),
                         {"p": self.project_id})
            conn.execute(text(
                "INSERT INTO contact_cards (project_id, card_no, enterprise, contact_name, contact_phone, agent_id, "
                "agent_name, agent_phone, supervision_phone, tracking_code, issued_at, void) VALUES (:p, :no, 'e', "
                "'张三', '139', :a, 'a', '138', '12345', :code, :t, false)"),
                {"p": self.project_id, "no": f"FLC{self.count}", "a": self.s.agents[0], "code": f"FL{self.count}",
                 "t": NOW})
            conn.execute(text("UPDATE projects SET agreement_accepted_at = :t WHERE id = :p"),
                         {"p": self.project_id, "t": NOW})
            self._audit(conn, self.project_id, 1, ["project.entrusted", "card.issued", "project.agreement_accepted"])
            conn.commit()
            conn.execute(text("SELECT id FROM projects WHERE id = :p FOR UPDATE"), {"p": self.project_id})
            conn.execute(text("UPDATE stages SET status = 'open', dispatched_at = :t WHERE project_id = :p"),
                         {"p": self.project_id, "t": NOW})
            conn.execute(text("UPDATE projects SET status = 'in_progress' WHERE id = :p"), {"p": self.project_id})
            self.tasks = conn.execute(text(
                "INSERT INTO tasks (project_id, stage_id, department_id, item_id, status, opinion, promised_days, "
                "started_at, deadline, warn_at, supplement_count, cancel_reason, created_at) "
                "SELECT :p, (SELECT id FROM stages WHERE project_id = :p), d, i, 'pending', '', 10, :t, :t, :t, 0, "
                "'', :t FROM unnest(CAST(:items AS int[]), CAST(:departments AS int[])) AS u(i, d) RETURNING id"),
                {"p": self.project_id, "t": NOW, "items": [i for i, _ in self.items],
                 "departments": [d for _, d in self.items]}).scalars().all()
            conn.execute(text(
                "INSERT INTO outbox_jobs (queue, func, args, status, attempts, last_error, created_at, enqueued_at) "
                "SELECT 'dept', 'workers.tasks.deliver_task', json_build_array(t), 'pending', 0, '', :t, :t "
                "FROM unnest(CAST(:tasks AS bigint[])) AS t"), {"tasks": self.tasks, "t": NOW})
            self._audit(conn, self.project_id, 4, ["stage.dispatched"])
            conn.commit()

    def complete(self) -> None:
        people = [self.s.agents[0], self.s.enterprises[0]]
        with self.engine.connect() as conn:
            for n, task_id in enumerate(self.tasks):
                last = n == len(self.tasks) - 1
                conn.execute(text("SELECT id FROM projects WHERE id = :p FOR UPDATE"), {"p": self.project_id})
                conn.execute(text("UPDATE tasks SET status = 'answered', outcome = 'consent', answered_at = :t "
                                  "WHERE id = :id AND status IN ('pending', 'accepted')"), {"id": task_id, "t": NOW})
                self._audit(conn, self.project_id, 5 + n,
                            ["task.answered", *(("stage.closed", "project.completed") if last else ())])
                self._notices(conn, self.project_id, f"answered:{task_id}", people)
                if last:
                    self._notices(conn, self.project_id, f"completed:{self.project_id}", people)
                conn.execute(text("INSERT INTO task_results (task_id, project_id, kind, number, issued_on, created_at) "
                                  "VALUES (:id, :p, 'approval', '', :d, :t)"),
                             {"id": task_id, "p": self.project_id, "d": NOW.date(), "t": NOW})
                if last:
                    conn.execute(text("UPDATE stages SET status = 'closed', closed_at = :t WHERE project_id = :p"),
                                 {"p": self.project_id, "t": NOW})
                    conn.execute(text("UPDATE projects SET status = 'completed', completed_at = :t WHERE id = :p"),
                                 {"p": self.project_id, "t": NOW})
                conn.commit()


def ten_commits(engine) -> None:
    """What durability alone costs a project of 10 requests: 10 one-row INSERTs, each committed (fsync)."""
    with engine.connect() as conn:
        for _ in range(10):
            conn.execute(text("INSERT INTO bench_commits DEFAULT VALUES"))
            conn.commit()


def main(quick: bool = False) -> None:
    import os

    from agency.extensions import db

    # Requests settle the clocks as of agency.clock.now(): the bench's instant, not the wall clock.
    os.environ["AGENCY_NOW"] = (NOW + timedelta(hours=2)).isoformat()

    size = QUICK if quick else FULL
    spiff = Spiff()
    check_spiff_shape(spiff)
    with bench_database("workflow"):
        s = seed(db.session, enterprises=5, agents=2)
        db.session.execute(text("CREATE TABLE bench_commits (id serial PRIMARY KEY)"))
        db.session.commit()
        ours, floor = Ours(s), Floor(db.engine, s)
        runners = {"ours": ours, "spiff": spiff, "floor": floor, "skeleton": Skeleton(ours)}
        for _ in range(size["warmup"]):  # caches: compiled statements, calendar, prepared statements
            for runner in runners.values():
                runner.create(), runner.complete()
        ours.check()

        times = {f"{name}_{phase}": [] for name in runners for phase in ("create", "complete")}
        times["spiff_complete_persisted"] = []
        relay_timed()  # the warm-up's jobs
        relayed: list[tuple[int, float]] = []
        for n in range(size["projects"]):
            order = list(runners)[n % 4:] + list(runners)[:n % 4]  # rotate who goes first
            if order.index("skeleton") < order.index("ours"):  # it needs the project ours made this round
                order.remove("skeleton"), order.insert(order.index("ours") + 1, "skeleton")
            for name in order:
                times[f"{name}_create"].append(timed(runners[name].create))
                times[f"{name}_complete"].append(timed(runners[name].complete))
            ours.check()
            relayed.append(relay_timed())  # ours' jobs, as the relay process would (the floor's are marked)
            spiff.create()
            times["spiff_complete_persisted"].append(timed(spiff.complete_persisted))

        times["commits"] = [timed(lambda: ten_commits(db.engine)) for _ in range(size["projects"])]
        with Statements(db.engine) as create_statements:
            ours.create()
        with Statements(db.engine) as complete_statements:
            ours.complete()
        with Statements(db.engine) as floor_statements:
            floor.create(), floor.complete()

    for name in runners:
        times[f"{name}_total"] = [c + a for c, a in zip(times[f"{name}_create"], times[f"{name}_complete"])]
    times["spiff_persisted_total"] = [c + a for c, a in zip(times["spiff_create"], times["spiff_complete_persisted"])]
    m = {key: median(values) * 1000 for key, values in times.items()}
    # Each round's ratio, then their median: a round disturbed by other work on the machine slows both sides.
    of_floor = {phase: median([o / f for o, f in zip(times[f"ours_{phase}"], times[f"floor_{phase}"])])
                for phase in ("create", "complete", "total")}
    of_spiff = median([o / p for o, p in zip(times["ours_total"], times["spiff_persisted_total"])])
    skeleton_of_floor = median([k / f for k, f in zip(times["skeleton_total"], times["floor_total"])])
    relay_ms = median([seconds for _, seconds in relayed]) * 1000

    def row(label, phase, spiff_key):
        return (label, f"{m[f'ours_{phase}']:.1f} ms", f"{m[f'floor_{phase}']:.1f} ms", f"{of_floor[phase]:.2f}x",
                "<= 2.5x", "yes" if of_floor[phase] <= 2.5 else "no", f"{m[spiff_key]:.1f} ms")

    table(
        f"A project of {TASKS} department tasks, a commit per request (10): ours against the floor (the same rows "
        f"by hand in SQL) and SpiffWorkflow; median of {size['projects']} alternating rounds",
        ("per project", "ours", "floor", "ours / floor", "goal", "met", "SpiffWorkflow in memory"),
        [row("create + dispatch (2 requests)", "create", "spiff_create"),
         row(f"answer all {TASKS} ({TASKS} requests)", "complete", "spiff_complete"),
         row("whole project", "total", "spiff_total")],
        [("ours / floor: the median of each round's ratio; floor: every row ours writes (tasks, audit events, "
          "messages, deliveries, outbox rows, results, stage and project changes) by hand in "
          "SQL, one statement per table and request, the same 10 commits"),
         (f"SpiffWorkflow persisted per request (its JSON saved after creation, reloaded and saved around each "
          f"of the {TASKS} answers): {m['spiff_persisted_total']:.1f} ms a project; ours / Spiff persisted "
          f"{of_spiff:.2f}x ({'ahead' if of_spiff < 1 else 'behind'})"),
         (f"ours' 10 requests with nothing in them (authenticate, fetch the project or task locked, commit; "
          f"Skeleton): {m['skeleton_total']:.1f} ms a project, {skeleton_of_floor:.2f}x the floor; the workflow "
          f"itself (ours minus that) {m['ours_total'] - m['skeleton_total']:.1f} ms"),
         (f"10 bare commits (one-row INSERT + COMMIT each, synchronous_commit on): {m['commits']:.1f} ms, "
          f"the part of any persisted project that durability alone costs"),
         (f"statements per project: ours create + dispatch {create_statements.total} "
          f"({create_statements.total_seconds * 1000:.1f} ms in SQL), answer all {TASKS} "
          f"{complete_statements.total} ({complete_statements.total_seconds * 1000:.1f} ms in SQL); "
          f"floor {floor_statements.total} ({floor_statements.total_seconds * 1000:.1f} ms in SQL)"),
         (f"ours' requests send nothing to Redis: the outbox relay (a thread of the scheduler process, or its own "
          f"process) put {median([count for count, _ in relayed]):.0f} jobs per project on RQ ({REDIS_URL}) in one "
          f"pass of {relay_ms:.1f} ms (median), outside the requests"),
         "ours, statements by kind (one project)        count    ms",
         "  create + dispatch:",
         *(f"    {kind:<40} {n:5d} {t * 1000:6.2f}" for kind, n, t in create_statements.by_kind()[:40]),
         f"  answer all {TASKS}:",
         *(f"    {kind:<40} {n:5d} {t * 1000:6.2f}" for kind, n, t in complete_statements.by_kind()[:40])],
    )


if __name__ == "__main__":
    main("--quick" in sys.argv)
