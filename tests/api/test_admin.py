"""Operator routes (tasks land in the broker, status combines the row and Celery's result)
and admin routes (users, API keys)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import psycopg
import redis
from flask import Flask
from flask.testing import FlaskClient

from api.resources import resources
from pipelines.runs import store
from tests.api.conftest import FIXTURE_CACHE, PASSWORD, AppFactory, assert_problem, bearer, login

ADMIN = "/api/v1/admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def broker_messages(redis_url: str, queue: str) -> list[dict[str, Any]]:
    """Messages waiting in a Celery queue (kombu's Redis transport: one list per queue)."""
    raw = redis.Redis.from_url(redis_url).lrange(queue, 0, -1)
    messages = []
    for item in raw:
        envelope = json.loads(item)
        body = json.loads(base64.b64decode(envelope["body"]))
        messages.append({"headers": envelope["headers"], "body": body})
    return messages


def operator(client: FlaskClient) -> dict[str, str]:
    return bearer(login(client, "oper")["access_token"])


def admin(client: FlaskClient) -> dict[str, str]:
    return bearer(login(client, "admin")["access_token"])


# --------------------------------------------------------------------------- operator tasks


def test_refresh_is_queued_by_name_with_202_and_a_status_url(
    client: FlaskClient, accounts: dict[str, int], redis_url: str, api_dsn: str
) -> None:
    response = client.post(f"{ADMIN}/refresh", headers=operator(client))
    assert response.status_code == 202
    assert response.headers["Cache-Control"] == "no-store"
    task = response.get_json()
    assert task["task"] == "refresh.meta_views" and task["state"] == "queued"
    assert task["request"] == "created" and task["kind"] == "refresh" and task["attempt"] == 0
    assert task["requested_by"] == f"oper (user {accounts['oper']})"
    assert response.headers["Location"] == f"{ADMIN}/tasks/{task['id']}"
    [message] = broker_messages(redis_url, "refresh")
    assert message["headers"]["task"] == "refresh.meta_views"
    assert message["headers"]["id"] == task["id"]
    with psycopg.connect(api_dsn) as conn:
        row = conn.execute(
            "SELECT task_name, enqueued_at IS NOT NULL FROM operator_tasks WHERE run_id = %s",
            (task["id"],),
        ).fetchone()
    assert row == ("refresh.meta_views", True)


def test_identical_requests_return_the_queued_run_never_a_second_one(
    app: Flask, accounts: dict[str, int], redis_url: str, api_dsn: str
) -> None:
    headers = operator(app.test_client())
    answers: list[dict[str, Any]] = []
    barrier = threading.Barrier(4)

    def ask() -> None:
        client = app.test_client()  # one client per thread: concurrent requests
        barrier.wait()
        response = client.post(f"{ADMIN}/refresh", headers=headers)
        assert response.status_code == 202
        answers.append(response.get_json())

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({a["id"] for a in answers}) == 1  # the same run for all four
    assert sorted(a["request"] for a in answers) == ["created", "queued", "queued", "queued"]
    assert len(broker_messages(redis_url, "refresh")) == 1  # one message, one run
    # While it runs, a request becomes its follow-up (run once after it), same id answered.
    run_id = answers[0]["id"]
    with psycopg.connect(api_dsn, autocommit=True) as worker:
        store.claim(worker, run_id, "refresh.meta_views", (), {}, worker="w")
        client = app.test_client()
        pending = [client.post(f"{ADMIN}/refresh", headers=headers).get_json() for _ in range(2)]
        assert {p["id"] for p in pending} == {run_id}
        assert [p["request"] for p in pending] == ["pending", "pending"]
        assert pending[-1]["pending_requests"] == 2
        _, follow = store.finish(worker, run_id, "succeeded")
    assert follow is not None and str(follow.follow_up_of) == run_id
    with psycopg.connect(api_dsn) as conn:
        requests = conn.execute("SELECT count(*) FROM operator_tasks").fetchone()
    assert requests == (6,)  # every request is kept, pointing at the run that served it


def test_reclassify_sends_format_and_requester(
    client: FlaskClient, accounts: dict[str, int], redis_url: str
) -> None:
    response = client.post(
        f"{ADMIN}/reclassify", headers=operator(client), json={"format": "Modern"}
    )
    assert response.status_code == 202
    [message] = broker_messages(redis_url, "classify")
    assert message["headers"]["task"] == "classify.reclassify_format"
    args, kwargs, _ = message["body"]
    assert args == [] and kwargs["format_name"] == "Modern"
    assert kwargs["requested_by"].startswith("oper ")
    dated = {"format": "Modern-20250101-20250630"}  # a dated folder of a known format
    response = client.post(f"{ADMIN}/reclassify", headers=operator(client), json=dated)
    assert response.status_code == 202
    unknown = client.post(f"{ADMIN}/reclassify", headers=operator(client), json={"format": "Nope"})
    body = assert_problem(unknown, 422)
    assert body["errors"] == [{"field": "format", "reason": "unknown format"}]
    assert_problem(client.post(f"{ADMIN}/reclassify", headers=operator(client), json={}), 400)


def test_ingest_root_must_be_inside_the_configured_folders(
    make_app: AppFactory, accounts: dict[str, int], redis_url: str
) -> None:
    client = make_app(settings={"cache_dir": FIXTURE_CACHE}).test_client()
    headers = operator(client)
    default = client.post(f"{ADMIN}/ingest", headers=headers)
    assert default.status_code == 202
    assert default.get_json()["arguments"]["kwargs"] == {"root": str(FIXTURE_CACHE)}
    sub = client.post(
        f"{ADMIN}/ingest",
        headers=headers,
        json={"root": str(FIXTURE_CACHE / "MTGO"), "since": "2025-03-01", "source": "MTGO"},
    )
    assert sub.status_code == 202
    kwargs = broker_messages(redis_url, "ingest")[0]["body"][1]  # LPUSH: newest first
    assert kwargs == {"root": str(FIXTURE_CACHE / "MTGO"), "since": "2025-03-01", "source": "MTGO"}
    for root in ("/etc", str(FIXTURE_CACHE / ".." / ".."), "relative/path"):
        escaped = client.post(f"{ADMIN}/ingest", headers=headers, json={"root": root})
        assert_problem(escaped, 422)
    bad_date = client.post(f"{ADMIN}/ingest", headers=headers, json={"since": "yesterday"})
    assert_problem(bad_date, 400)


def test_ingest_without_a_configured_folder_needs_a_root(
    make_app: AppFactory, accounts: dict[str, int], tmp_path: Path
) -> None:
    # No MANALYTICS_CACHE_DIR and no generated demo set under the var dir.
    client = make_app(settings={"var_dir": tmp_path}).test_client()
    body = assert_problem(client.post(f"{ADMIN}/ingest", headers=operator(client)), 422)
    assert body["errors"][0]["field"] == "root"


def test_task_status_is_the_run_record_the_workers_write(
    client: FlaskClient, accounts: dict[str, int], api_dsn: str
) -> None:
    headers = operator(client)
    task = client.post(f"{ADMIN}/refresh", headers=headers).get_json()
    url = f"{ADMIN}/tasks/{task['id']}"
    queued = client.get(url, headers=headers).get_json()
    assert queued["state"] == "queued" and queued["result"] is None
    with psycopg.connect(api_dsn, autocommit=True) as worker:  # what a worker does
        store.claim(worker, task["id"], "refresh.meta_views", (), {}, worker="w1@host")
        store.heartbeat(worker, task["id"], {"step": "views"})
        running = client.get(url, headers=headers).get_json()
        assert running["state"] == "running" and running["attempt"] == 1
        assert running["progress"] == {"step": "views"} and running["worker"] == "w1@host"
        store.finish(worker, task["id"], "succeeded", result={"generation": 2})
    done = client.get(url, headers=headers).get_json()
    assert done["state"] == "succeeded" and done["result"]["generation"] == 2
    assert done["finished_at"] is not None
    assert [e["event"] for e in done["history"]] == ["requested", "started", "succeeded"]
    failed = client.post(
        f"{ADMIN}/reclassify", headers=headers, json={"format": "Modern"}
    ).get_json()
    with psycopg.connect(api_dsn, autocommit=True) as worker:
        store.claim(worker, failed["id"], failed["task"], (), failed["arguments"]["kwargs"],
                    worker="w1")  # fmt: skip
        store.finish(worker, failed["id"], "failed", error="ClassificationError: boom")
    status = client.get(f"{ADMIN}/tasks/{failed['id']}", headers=headers).get_json()
    assert status["state"] == "failed" and status["error"] == "ClassificationError: boom"
    listing = client.get(f"{ADMIN}/tasks", headers=headers, query_string={"limit": 1}).get_json()
    assert listing["total"] == 2 and [t["id"] for t in listing["items"]] == [failed["id"]]
    assert_problem(client.get(f"{ADMIN}/tasks/{uuid.uuid4()}", headers=headers), 404)
    assert_problem(client.get(f"{ADMIN}/tasks/not-a-uuid", headers=headers), 404)


def test_broker_down_records_the_request_and_answers_503(
    app: Flask, client: FlaskClient, accounts: dict[str, int], api_dsn: str
) -> None:
    headers = operator(client)
    resources(app).tasks.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    response = client.post(f"{ADMIN}/refresh", headers=headers)
    assert_problem(response, 503, "queue_unavailable")
    with psycopg.connect(api_dsn) as conn:
        row = conn.execute("SELECT id, enqueued_at, enqueue_error FROM operator_tasks").fetchone()
    assert row is not None and row[1] is None and "broker unavailable" in row[2]
    # The run stays queued (the reaper publishes it once the broker is back).
    status = client.get(f"{ADMIN}/tasks/{row[0]}", headers=headers).get_json()
    assert status["state"] == "queued" and status["enqueued_at"] is None
    assert "broker unavailable" in status["enqueue_error"]


# --------------------------------------------------------------------------- users


def test_user_management(client: FlaskClient, accounts: dict[str, int]) -> None:
    headers = admin(client)
    created = client.post(
        f"{ADMIN}/users",
        headers=headers,
        json={"username": "Eve", "password": PASSWORD, "roles": ["operator"]},
    )
    assert created.status_code == 201
    eve = created.get_json()
    assert eve["username"] == "eve" and eve["roles"] == ["operator"]
    assert "password_hash" not in eve and PASSWORD not in str(eve)
    login(client, "eve")
    duplicate = client.post(
        f"{ADMIN}/users", headers=headers, json={"username": "eve", "password": PASSWORD}
    )
    assert_problem(duplicate, 409)
    short = client.post(
        f"{ADMIN}/users", headers=headers, json={"username": "frank", "password": "password"}
    )
    assert_problem(short, 400, "invalid_body")  # the length is in the OpenAPI document
    weak = client.post(
        f"{ADMIN}/users",
        headers=headers,
        json={"username": "frank", "password": "passwordpassword"},
    )
    body = assert_problem(weak, 422, "weak_password")
    assert {e["field"] for e in body["errors"]} == {"password"} and len(body["errors"]) >= 2
    bad_role = client.post(
        f"{ADMIN}/users",
        headers=headers,
        json={"username": "gina", "password": PASSWORD, "roles": ["root"]},
    )
    assert_problem(bad_role, 400)
    bad_name = client.post(
        f"{ADMIN}/users", headers=headers, json={"username": "x", "password": PASSWORD}
    )
    assert_problem(bad_name, 400)  # the pattern is in the OpenAPI document
    listing = client.get(f"{ADMIN}/users", headers=headers, query_string={"limit": 2}).get_json()
    assert listing["total"] == 4 and len(listing["items"]) == 2
    assert [u["id"] for u in listing["items"]] == sorted(u["id"] for u in listing["items"])
    patched = client.patch(
        f"{ADMIN}/users/{eve['id']}", headers=headers, json={"roles": [], "disabled": True}
    )
    assert patched.status_code == 200
    assert patched.get_json()["roles"] == [] and patched.get_json()["disabled"] is True
    assert client.get(f"{ADMIN}/users/{eve['id']}", headers=headers).get_json()["disabled"]
    assert_problem(client.get(f"{ADMIN}/users/999999", headers=headers), 404)
    assert_problem(client.patch(f"{ADMIN}/users/999999", headers=headers, json={}), 404)


def test_admins_cannot_lock_themselves_out(client: FlaskClient, accounts: dict[str, int]) -> None:
    headers = admin(client)
    me = accounts["admin"]
    assert_problem(
        client.patch(f"{ADMIN}/users/{me}", headers=headers, json={"disabled": True}), 409
    )
    assert_problem(
        client.patch(f"{ADMIN}/users/{me}", headers=headers, json={"roles": ["operator"]}), 409
    )
    changed = client.patch(
        f"{ADMIN}/users/{me}", headers=headers, json={"password": "Another-Good-Pass-42"}
    )
    assert changed.status_code == 200
    login(client, "admin", "Another-Good-Pass-42")
