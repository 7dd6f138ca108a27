"""POST /api/v1/admin/sources/{name}/fetch: operator role, 202 + task id, the message in the
ingest queue with the source and dates."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.conftest import assert_problem, bearer, login
from tests.api.test_admin import ADMIN, broker_messages, operator


def test_fetch_is_queued_with_202_and_a_task_id(
    client: FlaskClient, accounts: dict[str, int], redis_url: str
) -> None:
    response = client.post(
        f"{ADMIN}/sources/mtgo/fetch",
        headers=operator(client),
        json={"since": "2026-11-20", "until": "2026-12-01"},
    )
    assert response.status_code == 202
    task = response.get_json()
    assert task["task"] == "sources.fetch" and task["state"] == "queued"
    assert response.headers["Location"] == f"{ADMIN}/tasks/{task['id']}"
    [message] = broker_messages(redis_url, "ingest")
    assert message["headers"]["task"] == "sources.fetch"
    assert message["headers"]["id"] == task["id"]
    args, kwargs, _ = message["body"]
    assert args == []
    assert kwargs == {
        "name": "mtgo",
        "trigger": "operator",
        "since": "2026-11-20",
        "until": "2026-12-01",
    }
    # No body at all: the nightly window.
    response = client.post(f"{ADMIN}/sources/gitcache/fetch", headers=operator(client))
    assert response.status_code == 202
    queued = [m["body"][1] for m in broker_messages(redis_url, "ingest")]
    assert {"name": "gitcache", "trigger": "operator"} in queued and len(queued) == 2
    # An operator re-fetches old quarantined events after a parser fix.
    response = client.post(
        f"{ADMIN}/sources/mtgo/fetch", headers=operator(client), json={"refetch": "quarantined"}
    )
    assert response.status_code == 202
    queued = [m["body"][1] for m in broker_messages(redis_url, "ingest")]
    assert {"name": "mtgo", "trigger": "operator", "refetch": "quarantined"} in queued


def test_fetch_needs_an_operator_and_a_known_source(
    client: FlaskClient, accounts: dict[str, int], redis_url: str
) -> None:
    assert_problem(client.post(f"{ADMIN}/sources/mtgo/fetch"), 401)
    reader = bearer(login(client, "reader")["access_token"])
    assert_problem(client.post(f"{ADMIN}/sources/mtgo/fetch", headers=reader), 403)
    unknown = client.post(f"{ADMIN}/sources/myspace/fetch", headers=operator(client))
    assert unknown.status_code in (400, 404)
    assert_problem(
        client.post(
            f"{ADMIN}/sources/mtgo/fetch", headers=operator(client), json={"since": "yesterday"}
        ),
        400,
    )
    backwards = client.post(
        f"{ADMIN}/sources/mtgo/fetch",
        headers=operator(client),
        json={"since": "2026-12-01", "until": "2026-11-01"},
    )
    assert_problem(backwards, 422)
    assert_problem(
        client.post(
            f"{ADMIN}/sources/mtgo/fetch", headers=operator(client), json={"refetch": "yes"}
        ),
        400,
    )
    assert broker_messages(redis_url, "ingest") == []
