"""What every form module uses: select options in this WTForms' shape, and the confirmation
form of destructive actions."""
from flask_wtf import FlaskForm

try:  # WTForms 3.3 deprecates (value, label) tuples, and 3.4 drops them
    from wtforms import SelectChoice
except ImportError:  # WTForms 3.2
    SelectChoice = None


def options_of(pairs):
    """Select options from (value, label) pairs, in the form this WTForms wants."""
    if SelectChoice is None:
        return [(value, label) for value, label in pairs]
    return [SelectChoice(value, label) for value, label in pairs]


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the confirmation step of destructive actions."""
