"""The comment form of the task page (CSRF like every form)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from agency.comments.services import BODY_MAX


class CommentForm(FlaskForm):
    body = TextAreaField(_l("留言"), validators=[DataRequired(_l("请填写留言内容")), Length(max=BODY_MAX)],
                         description=_l("输入 @用户名 可提醒能看到此留言的人（代办员、本部门联络员、大厅主任；公开留言还可提醒企业）。"))
    visibility = RadioField(_l("可见范围"), default="internal", validators=[DataRequired(_l("请选择可见范围"))],
                            choices=[SelectChoice("internal", _l("仅内部可见（企业看不到）")),
                                     SelectChoice("public", _l("企业也可见"))])
    file = FileField(_l("附件（可选）"), description=_l("PDF、PNG、JPEG、DOCX 或 XLSX；内部留言的附件企业无法下载。"))

    @property
    def internal(self) -> bool:
        return self.visibility.data != "public"
