"""Clone, reload, status, push, resolve and the job worker."""
import signal
import threading

import click
from flask import current_app

from .. import jobs
from . import tikisync


@tikisync.command("worker")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks for work.")
@click.option("--name", default=None, help="Worker name shown on its jobs (default host:pid).")
@click.option("--exit-when-idle", is_flag=True, help="Stop when no job is queued (for cron).")
@click.option("--max-jobs", type=int, default=None, help="Stop after this many jobs.")
def worker(poll, name, exit_when_idle, max_jobs):
    """Run queued jobs (TIKISYNC_JOB_RUNNER=worker) until stopped with Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def finish(signum, frame):
        click.echo("stopping after the current job…", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    ran = jobs.work(worker=name, poll=poll, exit_when_idle=exit_when_idle, stop=stop,
                    context=jobs.context_from(current_app.config), max_jobs=max_jobs)
    click.echo(f"worker stopped after {ran} job(s)", err=True)
