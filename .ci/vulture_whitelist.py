"""Names vulture (at 80 % confidence, `make lint`) would call unused, and why they are not.

Vulture cannot see calls made by frameworks: signal handlers receive (signum, frame) whether
they read them or not.
"""
signum  # signal handler signature (cli/sync.py)
frame  # signal handler signature (cli/sync.py)
file  # click.ClickException.show(file=None) signature (cli/schedules.py)
