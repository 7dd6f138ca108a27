#!/bin/sh
# Entrypoint of the worker image.
#   worker [celery args...]  Celery worker on the ingest, classify and refresh queues (default)
#   beat [celery args...]    the ONE beat scheduler (run exactly one replica)
#   migrate                  apply pending migrations and exit
#   anything else            exec'd as given
set -eu

role="${1:-worker}"
[ "$#" -gt 0 ] && shift

case "$role" in
  worker)
    # Pool processes write their metrics here; the main process serves the sum on
    # WORKER_METRICS_PORT. Wiped at start: files of dead processes would count forever.
    export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus-worker}"
    rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    # docker stop / Kubernetes send SIGTERM: Celery's soft shutdown, then re-queue.
    export REMAP_SIGTERM="${REMAP_SIGTERM:-SIGQUIT}"
    # -n worker@%h: the image's HEALTHCHECK pings exactly this node name.
    exec celery -A workers.celery_app worker \
      --queues ingest,classify,refresh \
      --hostname "worker@%h" \
      --concurrency "${CELERY_CONCURRENCY:-2}" \
      --loglevel "${LOG_LEVEL:-INFO}" \
      "$@"
    ;;
  beat)
    # The schedule state file lives on the beat service's own volume (BEAT_SCHEDULE_FILENAME);
    # no pidfile: a stale one on the volume could match a live pid in a new container.
    exec celery -A workers.celery_app beat --loglevel "${LOG_LEVEL:-INFO}" "$@"
    ;;
  migrate)
    exec python -m pipelines.cli db upgrade "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
