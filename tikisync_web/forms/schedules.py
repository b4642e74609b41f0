"""The schedule form of a cloned tracker's sync tab."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional, ValidationError

from .. import durations


def duration(form, field):
    try:
        field.parsed = durations.parse(field.data)
    except durations.DurationError as exc:
        raise ValidationError(str(exc)[:1].upper() + str(exc)[1:] + ".") from None


class ScheduleForm(FlaskForm):
    reload_every = StringField(
        "Reload from the master every", validators=[Optional(), Length(max=20), duration],
        description="Like 15m, 2h or 1h30m (at least 1m). Empty: no scheduled reload.")
    check_every = StringField(
        "Check the master for changes every", validators=[Optional(), Length(max=20), duration],
        description="A lighter look than a reload: only what changed is read.")
    auto_push = BooleanField(
        "Push safe changes automatically after each run",
        description="Items added here and edits without conflict. Conflicts, and items deleted "
                    "on the master, always wait for a person.")
    webhook_url = StringField(
        "Webhook for this tracker's notices", validators=[Optional(), Length(max=1000)],
        description="Optional. Empty: the site's default webhook, if any. It must be on an "
                    "allowed remote site (Credentials).")

    @classmethod
    def of(cls, row):
        """The form filled from a schedule (or empty)."""
        form = cls(formdata=None)
        if row is not None:
            form.reload_every.data = durations.short(row.reload_every)
            form.check_every.data = durations.short(row.check_every)
            form.auto_push.data = row.auto_push == "safe"
            form.webhook_url.data = row.webhook_url
        return form

    def seconds(self, field):
        return getattr(field, "parsed", None) if (field.data or "").strip() else None
