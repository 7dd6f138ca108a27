"""Database roles: who may do what in PostgreSQL (issue 12).

Three roles, none a superuser:

* **owner** (e.g. ``manalytics_owner``) owns the schema and every object; the ``migrate`` job
  connects as it and runs the migrations, then :func:`grant` (``manalytics db grant``);
* **api** (``manalytics_api``) reads everything and writes only what the API writes: user
  accounts and API keys (logins record ``last_login_at``), and operator task requests. It
  cannot change tournaments, decks, labels or statistics — a compromised API process cannot
  rewrite the data it serves;
* **worker** (``manalytics_worker``) ingests, classifies and refreshes: it writes every table.
  Refreshing a materialized view and ``ANALYZE`` need ownership before PostgreSQL 17, so there
  the worker is a member of the owner role (created so by ``ops/postgres/init-roles.sh``); from
  17 on it gets the ``MAINTAIN`` privilege instead.

:func:`grant` is idempotent and also sets default privileges, so objects the owner creates in
later migrations get the same grants. Role *creation* (logins, passwords, memberships) is the
database administrator's job, done once by ``ops/postgres/init-roles.sh``.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

# Tables the API writes (everything else it only reads).
API_WRITES = ("users", "api_keys", "operator_tasks")


def grant(conn: psycopg.Connection[Any], *, api: str, worker: str) -> None:
    """Grant ``api`` and ``worker`` their privileges on the current database (as its owner)."""
    api_role, worker_role = sql.Identifier(api), sql.Identifier(worker)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}, {}").format(api_role, worker_role),
        # api: read everything, write the account and task tables only.
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(api_role),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(api_role),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}").format(
            api_role
        ),
        # worker: read and write every table and sequence, now and later.
        sql.SQL(
            "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO {}"
        ).format(worker_role),
        sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(
            worker_role
        ),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
            " GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO {}"
        ).format(worker_role),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
            " GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {}"
        ).format(worker_role),
    ]
    for table in API_WRITES:
        statements.append(
            sql.SQL("GRANT INSERT, UPDATE, DELETE ON {} TO {}").format(
                sql.Identifier(table), api_role
            )
        )
    version = conn.info.server_version
    if version >= 170000:
        statements.append(
            sql.SQL("GRANT MAINTAIN ON ALL TABLES IN SCHEMA public TO {}").format(worker_role)
        )
    for statement in statements:
        conn.execute(statement)


__all__ = ["API_WRITES", "grant"]
