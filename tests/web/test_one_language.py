"""One language at a time (#13.5): every page of every role, in Chinese and in English, carries no text of
the other language outside user data.

The pages are not listed by hand: every GET route of the app's url_map (pages added later included) is
rendered for each role with its URL parameters filled from the hall below (the demo, plus a meeting
closed with minutes, a dissatisfaction notice, a complaint and a report).  A page that is not the
role's answers 403/404, and that error page is checked too.  Downloads (anything not HTML) are skipped.

Text is what a person reads: the text nodes and the attributes shown on screen (title, placeholder,
alt, aria-label, the value of a button).  User data is exempt: an element marked ``class="user-data"``
(templates write ``{{ value|user_data }}``, or the class on the element) is dropped with its content,
and so is an element whose ``lang`` differs from the page's (the switch's "English" / "中文").

- English page: no CJK character and no full-width punctuation (：，（）。、 …).
- Chinese page: no English word, except codes (all capitals or with digits: FGW-01, PDF, QR), units,
  e-mail addresses, URLs and the brand names of ``ALLOWED``.
"""
import re
import io
import shutil
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from tests.pages import login, page_client, post

ROLES = {"enterprise": "ent1", "agent": "agent1", "liaison": "zrgh_a", "director": "director"}
DEMO_PASSWORD = "demo-pass-2026"
# Words a Chinese page may show: brand and format names.
ALLOWED = {"English", "iCalendar", "Excel", "Ctrl", "chinesecalendar", "holidays",
           "date", "kind", "name", "holiday", "workday"}  # the columns and kinds of the calendar CSV format
SKIPPED_PREFIXES = ("/api/", "/static/")
DOWNLOAD_ARGUMENTS = {"kind", "filename"}  # a report's format, a static file
# endpoint -> the ids its query string takes (the page's own parameter is the id's name less "_id")
QUERIES = {"meetings.schedule": ("project_id",)}

CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|/api/\S+|[\w.-]*\.(?:pdf|png|jpg|csv|xlsx|ics|txt)\b", re.I)
CODE = re.compile(r"[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*")  # a word with digits: a hash, a tracking code, a waybill
SHOWN_ATTRIBUTES = ("title", "placeholder", "alt", "aria-label")
# Not prose: scripts, the <title> (it repeats the page's heading, which is checked, and cannot hold a marked
# span), and code (a CSV header, a sample line).
EXEMPT_TAGS = ("script", "style", "template", "title", "code", "kbd", "samp")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class ShownText(HTMLParser):
    """Collects what a reader sees, minus user data and text in another declared language."""

    def __init__(self, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang, self.stack, self.skipping, self.pieces = lang, [], 0, []

    def _exempt(self, tag: str, attrs: dict) -> bool:
        classes = (attrs.get("class") or "").split()
        declared = attrs.get("lang")
        return (tag in EXEMPT_TAGS or "user-data" in classes
                or (declared is not None and declared.split("-")[0] != self.lang))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        exempt = self._exempt(tag, attrs)
        if not self.skipping and not exempt:
            shown = [attrs.get(a) for a in SHOWN_ATTRIBUTES]
            if tag == "input" and attrs.get("type") in ("submit", "button"):
                shown.append(attrs.get("value"))
            self.pieces += [s for s in shown if s]
        if tag in VOID:
            return
        self.stack.append((tag, exempt))
        self.skipping += exempt

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        while self.stack:
            opened, exempt = self.stack.pop()
            self.skipping -= exempt
            if opened == tag:
                break

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.pieces.append(data.strip())


def shown_text(html: str, lang: str) -> list[str]:
    parser = ShownText(lang)
    parser.feed(html)
    parser.close()
    return parser.pieces


def foreign(pieces: list[str], lang: str) -> list[str]:
    """The pieces of text that are in the other language."""
    if lang == "en":
        return [p for p in pieces if CJK.search(p)]
    found = []
    for piece in pieces:
        words = [w for w in ENGLISH_WORD.findall(CODE.sub(" ", EMAIL_OR_URL.sub(" ", piece)))
                 if not (w.isupper() or w in ALLOWED)]
        if words:
            found.append(piece)
    return found


# -- the hall ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hall(sqlite_template, tmp_path_factory):
    """The demo, plus what it lacks: a meeting to come, one closed with its minutes, a dissatisfaction
    notice, a complaint, a refusal waiting for the agent's decision and a daily report; the ids of every
    object a URL may name."""
    from agency import clock
    from agency.audit.services import Actor
    from agency.demo import build_demo
    from agency.enterprise.services import file_complaint, rate
    from agency.extensions import db
    from agency.meetings.services import close_meeting, record_attendance, schedule_meeting
    from agency.people.models import User
    from agency.projects.models import Project
    from agency.supervision.reports import build_report
    from agency.tasks.models import MaterialFile, Task
    from agency.tasks.services import answer_task
    from tests.support import make_app
    from workers.worker import drain

    folder = tmp_path_factory.mktemp("one-language")
    shutil.copy(sqlite_template, folder / "agency.db")
    app = make_app(f"sqlite:///{folder / 'agency.db'}", folder, LOGIN_RATE_LIMIT="10000 per minute")
    with app.app_context():
        session, now = db.session, clock.now()
        build_demo(session, now)
        session.commit()
        users = {u.username: u for u in session.scalars(select(User))}
        projects = {p.name: p for p in session.scalars(select(Project))}
        factory, done = projects["年产十万台精密机床项目"], projects["青禾食品科技有限公司设立"]
        calendar_day = now + timedelta(days=7)
        while calendar_day.weekday() >= 5:
            calendar_day += timedelta(days=1)
        schedule_meeting(session, now, users["agent1"], factory, kind="joint_review",
                         starts_at=calendar_day.replace(hour=2, minute=0, second=0, microsecond=0),
                         place="三楼联审室", department_codes=["ZRGH", "FGW"])
        past = now - timedelta(days=7)
        while past.weekday() >= 5:
            past -= timedelta(days=1)
        held = schedule_meeting(session, past - timedelta(days=2), users["agent1"], factory, kind="site_survey",
                                starts_at=past.replace(hour=2, minute=0, second=0, microsecond=0),
                                place="经开区创业路8号", department_codes=["ZRGH", "ZJ"])
        session.commit()
        drain(app)
        held = session.merge(held)
        record_attendance(session, now, users["agent1"], held, [
            {"department_code": "ZRGH", "present": True, "decision": "consent", "opinion": "同意",
             "representative": "规划科王工", "findings": "现场与图纸一致"},
            {"department_code": "ZJ", "present": False}])
        close_meeting(session, now, users["agent1"], held, "同意按现方案推进")
        rate(session, now, users["ent2"], session.merge(done), 2, "办理太慢")
        file_complaint(session, now, users["ent1"], session.merge(factory), "材料被退回两次")
        zrgh = next(t for t in session.merge(factory).tasks if t.item.code == "ZRGH-01")
        answer_task(session, now, Actor.of(users["zrgh_a"]), zrgh, "refuse", "用地性质不符")
        from agency.comments.services import add_comment
        comment = add_comment(session, now, users["zrgh_a"], zrgh, "@agent1 请补充用地说明", internal=False,
                              filename="说明.pdf", stream=io.BytesIO(b"%PDF-1.4\n%%EOF\n"),
                              link=f"/tasks/{zrgh.id}", public_link=f"/projects/{zrgh.project_id}#comments")
        build_report(session, now, "daily", (now - timedelta(days=1)).date(), app.config["REPORT_DIR"])
        session.commit()
        drain(app)
        from agency.catalog.models import ApprovalItem, ProjectType
        from agency.enterprise.models import Complaint, DissatisfactionNotice
        from agency.meetings.models import Meeting
        from agency.supervision.models import Report
        tasks = list(session.scalars(select(Task)))
        one_per_state = {(t.status, t.outcome): t.id for t in tasks}
        ids = {
            "project_id": [p.id for p in session.scalars(select(Project))],
            "task_id": sorted(one_per_state.values()),
            "meeting_id": [m.id for m in session.scalars(select(Meeting))],
            "complaint_id": [c.id for c in session.scalars(select(Complaint))],
            "notice_id": [n.id for n in session.scalars(select(DissatisfactionNotice))],
            "agent_id": [u.id for u in users.values() if u.role == "agent"],
            "user_id": [users[n].id for n in ("director", "agent1", "ent1", "zrgh_a")],
            "item_id": [i.id for i in session.scalars(select(ApprovalItem).limit(2))],
            "type_id": [t.id for t in session.scalars(select(ProjectType).limit(2))],
            "report_id": [r.id for r in session.scalars(select(Report))],
            "file_id": [f.id for f in session.scalars(select(MaterialFile).limit(1))],
            "comment_id": [comment.id],
            "code": ["FGW-01", "ZRGH-01"] + [p.tracking_code for p in session.scalars(select(Project).limit(2))],
        }
        db.session.remove()
    yield app, ids
    with app.app_context():
        db.engine.dispose()


def page_urls(app, ids: dict) -> list[str]:
    """Every GET page of the url_map with its parameters filled from the hall (each value of each), plus the
    query strings of ``QUERIES``.  A parameter the hall has no values for fails the test: add them to ``ids``."""
    from flask import url_for
    urls, unfilled = set(), []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.rule.startswith(SKIPPED_PREFIXES):
                continue
            if rule.arguments & DOWNLOAD_ARGUMENTS:
                continue
            unfilled += [f"{rule.rule} <{name}>" for name in rule.arguments if not ids.get(name)]
            combos = [{}]
            for name in sorted(rule.arguments):
                combos = [{**c, name: v} for c in combos for v in ids.get(name, [])]
            for values in combos:
                urls.add(url_for(rule.endpoint, **values))
            for query in QUERIES.get(rule.endpoint, ()):
                for value in ids[query]:
                    urls.update(url_for(rule.endpoint, **{query.removesuffix("_id"): value, **c}) for c in combos)
    assert not unfilled, f"pages whose URL parameters the hall cannot fill (add ids): {unfilled}"
    return sorted(urls)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_is_in_one_language(hall, role, lang):
    app, ids = hall
    client = page_client(app)
    client.keep_marks = True  # this test reads the user-data marks
    assert login(client, ROLES[role], DEMO_PASSWORD).status_code == 302
    post(client, f"/lang/{lang}", {"next": "/home"}, token_from="/home")
    checked, problems = 0, []
    for url in page_urls(app, ids):
        response = client.get(url)
        assert response.status_code < 500, f"{url} answered {response.status_code}"
        if response.status_code in (301, 302, 303) or not response.mimetype == "text/html":
            continue
        html = response.get_data(as_text=True)
        assert f'<html lang="{"en" if lang == "en" else "zh-CN"}">' in html, url
        checked += 1
        for piece in foreign(shown_text(html, lang), lang):
            problems.append(f"{url}: {piece!r}")
    assert checked > 20
    assert not problems, f"{len(problems)} pieces of the other language:\n" + "\n".join(sorted(set(problems)))


@pytest.mark.parametrize("html, lang, expected", [
    ('<p>已安排</p>', "en", ["已安排"]),
    ('<p>Scheduled：</p>', "en", ["Scheduled："]),
    ('<p>Project <span class="user-data">机床项目</span></p>', "en", []),
    ('<button lang="zh-CN">中文</button>', "en", []),
    ('<input type="submit" value="提交">', "en", ["提交"]),
    ('<p title="关闭">x</p>', "en", ["关闭"]),
    ('<p>无法办理：a meeting cannot be scheduled in the past</p>', "zh", ["无法办理：a meeting cannot be scheduled in the past"]),
    ('<p>FGW-01 · PDF · 2 MB · a@b.cn · https://x.cn/a</p>', "zh", []),
    ('<p>项目 <span class="user-data">Acme Ltd</span></p>', "zh", []),
])
def test_the_check_itself(html, lang, expected):
    assert foreign(shown_text(html, lang), lang) == expected


def test_stored_texts_are_rendered_in_the_page_language(app):
    """A stored Chinese text (timeline line, message) is rendered again from its template on an English page:
    interface words translated, names marked as user data; an unknown text is tagged as Chinese."""
    from flask_babel import force_locale

    from agency.web.records import record
    with app.test_request_context():
        with force_locale("en"):
            assert record("会议邀请：联合踏勘（机床项目）") == (
                'Meeting invitation: Joint site survey (<span class="user-data">机床项目</span>)')
            assert record("发改局答复“项目备案”：附条件同意（落实节能措施）") == (
                '<span class="user-data">发改局</span> answered “<span class="user-data">项目备案</span>”: '
                'Consent with conditions (<span class="user-data">落实节能措施</span>)')
            assert record("一段没有模板的文字") == '<span lang="zh-CN">一段没有模板的文字</span>'
        with force_locale("zh"):
            assert record("会议邀请：联合踏勘（机床项目）") == "会议邀请：联合踏勘（机床项目）"
