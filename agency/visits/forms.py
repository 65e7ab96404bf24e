"""The visit form of the project page (R18)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length

REASON_MAX = 1000  # agency.visits.api.VisitInput


class VisitForm(FlaskForm):
    on = DateField(_l("到厅日期"), validators=[DataRequired(_l("请填写到厅日期"))])
    reason = TextAreaField(_l("到厅原因"), validators=[DataRequired(_l("请填写企业到厅办事的原因")),
                                                   Length(max=REASON_MAX)])
