from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget


class ActionForm(FlaskForm):
    """A one-button POST (CSRF only)."""


class AssignForm(FlaskForm):
    agent_id = SelectField(_l("代办员"), coerce=int, validators=[InputRequired()])


class LeaveForm(FlaskForm):
    on_leave = HiddenField(validators=[DataRequired()])  # "1" or "0"


class ReassignForm(FlaskForm):
    """Bulk hand-over of an agent's open projects as it goes on leave."""
    target = SelectField(_l("移交给"), validators=[InputRequired()])  # an agent id, or "suggested"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SkillsForm(FlaskForm):
    skills = MultiCheckboxField(_l("擅长的项目类型（不选：不限）"), choices=[], validate_choice=True)


class ItemForm(FlaskForm):
    name = StringField(_l("事项名称"), validators=[DataRequired(), Length(max=200)])
    statutory_days = IntegerField(_l("法定时限（工作日）"), validators=[InputRequired(), NumberRange(min=1, max=365)])
    promised_days = IntegerField(_l("承诺时限（工作日）"), validators=[InputRequired(), NumberRange(min=1, max=365)])
    immediate = BooleanField(_l("即办件"))
    deemed_consent_allowed = BooleanField(_l("允许超时默认同意"))
    stage_id = SelectField(_l("所属阶段"), coerce=int, validators=[Optional()])


class ProjectTypeForm(FlaskForm):
    name = StringField(_l("类型名称"), validators=[DataRequired(), Length(max=200)])
    target_days = IntegerField(_l("\u201c3550\u201d目标（工作日）"), validators=[InputRequired(), NumberRange(min=1, max=3650)])


class StageForm(FlaskForm):
    name = StringField(_l("阶段名称"), validators=[DataRequired(), Length(max=200)])
    item_codes = StringField(_l("事项编码（以 | 分隔）"), validators=[DataRequired(), Length(max=2000)])


class OverrideForm(FlaskForm):
    day = DateField(_l("日期"), validators=[InputRequired()])
    kind = SelectField(_l("设为"), choices=[SelectChoice("workday", _l("工作日（调休上班）")), SelectChoice("holiday", _l("休息日"))])
    note = StringField(_l("说明"), validators=[Optional(), Length(max=200)])


class RemoveOverrideForm(FlaskForm):
    day = DateField(validators=[InputRequired()])


class ImportForm(FlaskForm):
    year = IntegerField(_l("年份"), validators=[InputRequired(), NumberRange(min=2004, max=2100)])
    file = FileField(_l("官方放假安排 CSV（date,kind,name）"))
    text = TextAreaField(_l("或粘贴 CSV 内容"), validators=[Optional(), Length(max=100_000)])
    note = StringField(_l("说明（如国务院办公厅通知文号）"), validators=[Optional(), Length(max=200)])


class ResolveForm(FlaskForm):
    resolution = TextAreaField(_l("督办结果"), validators=[DataRequired(), Length(max=2000)])


class GenerateReportForm(FlaskForm):
    period = SelectField(_l("报表"), choices=[SelectChoice("daily", _l("日报（昨日）")),
                                              SelectChoice("weekly", _l("周报（上周）")),
                                              SelectChoice("monthly", _l("月报（上月）")),
                                              SelectChoice("quarterly", _l("季公示（上季度）"))])
