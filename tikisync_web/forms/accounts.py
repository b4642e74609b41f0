"""Forms of signing in and of the admin pages: users, API tokens, site settings."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..accounts import EMAIL
from ..models import ROLES
from .common import options_of


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired()])


EMAIL_HELP = "Admins get the schedules' notices here (new conflicts, failures, pauses)."


def _email():
    return StringField("Email", validators=[Optional(), Length(max=254), Regexp(
        f"^{EMAIL.pattern}$", message="This is not an email address (name@example.org).")],
        description=EMAIL_HELP)


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=100),
                                                   Regexp(r"^\S+$", message="No spaces.")])
    role = SelectField("Role", choices=options_of((r, r) for r in ROLES))
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8)])
    email = _email()


class UserEditForm(FlaskForm):
    role = SelectField("Role", choices=options_of((r, r) for r in ROLES))
    active = BooleanField("Active")
    email = _email()
    password = PasswordField("New password", validators=[Optional(), Length(min=8)],
                             description="Leave empty to keep the current password.")


class TokenForm(FlaskForm):
    username = SelectField("User", choices=[])
    label = StringField("Label", validators=[Optional(), Length(max=100)])


class SettingsForm(FlaskForm):
    remote_sync = BooleanField("Synchronize remote trackers")
