"""Clone, reload, status, push, resolve and the job worker."""
