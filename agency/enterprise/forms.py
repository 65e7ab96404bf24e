from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from agency.enterprise.schemas import RATING_COMMENT_MAX

LEVEL_MESSAGE = _l("请选择一至五级的评价。")  # radios in the page


class RatingForm(FlaskForm):
    level = IntegerField(_l("评价"), validators=[DataRequired(LEVEL_MESSAGE),
                                               NumberRange(min=1, max=5, message=LEVEL_MESSAGE)])
    comment = TextAreaField(_l("意见与建议"), validators=[
        Optional(), Length(max=RATING_COMMENT_MAX, message=_l("意见与建议过长：最多 %(max)d 个字。"))])
    department_code = HiddenField()


class UploadForm(FlaskForm):
    material = StringField(_l("材料名称"), validators=[DataRequired(), Length(max=200)])
    file = FileField(_l("文件"), validators=[FileRequired()],
                     description=_l("PDF、PNG、JPEG、DOCX 或 XLSX，不超过上传大小限制"))


class ReplyForm(FlaskForm):
    text = TextAreaField(_l("整改复函"), validators=[DataRequired(), Length(max=4000)])


class ComplaintForm(FlaskForm):
    project_id = SelectField(_l("项目"), coerce=int, validators=[DataRequired()])
    text = TextAreaField(_l("投诉内容"), validators=[DataRequired(), Length(max=4000)])


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("处理人"), coerce=int, validators=[DataRequired()])
    due_days = IntegerField(_l("答复时限（工作日）"), default=5, validators=[Optional(), NumberRange(min=1, max=60)])


class AnswerForm(FlaskForm):
    text = TextAreaField(_l("答复"), validators=[DataRequired(), Length(max=4000)])
