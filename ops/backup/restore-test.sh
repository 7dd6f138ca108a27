#!/usr/bin/env bash
# Weekly restore test: restore the newest dump into a scratch database, then smoke-query it.
# Usage: ops/backup/restore-test.sh DUMP_FILE ADMIN_URL
#   ADMIN_URL: a libpq URL of the same server with the right to create databases.
# Prints the restore duration (seconds) for the backup_restore_seconds metric.
set -euo pipefail
dump=${1:?usage: restore-test.sh DUMP_FILE ADMIN_URL}
admin=${2:?usage: restore-test.sh DUMP_FILE ADMIN_URL}
scratch="manalytics_restore_test"
psql "$admin" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" \
    -c "CREATE DATABASE $scratch"
target=$(python3 -c 'import sys,urllib.parse as u;p=u.urlsplit(sys.argv[1]);print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$admin" "$scratch")
start=$(date +%s)
pg_restore --exit-on-error --no-owner --dbname "$target" "$dump"
seconds=$(( $(date +%s) - start ))
# Smoke queries: core tables answer, the migration head matches the repository's.
psql "$target" -v ON_ERROR_STOP=1 -Atc "SELECT 'tournaments', count(*) FROM tournaments" \
    -c "SELECT 'decks', count(*) FROM decks" \
    -c "SELECT 'schema_head', max(version) FROM schema_migrations"
repo_head=$(ls "$(dirname "$0")/../../sql/migrations" | grep -c '\.up\.sql$')
db_head=$(psql "$target" -Atc "SELECT max(version) FROM schema_migrations")
[ "$repo_head" = "$db_head" ] || { echo "schema head $db_head != repository head $repo_head" >&2; exit 1; }
echo "backup_restore_seconds=$seconds"
psql "$admin" -qc "DROP DATABASE $scratch WITH (FORCE)"
