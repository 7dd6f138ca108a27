#!/usr/bin/env bash
# Nightly backup: custom-format dump of the database plus cluster globals.
# Usage: ops/backup/backup.sh DEST_DIR   (DATABASE_URL must be set; pg_dump >= server version)
# Keep 7 daily and 4 weekly copies off-host (the copy is the operator's storage's job).
set -euo pipefail
dest=${1:?usage: backup.sh DEST_DIR}
: "${DATABASE_URL:?DATABASE_URL must point at the database to back up}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dest"
pg_dump --format=custom --compress=6 --no-owner --file "$dest/manalytics-$stamp.dump" "$DATABASE_URL"
# Roles and other cluster-wide objects are not in a per-database dump.
pg_dumpall --globals-only --dbname "$DATABASE_URL" > "$dest/globals-$stamp.sql" 2>/dev/null \
    || echo "note: globals not dumped (needs a superuser); roles must be recreated by hand"
# Retention: daily files older than 7 days go, except Sunday's (kept 4 weeks).
find "$dest" -name 'manalytics-*.dump' -mtime +7 ! -newermt "$(date -u -d '28 days ago' +%F)" -delete || true
find "$dest" -name 'manalytics-*.dump' -mtime +7 | while read -r f; do
    [ "$(date -u -r "$f" +%u)" = 7 ] || rm -f "$f"
done
echo "$dest/manalytics-$stamp.dump"
