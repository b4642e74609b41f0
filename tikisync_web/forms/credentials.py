"""Forms of the credentials page; the rules live in credentials.py and credential_methods.py,
which say what is wrong."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import Length

from ..credential_methods import GENERATIONS, METHODS
from .common import options_of


class CredentialForm(FlaskForm):
    identifier = StringField("Name", validators=[Length(max=50)],
                             description="How the CLI and the clone wizard refer to it.")
    url = StringField("Master URL", validators=[Length(max=1000)], description=(
        "The Tiki root, e.g. https://tiki.example.org/tiki. It applies to this scheme, host "
        "and port, and to paths under this one (/tiki covers /tiki/x, not /tiki-other)."))
    method = SelectField("Method", choices=options_of(METHODS.items()), default="basic")
    username = StringField("User name", validators=[Length(max=200)],
                           description="For HTTP Basic and session login.")
    secret = PasswordField("Password or token", validators=[Length(max=4000)], description=(
        "The password (basic, session), the API token (bearer) or the whole Authorization "
        "value (header). Stored encrypted and never shown again."))
    login_url = StringField("Login page", validators=[Length(max=1000)], description=(
        "Session login only; default: the master URL + /tiki-login.php."))
    allow_http = BooleanField("Allow plain http (the secret is readable on the network)")
    generation = SelectField("Protocol", choices=options_of(GENERATIONS.items()),
                             default="auto")

    def values(self):
        return {name: getattr(self, name).data for name in (
            "identifier", "url", "method", "username", "secret", "login_url", "allow_http",
            "generation")}

    def fill_from(self, cred):
        for name in ("identifier", "url", "method", "username", "login_url", "allow_http",
                     "generation"):
            getattr(self, name).data = getattr(cred, name)

    def attach(self, errors):
        """Show the service's errors next to their widgets."""
        for name, text in errors.items():
            widget = getattr(self, name, None)
            message = text[:1].upper() + text[1:] + "."
            if widget is None:
                self.form_errors.append(message)
            else:
                widget.errors = list(widget.errors or []) + [message]


class OriginForm(FlaskForm):
    origin = StringField("Remote site", validators=[Length(max=300)],
                         description="scheme://host[:port], e.g. https://tiki.example.org")
