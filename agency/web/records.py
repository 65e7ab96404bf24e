"""Texts the system wrote and stored in Chinese, shown in the page's language (#13.5).

Timeline lines (audit ``detail``), message subjects and bodies were written once, in Chinese, when
the thing happened; the audit chain hashes them, so they stay as they are.  A page shows them through
``{{ text|record }}``:

- on a Chinese page, as stored;
- on an English page, a text that matches one of ``TEMPLATES`` is rendered again from its catalogue
  entry: the msgid is the very Chinese the service writes, with ``%(name)s`` where the service puts a
  value.  Each value is translated when the catalogue knows it as a word of the interface (a kind of
  meeting, a decision), and otherwise shown as user data (a project's or a department's name);
- a text no template matches stays Chinese, tagged ``<span lang="zh-CN">`` so that readers (and
  screen readers) know what it is.

A service that writes a new kind of stored text adds its template here, written exactly as the
service's f-string with the same placeholders, and the English in the catalogue.
"""
import re
from functools import cache

from flask_babel import get_locale, gettext
from markupsafe import Markup

from agency.web.filters import user_data


def N_(text: str) -> str:
    """Marks a msgid for extraction (scripts/i18n) without translating it here."""
    return text


TEMPLATES = (
    # message subjects (agency.notifications.services.notify)
    N_("新办件：%(item)s"), N_("需补正材料：%(item)s"), N_("补正材料已到：%(item)s"), N_("部门已答复：%(item)s"),
    N_("超时督办：%(item)s"), N_("已重新提交：%(item)s"), N_("不予办理：%(project)s"), N_("项目已终止：%(project)s"),
    N_("联系卡已更换：%(project)s"), N_("移交申请：%(project)s"), N_("材料预审退回：%(project)s"),
    N_("新指派项目：%(project)s"), N_("整改复函：%(project)s"), N_("投诉待处理：%(project)s"),
    N_("投诉已答复：%(project)s"), N_("企业投诉：%(project)s"), N_("不满意件函告：%(project)s"),
    N_("办理结果已寄出：%(project)s"), N_("下一阶段待派发：%(project)s"),
    N_("邀请送达晚于通知期限：%(department)s"), N_("请重新邀请：%(departments)s"), N_("反对意见：%(department)s"),
    N_("书面意见：%(department)s"), N_("%(department)s确认出席"),
    N_("会议邀请：%(kind)s（%(project)s）"), N_("会议纪要：%(kind)s（%(project)s）"),
    N_("会议提醒：%(kind)s（%(project)s）"), N_("会议取消：%(kind)s（%(project)s）"),
    N_("%(kind)s已安排：%(project)s"), N_("%(kind)s改期：%(project)s"), N_("%(kind)s已取消：%(project)s"),
    N_("不满意件逾期未复函（红牌）"),
    # message bodies
    N_("%(department)s：%(decision)s。"), N_("%(department)s：%(decision)s。%(opinion)s"),
    N_("%(department)s要求补正：%(materials)s"), N_("%(department)s对“%(item)s”不予办理：%(opinion)s"),
    N_("项目“%(project)s”的“%(item)s”已派发到%(department)s，承诺时限%(days)s个工作日。"),
    N_("时间%(when)s，地点%(place)s。"), N_("新时间%(when)s，地点%(place)s。"),
    N_("%(when)s，%(place)s。请确认出席代表，或在会前提交书面意见；经正式邀请未出席且未提交书面意见的，视为同意会议结论。"),
    N_("%(kind)s（%(when)s）的邀请送达%(department)s时已不足通知期限，该部门缺席时不视为同意，请考虑改期。"),
    N_("%(departments)s未在通知期限前收到邀请且未出席，不适用缺席默认，请重新安排会议邀请。"),
    N_("企业对%(addressee)s的评价为“%(level)s”：%(comment)s。请在%(days)s个工作日内提交整改复函。"),
    N_("企业对代办员%(agent)s的评价为“%(level)s”：%(comment)s。请在%(days)s个工作日内提交整改复函。"),
    # timeline lines (agency.audit.services.record, detail=...)
    N_("委托代办：%(project)s（%(type)s）"), N_("企业在线签署委托代办协议"), N_("登记项目代码：%(code)s"),
    N_("指派代办员：%(agent)s"), N_("网上申报材料“%(material)s”：%(file)s"),
    N_("网上申报材料“%(material)s”：%(file)s（替换旧版本）"),
    N_("派发第%(order)s阶段“%(stage)s”：%(n)s个部门任务并联审批"),
    N_("派发第%(order)s阶段“%(stage)s”：%(n)s个部门任务并联审批；容缺受理：%(materials)s"),
    N_("第%(order)s阶段“%(stage)s”全部同意，阶段办结"), N_("全部阶段办结，项目完成"),
    N_("%(department)s受理“%(item)s”"), N_("%(department)s一次性告知补正材料：%(materials)s"),
    N_("%(department)s答复“%(item)s”：%(decision)s"), N_("%(department)s答复“%(item)s”：%(decision)s（%(opinion)s）"),
    N_("补正材料已提交，“%(item)s”重新计时%(days)s个工作日"), N_("“%(item)s”超过承诺时限未答复"),
    N_("“%(item)s”剩余1个工作日"), N_("预警：%(department)s“%(item)s”剩余1个工作日"),
    N_("%(department)s不予办理“%(item)s”，项目暂停推进，待代办员决定终止或整改后重新提交"),
    N_("发放企业联系卡 %(card)s（代办员 %(agent)s）"), N_("发放企业联系卡 %(card)s（代办员 %(agent)s），原卡 %(old)s 作废"),
    N_("安排%(kind)s：%(when)s，%(place)s；邀请%(departments)s"), N_("%(kind)s邀请送达%(department)s（%(liaison)s）"),
    N_("%(kind)s邀请送达%(department)s（%(liaison)s），按时送达"),
    N_("%(kind)s邀请送达%(department)s（%(liaison)s），晚于通知期限（应不晚于%(latest)s），不适用缺席默认"),
    N_("%(kind)s闭会，形成会议纪要。结论：%(conclusion)s"), N_("企业投诉：%(text)s"), N_("投诉答复：%(text)s"),
    N_("送达方式：%(method)s"), N_("送达方式：%(method)s（%(address)s）"),
    N_("快递寄出办理结果（%(items)s），运单号%(waybill)s"), N_("运单%(waybill)s已签收（%(at)s）"),
    N_("%(department)s上传“%(item)s”电子证照：%(file)s"), N_("企业到厅办事（%(on)s）：%(reason)s"),
)


@cache
def _patterns() -> list[tuple[re.Pattern, str]]:
    """Each template as a pattern; values match lazily, so a template's own words anchor them."""
    compiled = []
    for template in TEMPLATES:
        parts = re.split(r"%\((\w+)\)s", template)
        pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        compiled.append((re.compile(f"^{pattern}$", re.S), template))
    # the longest templates first: "…（替换旧版本）" before "…"
    return sorted(compiled, key=lambda c: -len(c[1]))


def _value(text: str):
    """A word of the interface in the page's language, else the value as user data."""
    translated = gettext(text)
    return translated if translated != text else user_data(text)


def record(text: str | None) -> Markup | str:
    """``{{ text|record }}``: a stored system text in the page's language, as far as the catalogue knows it."""
    if not text:
        return ""
    if str(get_locale()) == "zh":
        return text
    for pattern, template in _patterns():
        found = pattern.match(text)
        if found:
            return Markup(gettext(template)) % {k: _value(v) for k, v in found.groupdict().items()}
    return Markup('<span lang="zh-CN">%s</span>') % text
