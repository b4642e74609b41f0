"""The notices of unattended runs, as words: one per event, never one per item.

Events: `conflicts` (new conflicts wait for a person), `push_failed` (items the automatic push
could not send), `failed` (a run failed; sent for the first failure of a streak, the retries
are announced in it), `paused` (the schedule paused itself).
"""
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .. import durations


@dataclass
class Notice:
    event: str
    tracker_id: int
    tracker_name: str
    source: str
    subject: str
    text: str
    link: str
    counts: dict = field(default_factory=dict)
    at: int = 0

    def as_json(self):
        """The webhook's body."""
        return {"event": self.event,
                "tracker": {"id": self.tracker_id, "name": self.tracker_name,
                            "source": self.source},
                "counts": self.counts, "subject": self.subject, "message": self.text,
                "link": self.link, "at": _iso(self.at)}


def _iso(stamp):
    return datetime.fromtimestamp(int(stamp), tz=UTC).isoformat() if stamp else None


def _clock(stamp):
    return datetime.fromtimestamp(int(stamp), tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def sync_link(tracker_id, context):
    """The absolute URL of the tracker's sync tab (TIKISYNC_PUBLIC_URL, or the address the
    web process was first reached at); "" when none is known."""
    template = (context or {}).get("TIKISYNC_SYNC_LINK") or ""
    return template.replace("{id}", str(tracker_id)) if template else ""


def _notice(event, tracker, subject, lines, counts, at, context):
    link = sync_link(tracker.id, context)
    where = (f"Synchronization tab: {link}" if link else
             f"See the synchronization tab of tracker {tracker.id}.")
    text = "\n\n".join([*lines, where]) + "\n"
    source = f"{tracker.source_url} (tracker {tracker.remote_tracker_id})"
    # One line whatever the tracker's name holds (a name comes from the master).
    subject = " ".join(f"[tikisync] {tracker.name}: {subject}".split())
    return Notice(event=event, tracker_id=tracker.id, tracker_name=tracker.name, source=source,
                  subject=subject, text=text, link=link,
                  counts=counts, at=at)


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def run_summary(result):
    """One line of what a run did: "3 items read, 1 added, …; 2 pushed"."""
    counts = result.get("counts") or {}
    if result.get("kind") == "reload":
        parts = [f"{counts.get('fetched', 0)} items read", f"{counts.get('added', 0)} added",
                 f"{counts.get('updated', 0)} updated", f"{counts.get('deleted', 0)} deleted"]
    else:
        parts = [f"{counts.get('checked', 0)} items checked",
                 f"{counts.get('changed_on_master', 0)} changed on the master"]
    pushed = result.get("push")
    if pushed is not None:
        parts.append(f"{len(pushed['pushed'])} pushed")
        if pushed["failed"]:
            parts.append(f"{len(pushed['failed'])} not pushed")
    conflicts = result.get("conflicts")
    if conflicts:
        parts.append(f"{_plural(len(conflicts), 'conflict')} waiting for a person")
    return ", ".join(parts)


def conflicts(tracker, kind, new_ids, all_ids, result, at, context):
    count = len(new_ids)
    subject = f"{_plural(count, 'new conflict')} {'waits' if count == 1 else 'wait'} for a person"
    lines = [f"The scheduled {kind} of “{tracker.name}” (tracker {tracker.id}) found "
             f"{_plural(count, 'new conflict')} ({len(all_ids)} in all): fields changed both "
             "here and on the master since they last agreed. The schedule never pushes a "
             "conflict; a person chooses which value to keep.",
             f"Items: {', '.join(f'#{i}' for i in new_ids[:20])}"
             f"{' …' if count > 20 else ''}",
             f"This run: {run_summary(result)}."]
    counts = {"new_conflicts": count, "conflicts": len(all_ids), **_push_counts(result)}
    return _notice("conflicts", tracker, subject, lines, counts, at, context)


def push_failed(tracker, kind, failed, result, at, context):
    count = len(failed)
    subject = f"{_plural(count, 'item')} could not be pushed"
    lines = [f"The automatic push after the scheduled {kind} of “{tracker.name}” (tracker "
             f"{tracker.id}) could not send {_plural(count, 'item')}; they stay here, "
             "unchanged, and are tried again at the next run."]
    lines += [f"#{row['id']}: {row['error']}" for row in failed[:20]]
    lines.append(f"This run: {run_summary(result)}.")
    counts = {"failed_items": count, **_push_counts(result)}
    return _notice("push_failed", tracker, subject, lines, counts, at, context)


def _push_counts(result):
    pushed = result.get("push")
    if pushed is None:
        return {}
    return {"pushed": len(pushed["pushed"]), "not_pushed": len(pushed["failed"])}


def failed(tracker, kind, error, retry_at, failures, pause_after, at, context):
    subject = f"the scheduled {kind} failed"
    left = pause_after - failures
    lines = [f"The scheduled {kind} of “{tracker.name}” (tracker {tracker.id}) failed: "
             f"{error}",
             f"It is tried again at {_clock(retry_at)}, then with longer waits while it keeps "
             f"failing; after {_plural(left, 'more failed run')} the schedule pauses itself "
             "and you hear once more. Nothing else is sent for these retries."]
    counts = {"failures": failures, "retry_in": max(0, retry_at - at)}
    return _notice("failed", tracker, subject, lines, counts, at, context)


def paused(tracker, kind, error, failures, every, at, context):
    subject = f"schedule paused after {_plural(failures, 'failed run')}"
    lines = [f"The schedule of “{tracker.name}” (tracker {tracker.id}) paused itself: "
             f"{_plural(failures, 'run')} in a row failed. The last one, a {kind}, said: "
             f"{error}",
             "Nothing runs until someone resumes it: the Resume button on the "
             f"synchronization tab, or `tikisync schedule resume {tracker.id}`."
             + (f" It then runs at once, and every {durations.words(every)} after that."
                if every else "")]
    counts = {"failures": failures}
    return _notice("paused", tracker, subject, lines, counts, at, context)
