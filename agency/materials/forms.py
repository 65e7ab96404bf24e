"""Forms of the checklist page: file one material, pre-review what was filed (CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import FieldList, Form, FormField, HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

REASON_MAX = 2000  # agency.materials.schemas.Decision.reason


class FileForm(FlaskForm):
    name = HiddenField(validators=[DataRequired(), Length(max=200)])
    file = FileField(_l("文件"), validators=[FileRequired(_l("请选择要上传的文件"))])


class DecisionForm(Form):
    """One filed material: accept, return (with its reason), or leave it for later (no choice)."""

    name = HiddenField()
    decision = RadioField(_l("预审"), choices=[SelectChoice("accept", _l("通过")), SelectChoice("return", _l("退回"))],
                          validators=[Optional()])
    reason = TextAreaField(_l("退回原因"), validators=[Length(max=REASON_MAX)])


class PrereviewForm(FlaskForm):
    decisions = FieldList(FormField(DecisionForm), max_entries=200)

    def chosen(self) -> list[dict]:
        """The decisions made, as agency.materials.services.prereview takes them."""
        return [{"name": d.form.name.data, "accepted": d.form.decision.data == "accept",
                 "reason": (d.form.reason.data or "").strip()}
                for d in self.decisions if d.form.decision.data in ("accept", "return")]

    def returns_without_reason(self) -> bool:
        """Mark each return that lacks its reason; True when there is one."""
        missing = False
        for d in self.decisions:
            if d.form.decision.data == "return" and not (d.form.reason.data or "").strip():
                d.form.reason.errors = [*d.form.reason.errors, _l("退回须写明原因，企业将据此一次性补正")]
                missing = True
        return missing
