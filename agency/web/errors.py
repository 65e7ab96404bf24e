"""One place that turns errors into responses: JSON under /api/v1, pages elsewhere."""
from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from agency.api import is_api_request, render_domain_error, render_http_error
from agency.errors import DomainError
from agency.extensions import db
from agency.web import refusals

# status -> (title, explanation) shown on error pages, in the page's language.
PAGES = {
    400: (_l("请求有误"), _l("提交的内容不完整或格式不正确，请返回检查后重试。")),
    401: (_l("请先登录"), _l("此页面需要登录后查看。")),
    403: (_l("无权访问"), _l("您的账号没有查看此页面的权限。")),
    404: (_l("页面不存在"), _l("您要找的页面不存在，或您无权查看。")),
    405: (_l("操作不被允许"), _l("此页面不支持这种操作。")),
    409: (_l("状态已变化"), _l("该事项的状态已经变化，请刷新后重试。")),
    413: (_l("文件过大"), _l("上传的文件超过了大小限制。")),
    422: (_l("无法办理"), _l("该操作不符合办理规则。")),
    429: (_l("操作过于频繁"), _l("请稍候片刻再试。")),
    500: (_l("系统出错"), _l("系统暂时出现问题，请稍后再试；如仍有问题，请拨打监督电话。")),
}


def page_message(error: DomainError) -> str:
    """What a page says about a domain error, in the page's language: the error's ``shown`` text,
    else the general explanation of its status.  Never the API's English ``message`` (agency/errors.py)."""
    if error.shown is not None:
        return str(error.shown)
    return str(PAGES.get(error.status, PAGES[422])[1])


def _page(status: int, detail: str | None = None):
    title, explanation = PAGES.get(status, (str(status), ""))
    return render_template("errors/error.html", status=status, title=title, message=explanation,
                           detail=detail), status


def _domain(error: DomainError):
    if is_api_request():
        return render_domain_error(error)
    db.session.rollback()
    # Not-found and forbidden look alike and say nothing about the object (DESIGN.md section 3).
    return _page(error.status, None if error.status in (403, 404) or error.shown is None else page_message(error))


def _http(error: HTTPException):
    if is_api_request():
        return render_http_error(error)
    if error.code == 413 and request.method == "POST":
        return refusals.too_large_page()  # back to the form, the message at its upload field
    # Werkzeug's stock descriptions are English prose; a description given to abort() is shown.
    custom = error.description if error.description != type(error).description else None
    return _page(error.code or 500, custom if error.code in PAGES else custom or error.description)


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain)
    app.register_error_handler(HTTPException, _http)
    refusals.init_app(app)
