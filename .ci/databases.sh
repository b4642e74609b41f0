#!/bin/sh
# Make sure PostgreSQL and MariaDB answer on loopback (the python-svc machine has both).
# Installs them from Debian when missing; starts them when down. Skippable for local runs.
set -u
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -z "${TIKISYNC_SKIP_POSTGRESQL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    command -v pg_ctlcluster >/dev/null 2>&1 || as_root apt-get install -y -qq postgresql >/dev/null
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -n 1)" main start || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
if [ -z "${TIKISYNC_SKIP_MARIADB:-}" ]; then
  if ! mariadb-admin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
    command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || as_root apt-get install -y -qq mariadb-server >/dev/null
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in 1 2 3 4 5 6 7 8 9 10; do mariadb-admin -h 127.0.0.1 -uroot ping >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
exit 0
