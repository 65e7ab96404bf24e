"""Forms of the project pages (CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, DecimalField, FieldList, Form, FormField, HiddenField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from agency.projects.schemas import INVESTMENT_MAX_WAN

AGREEMENT_TEXT = _l("自愿委托、免费代办、全程服务、合法高效、公开透明")
STATUS_LABELS = {"consulting": _l("咨询中"), "entrusted": _l("已委托"), "in_progress": _l("办理中"),
                 "completed": _l("已办结"), "terminated": _l("已终止")}
STAGE_LABELS = {"waiting": _l("未开始"), "open": _l("办理中"), "closed": _l("已办结"), "halted": _l("已暂停"),
                "cancelled": _l("已取消")}


class FiniteAmount:
    """One message for an amount that is not a finite number ("lots", NaN, Infinity), instead of the field's
    own "not a valid decimal" followed by the range's message about a value that does not exist."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if field.data is None or not field.data.is_finite():
            field.errors[:] = []
            raise StopValidation(self.message)


class EntrustForm(FlaskForm):
    """Entrust a project.  The view drops ``enterprise_id`` for an enterprise and ``agree`` for an agent."""

    enterprise_id = SelectField(_l("委托企业"), coerce=int, validators=[DataRequired(_l("请选择委托企业"))])
    name = StringField(_l("项目名称"), validators=[DataRequired(_l("请填写项目名称")), Length(max=200)])
    project_type = SelectField(_l("项目类型"), validators=[DataRequired(_l("请选择项目类型"))])
    location = StringField(_l("建设地点"), validators=[DataRequired(_l("请填写建设地点")), Length(max=200)])
    investment_wan = DecimalField(_l("总投资（万元）"), places=2, validators=[
        InputRequired(_l("请填写总投资")), FiniteAmount(_l("请填写有效的金额（万元）")),
        NumberRange(min=0, message=_l("总投资不能为负数")),
        NumberRange(max=INVESTMENT_MAX_WAN, message=_l("总投资最多 %(max)s 万元"))])
    contact_name = StringField(_l("联系人"), validators=[DataRequired(_l("请填写联系人")), Length(max=100)])
    contact_phone = StringField(_l("联系电话"), validators=[
        DataRequired(_l("请填写联系电话")), Regexp(r"^[0-9+\-() ]{5,40}$", message=_l("电话号码格式不正确"))])
    agree = BooleanField(_l("我已阅读并同意委托代办协议"),
                         validators=[DataRequired(_l("须同意委托代办协议才能提交委托"))])


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class DeferForm(Form):
    """A deferrable material (容缺受理, R15): dispatch without it, promising it by ``until``."""

    name = HiddenField()
    chosen = BooleanField(_l("容缺受理"))
    until = DateField(_l("承诺补齐日期"), validators=[Optional()])


class DispatchForm(FlaskForm):
    # "pick" marks that the item checkboxes were shown, so none ticked means none (not the whole stage).
    pick = HiddenField(default="1")
    items = SelectMultipleField(_l("本阶段事项"), widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput(), validate_choice=False)
    deferred = FieldList(FormField(DeferForm), max_entries=50)

    def deferrals(self) -> list[dict]:
        """The materials chosen for deferral, as agency.projects.services.dispatch_stage takes them."""
        return [{"name": d.form.name.data, "until": d.form.until.data} for d in self.deferred if d.form.chosen.data]


class ProjectCodeForm(FlaskForm):
    project_code = StringField(_l("项目代码"), validators=[DataRequired(_l("请填写项目代码")), Length(max=40)],
                               description=_l("投资项目统一代码，格式 YYYY-AAAAAA-II-TT-NNNNNN（年份-区划代码-行业-类型-流水号）"))


class PaperAgreementForm(FlaskForm):
    signed_on = DateField(_l("纸质协议签署日期"), validators=[DataRequired(_l("请填写纸质协议的签署日期"))])


class HandoverForm(FlaskForm):
    note = TextAreaField(_l("移交说明"), validators=[DataRequired(_l("请说明移交原因")), Length(max=2000)])


class AssignForm(FlaskForm):
    agent_id = SelectField(_l("代办员"), coerce=int, validators=[DataRequired(_l("请选择代办员"))])
    next = HiddenField()


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("撤回原因"), validators=[DataRequired(_l("请填写撤回原因")), Length(max=2000)])
    confirm = HiddenField()


class StatusFilter(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("状态"), validators=[Optional()])


class DecisionForm(FlaskForm):
    """End, suspend (a reason) or resubmit (what was rectified): the one text is required."""

    text = TextAreaField(_l("说明"), validators=[DataRequired(_l("请填写原因或整改说明")), Length(max=2000)])
