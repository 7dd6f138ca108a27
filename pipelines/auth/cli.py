"""``manalytics users …``: accounts of the read API from the command line.

    manalytics users create alice --role operator        # prompts for the password twice
    printf '%s\n' "$PASSWORD" | manalytics users create bot --role operator --password-stdin
    manalytics users set-role alice --role admin         # replaces the roles (none: no role)
    manalytics users create-api-key bot --name "nightly sync"   # prints the key once
    manalytics users list

Wire it with ``register(subparsers)`` from :func:`pipelines.cli.build_parser`. The database
is ``DATABASE_URL`` (else the embedded one), resolved when a command runs.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from pipelines.auth.passwords import check_password
from pipelines.auth.users import (
    ROLES,
    AuthError,
    InvalidInput,
    create_api_key,
    create_user,
    find_user,
    list_users,
    set_roles,
)
from pipelines.core import db


def _connect() -> Any:

    from pipelines.cli import database_url  # lazily: pipelines.cli imports this module

    return db.connect(database_url(), application_name="manalytics-users")


def _read_password(args: argparse.Namespace) -> str | None:
    """The new password from stdin (``--password-stdin``) or two prompts; None if unusable."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Again: ") != password:
            print("manalytics: the two passwords differ", file=sys.stderr)
            return None
    problems = check_password(password, args.username)
    if problems:
        print("manalytics: password refused: " + "; ".join(problems), file=sys.stderr)
        return None
    return password


def _fail(exc: Exception) -> int:
    if isinstance(exc, InvalidInput):
        message = f"{exc.field}: " + "; ".join(exc.problems)
    else:
        message = str(exc)
    print(f"manalytics: {message}", file=sys.stderr)
    return 1


def _create(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if password is None:
        return 2
    try:
        with _connect() as conn:
            user = create_user(conn, args.username, password, args.role or ())
    except (AuthError, ValueError) as exc:
        return _fail(exc)
    print(f"created user {user.username} (id {user.id}) roles: {', '.join(user.roles) or '-'}")
    return 0


def _publish(user_id: int) -> None:
    """Tell running APIs at once that an account changed (its old tokens stop working).

    Without a reachable Redis the APIs notice within ``STATE_TTL_SECONDS`` anyway (the
    database bumped the account's token version).
    """
    import redis

    from pipelines.auth.stamps import (
        STATE_TTL_SECONDS,
        StateCache,
        accounts_prefix,
        publish_from_database,
        redis_client,
    )
    from pipelines.core.settings_loader import get_settings

    settings = get_settings()
    if not settings.redis_url:
        return
    client = redis_client(settings)
    try:
        with _connect() as conn:
            publish_from_database(
                StateCache(lambda: client, accounts_prefix(settings)), conn, user_id
            )
    except redis.RedisError as exc:
        print(
            f"manalytics: warning: Redis unreachable ({exc}); running APIs refuse the old "
            f"tokens within {STATE_TTL_SECONDS} s",
            file=sys.stderr,
        )
    finally:
        client.close()


def _set_role(args: argparse.Namespace) -> int:
    try:
        with _connect() as conn:
            user = set_roles(conn, args.username, args.role or ())
    except (AuthError, ValueError) as exc:
        return _fail(exc)
    _publish(user.id)
    print(f"{user.username}: roles {', '.join(user.roles) or '-'}")
    return 0


def _create_api_key(args: argparse.Namespace) -> int:
    try:
        with _connect() as conn:
            user = find_user(conn, args.username)
            key, secret = create_api_key(conn, user.id, args.name)
    except (AuthError, ValueError) as exc:
        return _fail(exc)
    print(f"API key {key.prefix} ({key.name}) for {user.username}; store it now, it is not kept:")
    print(secret)
    return 0


def _list(args: argparse.Namespace) -> int:
    with _connect() as conn:
        users, total = list_users(conn, limit=1000, offset=0)
    for user in users:
        state = "disabled" if user.disabled else "active"
        print(f"{user.id:>5} {user.username:30s} {state:8s} {','.join(user.roles) or '-'}")
    print(f"{total} user(s)")
    return 0


def register(sub: Any) -> None:
    """Add ``users create|set-role|create-api-key|list`` to the ``manalytics`` parser."""
    users = sub.add_parser("users", help="accounts of the read API (operators, admins)")
    users_sub = users.add_subparsers(dest="users_command", required=True)

    create = users_sub.add_parser("create", help="create a user (asks for the password)")
    create.add_argument("username")
    create.add_argument(
        "--role", action="append", choices=ROLES, help="a role to grant (repeatable)"
    )
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(func=_create)

    set_role = users_sub.add_parser("set-role", help="replace a user's roles")
    set_role.add_argument("username")
    set_role.add_argument(
        "--role", action="append", choices=ROLES, help="a role to keep (repeatable; none = no role)"
    )
    set_role.set_defaults(func=_set_role)

    api_key = users_sub.add_parser(
        "create-api-key", help="create an API key for a user (printed once)"
    )
    api_key.add_argument("username")
    api_key.add_argument("--name", required=True, help="what the key is for")
    api_key.set_defaults(func=_create_api_key)

    listing = users_sub.add_parser("list", help="list users")
    listing.set_defaults(func=_list)


__all__ = ["register"]
