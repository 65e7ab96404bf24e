"""Forms of the meeting pages (CSRF on every one).  Attendance is one row per invited department and is
read from ``request.form`` by the view (names ``present-CODE``, ``decision-CODE``, ...)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

KIND_LABELS = {"pre_review": _l("联合预审"), "site_survey": _l("联合踏勘"), "joint_review": _l("联审会议")}
DECISION_LABELS = {"consent": _l("同意"), "consent_with_conditions": _l("附条件同意"), "objection": _l("反对"),
                   "supplement_needed": _l("需补正材料")}
# The words of agency.meetings.models.STATUS_NAMES / SOURCE_NAMES in the page's language.
STATUS_LABELS = {"scheduled": _l("已安排"), "held": _l("已召开"), "closed": _l("已闭会"), "cancelled": _l("已取消")}
SOURCE_LABELS = {"present": _l("到会表态"), "written": _l("书面意见"), "deemed": _l("缺席默认"), "none": _l("未形成意见")}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class ScheduleForm(FlaskForm):
    kind = SelectField(_l("会议类型"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()], validators=[DataRequired()])
    starts_at = DateTimeLocalField(_l("开始时间"), format=DATETIME_FORMAT,
                                   validators=[DataRequired(_l("请填写会议时间"))])
    place = StringField(_l("地点"), validators=[DataRequired(_l("请填写会议地点")), Length(max=200)])
    departments = SelectMultipleField(_l("邀请部门"), widget=ListWidget(prefix_label=False),
                                      option_widget=CheckboxInput(), validate_choice=False,
                                      description=_l("默认勾选在本项目有未办结办件的部门"))


class RescheduleForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("新的开始时间"), format=DATETIME_FORMAT,
                                   validators=[DataRequired(_l("请填写会议时间"))])
    place = StringField(_l("地点"), validators=[Optional(), Length(max=200)])


class CancelForm(FlaskForm):
    reason = StringField(_l("取消原因"), validators=[DataRequired(_l("请填写取消原因")), Length(max=2000)])


class CloseForm(FlaskForm):
    conclusion = TextAreaField(_l("会议结论"), validators=[DataRequired(_l("请填写会议结论")), Length(max=4000)])


class ConfirmForm(FlaskForm):
    representative = StringField(_l("出席代表"), validators=[DataRequired(_l("请填写出席代表姓名")), Length(max=100)])


class OpinionForm(FlaskForm):
    decision = SelectField(_l("书面意见"), choices=[SelectChoice(k, v) for k, v in DECISION_LABELS.items()], validators=[DataRequired()])
    opinion = TextAreaField(_l("意见说明"), validators=[Optional(), Length(max=4000)],
                            description=_l("附条件同意请写明条件；反对请写明理由；需补正请逐项列明材料（用；分隔）"))
