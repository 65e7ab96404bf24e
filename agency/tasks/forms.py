"""Forms of the liaison's task page (CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

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

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.decision.data != "consent" and not (self.opinion.data or "").strip():
            self.opinion.errors.append(_l("附条件同意或不予办理时必须填写审查意见"))
            return False
        return ok
