#!/bin/sh
# Installs the Debian tools the ops tests run when they are missing (CI and `make test`):
#   promtool (prometheus), amtool (prometheus-alertmanager), nginx, wrk, pg_dump; and
#   checkov from PyPI in a virtualenv of its own.
# Needs root and apt-get; without them it says what is missing and the tests that need a
# missing tool skip with that reason.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)

# checkov (PyPI) in its own virtualenv: its ~100 pinned dependencies would fight the
# project's. Used by tests/ops/test_k8s_checkov.py (skipped when absent).
checkov_venv=${CHECKOV_VENV:-$root/.venv/tools/checkov}
if [ ! -x "$checkov_venv/bin/checkov" ]; then
    echo "installing checkov into $checkov_venv"
    python3 -m venv "$checkov_venv" && "$checkov_venv/bin/pip" install --quiet "checkov>=3.2,<4" \
        || echo "note: checkov not installed (its test skips)" >&2
fi

missing=""
need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing="$missing $2"; }
need promtool prometheus
need amtool prometheus-alertmanager
need nginx nginx
need wrk wrk
need pg_dump postgresql-client

[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing:$missing"
    apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
else
    echo "note: missing Debian packages:$missing (not root: the tests needing them skip)" >&2
fi
