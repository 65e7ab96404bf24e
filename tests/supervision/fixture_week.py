"""The hand-computed week: 16-20 November 2026 (Monday to Friday, no holiday), Asia/Shanghai.

Every figure the tests expect is worked out below, next to the rows that make it.
"""
from tests.supervision.conftest import at


def build_week(build, agents):
    """Writes the rows; returns the objects the tests name."""
    a, b = agents
    p = build.project(agent=a, investment=500)
    rows = {"project": p}

    # -- FGW (发展和改革局) tasks ---------------------------------------------------------
    # T1 answered Tue 17 10:00, deadline Wed 18 17:30: on time; early (17 < 18); used wd(16->17) = 1; promised 2
    rows["t1"] = build.task(p, item="FGW-01", status="answered", started=at("2026-11-16 09:00"),
                            deadline=at("2026-11-18 17:30"), answered=at("2026-11-17 10:00"), promised=2)
    # T2 answered Thu 19 16:00, deadline Thu 19 17:30: on time; not early (same date); used wd(16->19) = 3; promised 3
    rows["t2"] = build.task(p, item="FGW-02", status="answered", started=at("2026-11-16 09:00"),
                            deadline=at("2026-11-19 17:30"), answered=at("2026-11-19 16:00"), promised=3, supplements=1)
    # T3 deemed consent on timeout at its deadline Tue 17 17:30: closed, never on time, not early;
    #    deemed_timeout; used wd(Fri 13 -> Tue 17) = Mon, Tue = 2; promised 2
    rows["t3"] = build.task(p, item="FGW-03", status="deemed_consent", reason="timeout",
                            started=at("2026-11-13 09:00"), deadline=at("2026-11-17 17:30"),
                            answered=at("2026-11-17 17:30"), promised=2)
    # T4 refused late, Wed 18 09:00 after the deadline Tue 17 17:30: not on time, not early; used 2; promised 1
    rows["t4"] = build.task(p, item="FGW-01", status="answered", outcome="refuse", started=at("2026-11-16 09:00"),
                            deadline=at("2026-11-17 17:30"), answered=at("2026-11-18 09:00"), promised=1)
    # T6 answered Mon 16 00:00 local (Sun 15 16:00 UTC: inside the period by the hall's date); deadline Mon 16 17:30:
    #    on time; not early (same date); used wd(Fri 13 -> Mon 16) = 1; promised 1
    rows["t6"] = build.task(p, item="FGW-01", status="answered", started=at("2026-11-13 10:00"),
                            deadline=at("2026-11-16 17:30"), answered=at("2026-11-16 00:00"), promised=1)
    # T8 deemed consent on absence Wed 18 10:00: closed, not on time, not early, not a timeout; used 2; promised 5
    rows["t8"] = build.task(p, item="FGW-02", status="deemed_consent", reason="absence",
                            started=at("2026-11-16 09:00"), deadline=at("2026-11-23 17:30"),
                            answered=at("2026-11-18 10:00"), promised=5)
    # Outside: T7 still pending; T9 answered Sun 15 23:59 local (the week before); T10 answered Sat 21.
    rows["t7"] = build.task(p, item="FGW-03", status="pending", started=at("2026-11-18 09:00"),
                            deadline=at("2026-12-02 17:30"))
    rows["t9"] = build.task(p, item="FGW-01", status="answered", started=at("2026-11-12 09:00"),
                            deadline=at("2026-11-16 17:30"), answered=at("2026-11-15 23:59"), promised=2)
    rows["t10"] = build.task(p, item="FGW-01", status="answered", started=at("2026-11-19 09:00"),
                             deadline=at("2026-11-23 17:30"), answered=at("2026-11-21 10:00"), promised=2)
    # FGW: tasks 6 (T1 T2 T3 T4 T6 T8); on time 3 (T1 T2 T6) -> 0.5; early 1 (T1) -> 1/6 = 0.1667;
    #      deemed_timeout 1; avg working days (1+3+2+2+1+2)/6 = 11/6 = 1.83; avg promised (2+3+2+1+1+5)/6 = 14/6 = 2.33

    # -- ZRGH (自然资源和规划局): one task, answered early --------------------------------------
    # answered Fri 20 11:00, deadline Fri 27 17:30: on time, early; used wd(Wed 18 -> Fri 20) = 2; promised 7
    rows["z1"] = build.task(p, item="ZRGH-02", status="answered", started=at("2026-11-18 09:00"),
                            deadline=at("2026-11-27 17:30"), answered=at("2026-11-20 11:00"), promised=7)
    # ZRGH: tasks 1; on time 1.0; early 1.0; avg 2.0; promised 7.0; no card, no rating (satisfaction None)

    # -- cards of FGW ----------------------------------------------------------------------------
    build.card("FGW", "yellow", "warning", at("2026-11-16 17:30"), task=rows["t6"])          # in
    build.card("FGW", "red", "timeout", at("2026-11-17 17:30"), task=rows["t3"])             # in
    build.card("FGW", "yellow", "second_supplement", at("2026-11-18 09:30"), task=rows["t2"])  # in
    build.card("FGW", "yellow", "warning", at("2026-11-15 23:00"), task=rows["t9"])          # out: the week before
    build.card("FGW", "red", "timeout", at("2026-11-21 08:00"), task=rows["t10"])            # out: Saturday
    # FGW: red 1, yellow 2, second_supplements 1

    # -- department ratings of FGW (each on its own task) ---------------------------------------
    build.rating(p, 5, at("2026-11-17 12:00"), "FGW", task=rows["t1"])
    build.rating(p, 2, at("2026-11-19 12:00"), "FGW", task=rows["t2"])
    build.rating(p, 4, at("2026-11-20 23:59"), "FGW", task=rows["t4"])
    build.rating(p, 1, at("2026-11-21 00:00"), "FGW", task=rows["t6"])                        # out
    # FGW satisfaction (5+2+4)/3 = 3.67

    # -- agents and projects ----------------------------------------------------------------------
    # P1 (IND_PERMIT, target 50) by agent a: entrusted Mon 2 Nov, completed Thu 19 Nov:
    #    wd(2 -> 19) = 3-6 (4) + 9-13 (5) + 16-19 (4) = 13, under target
    rows["p1"] = build.project(agent=a, status="completed", entrusted=at("2026-11-02 10:00"),
                               completed=at("2026-11-19 14:00"), name="精密机床")
    # P2 (STARTUP, target 3) by a: entrusted Mon 16, completed Fri 20: wd = 4, over target by 1
    rows["p2"] = build.project(type_code="STARTUP", agent=a, status="completed", entrusted=at("2026-11-16 09:00"),
                               completed=at("2026-11-20 16:00"), name="食品科技开办")
    # P3 by a completed Wed 25: outside the period
    build.project(agent=a, status="completed", entrusted=at("2026-11-02 10:00"), completed=at("2026-11-25 10:00"))
    # P5 by a terminated: neither open nor completed
    build.project(agent=a, status="terminated", entrusted=at("2026-11-02 10:00"), completed=at("2026-11-18 10:00"))
    # P6 (STARTUP) by b: entrusted Tue 17, completed Wed 18: wd = 1, under target
    rows["p6"] = build.project(type_code="STARTUP", agent=b, status="completed", entrusted=at("2026-11-17 09:00"),
                               completed=at("2026-11-18 15:00"))
    # agent a: open = `project` (in progress) = 1; completed 2 (P1, P2); avg (13+4)/2 = 8.5
    # agent b: open 0; completed 1; avg 1.0
    # STARTUP: completed 2 (P2, P6); avg (4+1)/2 = 2.5; over target 1: P2 (4 days, over by 1)
    # IND_PERMIT: completed 1; avg 13.0; over 0

    # -- agent ratings (project ratings, one per project) ------------------------------------------
    build.rating(rows["p1"], 4, at("2026-11-19 18:00"), agent=a)
    build.rating(rows["p2"], 5, at("2026-11-20 18:00"), agent=a)
    build.rating(rows["p6"], 3, at("2026-11-22 10:00"), agent=b)                                # out (Sunday)
    # agent a satisfaction (4+5)/2 = 4.5; agent b None
    return rows
