#!/bin/sh
# Entrypoint of the API image.
#   api [gunicorn args...]  serve the API with gunicorn (default)
#   migrate                 apply pending migrations and exit (the compose "migrate" job)
#   manalytics ARGS...      the CLI (e.g. "manalytics backup create": the backup job)
#   anything else           exec'd as given (e.g. "sh" for debugging)
set -eu

role="${1:-api}"
[ "$#" -gt 0 ] && shift

case "$role" in
  api)
    # prometheus multiprocess mode: the directory must exist, be writable and hold no files
    # of dead pids from a previous run (they would be summed into the metrics).
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
      mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
      find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete
    fi
    exec gunicorn -c /app/ops/gunicorn.conf.py "$@" "api:create_app()"
    ;;
  migrate)
    if [ -n "${DB_GRANT_ROLES:-}" ]; then
      # As the owner role: migrate, then grant the api/worker roles their privileges.
      python -m pipelines.cli db upgrade "$@"
      exec python -m pipelines.cli db grant
    fi
    exec python -m pipelines.cli db upgrade "$@"
    ;;
  manalytics)
    exec python -m pipelines.cli "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
