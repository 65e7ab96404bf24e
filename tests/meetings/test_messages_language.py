"""A service's refusal in the page's language, the same refusal unchanged in the API (#13.5), and the
language switch on a page that answered a refused form."""
import re

from tests.meetings.conftest import MONDAY
from tests.web.conftest import client, csrf_token, login, read_csrf  # noqa: F401  (page fixtures)

PAST = "2026-11-20T09:00"  # the Friday before MONDAY
CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")


def html(response) -> str:
    return response.get_data(as_text=True)


def schedule_in_the_past(client, project):  # noqa: F811
    path = f"/meetings/new?project={project.id}"
    form = {"csrf_token": read_csrf(html(client.get(path))), "kind": "joint_review", "starts_at": PAST,
            "place": "三楼联审室", "departments": ["FGW", "ZRGH"]}
    return client.post(path, data=form)


def alert(page: str) -> str:
    return re.search(r'<div class="flash flash-error" role="alert">(.*?)</div>', page, re.S).group(1)


def test_a_refusal_is_shown_in_the_page_language(hall, project, client, login, clock):  # noqa: F811
    clock.set(MONDAY)
    login("agent")
    chinese = alert(html(schedule_in_the_past(client, project)))
    assert chinese == "无法办理：会议时间已过：不能把会议安排在过去的时间。"

    client.post("/lang/en", data={"csrf_token": read_csrf(html(client.get("/home"))), "next": "/home"})
    english = alert(html(schedule_in_the_past(client, project)))
    assert english == "Not possible: A meeting cannot be scheduled in the past."
    assert not CJK.search(english)


def test_the_api_keeps_its_english_message(hall, project, api, clock):
    clock.set(MONDAY)
    response = api(hall["agent"]).post(f"/projects/{project.id}/meetings", json={
        "kind": "joint_review", "starts_at": "2026-11-20T09:00:00+08:00", "place": "三楼联审室",
        "department_codes": ["FGW"]}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    assert response.get_json()["error"] == {"code": "rule_violated",
                                            "message": "a meeting cannot be scheduled in the past",
                                            "fields": {"starts_at": "must be in the future"}}


def test_the_language_switch_of_a_refused_form_returns_to_a_page(hall, project, client, login, clock):  # noqa: F811
    """A refused form is shown at its action's address, which has no GET: the switch goes back to the form."""
    clock.set(MONDAY)
    login("agent")
    meeting_form = f"/meetings/new?project={project.id}"
    refused = client.post(f"/projects/{project.id}/dispatch", data={"csrf_token": read_csrf(html(client.get(
        f"/projects/{project.id}"))), "pick": "y"}, headers={"Referer": f"http://localhost/projects/{project.id}"})
    assert refused.status_code in (400, 409, 422)
    target = re.search(r'name="next" value="([^"]+)"', html(refused)).group(1)
    assert target == f"/projects/{project.id}"

    page = html(schedule_in_the_past(client, project))  # answered at the form's own address, a GET page too
    assert re.search(r'name="next" value="([^"]+)"', page).group(1).replace("&amp;", "&") == meeting_form

    switched = client.post("/lang/en", data={"csrf_token": read_csrf(page), "next": f"/projects/{project.id}/dispatch"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/"  # a POST-only address: home instead
    assert client.get(switched.headers["Location"], follow_redirects=True).status_code == 200
