"""Forms of the results panel of the project page: delivery choice and shipments (CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from agency.results.models import DEEMED_NOTICE

KIND_LABELS = {"licence": _l("证照"), "approval": _l("批复"), "filing": _l("备案"), "opinion": _l("意见"),
               DEEMED_NOTICE: _l("默认同意告知书")}
METHOD_LABELS = {"download": _l("电子送达（网上下载）"), "post": _l("快递送达"), "pickup": _l("窗口领取")}
ADDRESS_MAX = 500  # agency.results.schemas.DeliveryInput
WAYBILL_MAX = 60  # agency.results.schemas.ShipmentInput


class DeliveryForm(FlaskForm):
    method = RadioField(_l("送达方式"), choices=[SelectChoice(k, v) for k, v in METHOD_LABELS.items()],
                        validators=[DataRequired(_l("请选择送达方式"))])
    address = TextAreaField(_l("邮寄地址"), validators=[Length(max=ADDRESS_MAX)],
                            description=_l("选择快递送达时必填：收件人、电话和详细地址。"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.method.data == "post" and not (self.address.data or "").strip():
            self.address.errors.append(_l("快递送达须填写邮寄地址"))
            return False
        return ok


class ShipmentForm(FlaskForm):
    task_ids = SelectMultipleField(_l("寄出的办理结果"), coerce=int, widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput(),
                                   validators=[DataRequired(_l("请至少选择一项已可送达的办理结果"))])
    waybill = StringField(_l("运单号"), validators=[DataRequired(_l("请填写运单号")), Length(max=WAYBILL_MAX)])
