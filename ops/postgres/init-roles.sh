#!/bin/sh
# First start of the compose "postgres" service (/docker-entrypoint-initdb.d): the three
# login roles of Manalytics, none of them a superuser (pipelines/storage/roles.py says what
# each may do; `manalytics db grant`, run by the migrate job, grants it table by table).
#
#   manalytics_owner   owns the database and every object; the migrate job logs in as it
#   manalytics_api     the API: reads, writes only accounts and operator task requests
#   manalytics_worker  ingestion, classification, refresh (member of the owner role: before
#                      PostgreSQL 17 refreshing a materialized view needs ownership)
#
# Passwords come from the environment (.env, never committed).
set -eu
: "${OWNER_DB_PASSWORD:?}" "${API_DB_PASSWORD:?}" "${WORKER_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_pw="$OWNER_DB_PASSWORD" -v api_pw="$API_DB_PASSWORD" \
  -v worker_pw="$WORKER_DB_PASSWORD" <<'SQL'
CREATE ROLE manalytics_owner LOGIN PASSWORD :'owner_pw';
CREATE ROLE manalytics_api LOGIN PASSWORD :'api_pw';
CREATE ROLE manalytics_worker LOGIN PASSWORD :'worker_pw';
GRANT manalytics_owner TO manalytics_worker;
CREATE DATABASE manalytics OWNER manalytics_owner;
REVOKE ALL ON DATABASE manalytics FROM PUBLIC;
GRANT CONNECT ON DATABASE manalytics TO manalytics_api, manalytics_worker;
\connect manalytics
ALTER SCHEMA public OWNER TO manalytics_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
