"""Forms of the clone wizard and of adopting new remote fields; the rules live in
sync/clone.py and credentials.py."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from .common import options_of


class SourceForm(FlaskForm):
    """Step 1, sent with GET (it changes nothing): the master's URL, typed or taken from a
    stored credential."""

    class Meta:
        csrf = False

    url = StringField("Master URL", validators=[Length(max=1000)], description=(
        "The Tiki root, the folder of tiki-index.php, e.g. https://tiki.example.org/tiki."))
    credential = SelectField("Or the URL of a stored credential", choices=[],
                             validate_choice=False, description=(
                                 "Used when the URL above is empty. Whatever the URL, the "
                                 "credential whose URL covers it is the one sent."))

    def fill_credentials(self, credentials):
        self.credential.choices = options_of(
            [("", "—")] + [(c.identifier, f"{c.identifier} · {c.url}") for c in credentials])
        return self


class CreateForm(FlaskForm):
    """Step 4: create what the preview showed (CSRF-protected)."""

    url = HiddenField()
    tracker = HiddenField()
    anonymous = HiddenField()
    digest = HiddenField()
    again = HiddenField()  # the id of the clone of this tracker the preview showed, if any


class AdoptForm(FlaskForm):
    """New remote fields to add to a clone."""

    perm = SelectMultipleField("Fields to add", choices=[], validate_choice=False,
                               widget=ListWidget(prefix_label=False),
                               option_widget=CheckboxInput())

    def fill_added(self, added):
        self.perm.choices = options_of(
            (a["perm"], f"{a['name']} ({a['perm']}, type {a['type']})") for a in added)
        return self
