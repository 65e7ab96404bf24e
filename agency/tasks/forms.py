"""Forms of the liaison's task page (CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from agency.results.forms import KIND_LABELS
from agency.results.models import RESULT_KINDS
from agency.tasks.models import DECISIONS

# The words of agency.tasks.services.STATUS_NAMES / DECISION_NAMES, as literals the catalog extracts.
STATUS_LABELS = {"pending": _l("待受理"), "accepted": _l("已受理"), "supplement": _l("补正中"),
                 "answered": _l("已答复"), "deemed_consent": _l("默认同意"), "cancelled": _l("已取消")}
DECISION_LABELS = {"consent": _l("同意"), "consent_with_conditions": _l("附条件同意"), "refuse": _l("不予办理")}
REASON_LABELS = {"timeout": _l("超时默认"), "absence": _l("缺席默认")}


class SupplementForm(FlaskForm):
    materials = TextAreaField(_l("需补正的材料（每行一项）"), validators=[
        DataRequired(_l("请一次性列出全部需补正的材料")), Length(max=4000)],
        description=_l("一次性告知：请一次列出全部缺少的材料；再次要求补正将记黄牌。"))
    note = TextAreaField(_l("说明"), validators=[Length(max=2000)])

    def material_list(self) -> list[str]:
        return [line.strip() for line in (self.materials.data or "").splitlines() if line.strip()]


class AnswerForm(FlaskForm):
    decision = SelectField(_l("答复意见"), choices=[SelectChoice(d, DECISION_LABELS[d]) for d in DECISIONS],
                           validators=[DataRequired(_l("请选择答复意见"))])
    opinion = TextAreaField(_l("审查意见"), validators=[Length(max=4000)],
                            description=_l("附条件同意或不予办理时必须填写。"))
    # the result a consent issues (R16); optional: without them it is an approval issued today
    result_kind = SelectField(_l("结果类型"), validators=[Optional()], choices=[
        SelectChoice("", _l("批复（默认）")), *(SelectChoice(k, KIND_LABELS[k]) for k in RESULT_KINDS)])
    result_number = StringField(_l("文号"), validators=[Optional(), Length(max=100)])
    result_issued_on = DateField(_l("出具日期"), validators=[Optional()], description=_l("默认为答复当日。"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.decision.data != "consent" and not (self.opinion.data or "").strip():
            self.opinion.errors.append(_l("附条件同意或不予办理时必须填写审查意见"))
            return False
        if ok and self.decision.data == "refuse" and self.result() is not None:
            self.result_kind.errors.append(_l("不予办理不出具办理结果，请清空结果类型、文号和出具日期"))
            return False
        return ok

    def result(self) -> dict | None:
        """The result fields as agency.tasks.services.answer_task takes them; None when none is given."""
        given = {"kind": self.result_kind.data or None, "number": (self.result_number.data or "").strip(),
                 "issued_on": self.result_issued_on.data}
        return given if any(given.values()) else None


class ResultFileForm(FlaskForm):
    file = FileField(_l("电子证照（PDF）"), validators=[FileRequired(_l("请选择电子证照的 PDF 文件"))])
