"""Jobs: long work (clone, reload, push, check) as database rows with progress.

`runner` claims, runs and reports jobs (threads of the web process, the caller, or `tikisync
worker` processes); `handlers` are the jobs themselves, glue between the runner and sync/.
Importing this package registers the handlers.
"""
from . import handlers, scheduled  # noqa: F401  (register the job handlers)
from .runner import (
                     HANDLERS,
                     LIVE,
                     JobBusy,
                     JobFailed,
                     active_for,
                     claim,
                     claim_next,
                     configure,
                     context_from,
                     enqueue,
                     handler,
                     reap_stale,
                     run,
                     snapshot,
                     start,
                     wait_for_threads,
                     work,
                     worker_name,
)

__all__ = [
    "HANDLERS", "LIVE", "JobBusy", "JobFailed", "active_for", "claim", "claim_next",
    "configure", "context_from", "enqueue", "handler", "reap_stale", "run", "snapshot", "start",
    "wait_for_threads", "work", "worker_name",
]
