"""The page layer through Flask's test client: sign-in, home pages, catalog,
language switch, errors, assets and the translation catalog."""
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.support import ROOT

TEMPLATES = ROOT / "templates"
CATALOG_PO = ROOT / "agency" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
CATALOG_MO = CATALOG_PO.with_suffix(".mo")
ROLE_LABELS = {"director": ("大厅主任", "Hall director"), "agent": ("代办员", "Agent"),
               "enterprise": ("企业", "Enterprise"), "liaison": ("部门联络员", "Department liaison")}


def text(response) -> str:
    return response.get_data(as_text=True)


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = text(response)
    assert "<h2>登录</h2>" in html
    assert 'name="username"' in html and 'name="password"' in html and 'name="csrf_token"' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_wrong_password_is_refused(client, make_user, login):
    make_user("agent", "agent1")
    response = login("agent1", "not-the-password")
    assert response.status_code == 200
    assert "用户名或密码不正确" in text(response)


@pytest.mark.parametrize("role", ["director", "agent", "enterprise", "liaison"])
def test_home_page_of_each_role(role, client, catalog, make_user, login):
    extra = {"department_code": "FGW"} if role == "liaison" else {}
    make_user(role, f"{role}-x", name="测试用户", **extra)
    response = login(f"{role}-x")
    assert response.status_code == 302 and response.headers["Location"].endswith("/home")
    html = text(client.get("/home"))
    assert "欢迎，测试用户" in html
    assert ROLE_LABELS[role][0] in html
    assert 'class="tile"' in html and "/catalog/" in html  # the role's navigation as tiles
    if role == "director":
        assert 'class="banner"' in html
    if role == "liaison":
        assert "发展和改革局" in html


def test_catalog_lists_the_sample_items(client, catalog, make_user, login):
    make_user("enterprise", "ent")
    login("ent")
    html = text(client.get("/catalog/"))
    assert "企业投资项目备案" in html and "FGW-01" in html
    assert "建设项目用地预审与选址意见书" in html and "ZRGH-01" in html
    assert html.count("<tr>") - 1 == len(re.findall(r'<td class="code" data-label="编码">[A-Z]+-\d+</td>', html))
    assert "项目类型" in html


def test_catalog_filters_by_department(client, catalog, make_user, login):
    make_user("agent", "agent")
    login("agent")
    html = text(client.get("/catalog/?department=FGW"))
    codes = re.findall(r'<td class="code" data-label="编码">([A-Z]+-\d+)</td>', html)
    assert codes == ["FGW-01", "FGW-02", "FGW-03"]
    assert '<option value="FGW" selected>' in html
    assert "自然资源和规划局</td>" not in html


def test_language_switch_shows_english(client, catalog, make_user, login, csrf_token):
    make_user("director", "boss", name="王主任")
    login("boss")
    assert "欢迎，王主任" in text(client.get("/home"))
    response = client.post("/lang/en", data={"csrf_token": csrf_token("/home"), "next": "/home"})
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    html = text(client.get("/home"))
    assert '<html lang="en">' in html
    assert "Welcome, 王主任" in html and "Hall director" in html and "Sign out" in html
    assert "Catalog" in html and "欢迎" not in html
    catalog_page = text(client.get("/catalog/"))
    assert "Agency service catalog" in catalog_page and "Deemed consent on timeout" in catalog_page
    client.post("/lang/zh", data={"csrf_token": csrf_token("/home"), "next": "/home"})
    assert "欢迎，王主任" in text(client.get("/home"))


def test_language_switch_before_sign_in_is_kept(client, csrf_token):
    client.post("/lang/en", data={"csrf_token": csrf_token(), "next": "/login"})
    html = text(client.get("/login"))
    assert "Sign in" in html and "Username" in html and "Password" in html


def test_language_switch_needs_csrf_and_ignores_foreign_targets(client, csrf_token):
    assert client.post("/lang/en", data={"next": "/login"}).status_code == 400
    response = client.post("/lang/en", data={"csrf_token": csrf_token(), "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_accept_language_chooses_english(client):
    html = text(client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert "Sign in" in html


@pytest.mark.parametrize("path", ["/home", "/catalog/"])
def test_anonymous_user_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert client.get("/").headers["Location"] == "/login"


def test_sign_out(client, make_user, login, csrf_token):
    make_user("agent", "agent")
    login("agent")
    response = client.post("/logout", data={"csrf_token": csrf_token("/home")}, follow_redirects=True)
    assert "已退出" in text(response)
    assert client.get("/home").status_code == 302


def test_error_page_is_translated(client, csrf_token):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in text(response)
    client.post("/lang/en", data={"csrf_token": csrf_token(), "next": "/login"})
    assert "Page not found" in text(client.get("/no-such-page"))


EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']\s*(?:https?:)?//|@import|url\(\s*["']?\s*(?:https?:)?//""", re.I)


def test_no_external_assets_in_templates_or_styles():
    files = sorted(TEMPLATES.rglob("*.html")) + sorted((ROOT / "static").rglob("*.css"))
    assert files
    offenders = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in files
                 for match in EXTERNAL.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


INLINE = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=\s*["']""", re.I)


def test_templates_respect_the_csp():
    """No inline script, style or event handler: the CSP allows only files from /static."""
    offenders = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in sorted(TEMPLATES.rglob("*.html"))
                 for match in INLINE.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


def _catalog() -> dict[str, str]:
    with CATALOG_PO.open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and not m.fuzzy}


def test_translation_catalog_is_complete_and_compiled():
    translations = _catalog()
    assert len(translations) > 50
    assert [msgid for msgid, english in translations.items() if not english] == []
    with CATALOG_MO.open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == translations, "run scripts/i18n compile"


OWNED = [*(TEMPLATES / "web").glob("*.html"), *(TEMPLATES / "people").glob("*.html"),
         *(TEMPLATES / "catalog").glob("*.html"), *(TEMPLATES / "errors").glob("*.html"),
         TEMPLATES / "base.html", TEMPLATES / "macros.html", *(ROOT / "agency" / "web").glob("*.py"),
         ROOT / "agency" / "people" / "views.py", ROOT / "agency" / "people" / "forms.py",
         ROOT / "agency" / "catalog" / "views.py"]


@pytest.mark.parametrize("path", OWNED, ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_every_string_of_the_page_layer_has_english(path):
    method = "jinja2" if path.suffix == ".html" else "python"
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
    translations = _catalog()
    found = [m[1] for m in extract_from_file(method, str(path), keywords=keywords)]
    missing = [msgid for msgid in found if (msgid if isinstance(msgid, str) else msgid[0]) not in translations]
    assert missing == [], "run scripts/i18n and translate the new entries"


def test_outside_a_request_chinese_unless_forced(app):
    from flask_babel import force_locale, gettext
    with app.app_context():
        assert gettext("首页") == "首页"
        with force_locale("en"):
            assert gettext("首页") == "Home"
