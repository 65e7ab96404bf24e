from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from agency.people.passwords import MIN_LENGTH, password_problem

PASSWORD_PROBLEMS = {
    "short": _l("密码至少需要 %(n)s 个字符", n=MIN_LENGTH),
    "common": _l("这是最常见的密码之一，很容易被猜中，请换一个"),
}


def acceptable_password(form, field):
    """The password rule of agency.people.passwords, told in the page's language."""
    if problem := password_problem(field.data):
        raise ValidationError(str(PASSWORD_PROBLEMS[problem]))


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)])


class ActionForm(FlaskForm):
    """A one-button POST (CSRF only)."""


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[DataRequired(), Length(max=200), acceptable_password],
                             description=_l("至少 %(n)s 个字符，不能是常见密码", n=MIN_LENGTH))


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("再次输入新密码"),
                            validators=[DataRequired(), EqualTo("password", message=_l("两次输入的新密码不一致"))])
