"""One problem+json shape for every error status, with the request id; never a stack trace,
never HTML."""

from __future__ import annotations

import socket

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import PASSWORD, AppFactory, assert_problem, bearer, login


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_400_lists_fields_and_reasons(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/decks?limit=5000&tournament=x"), 400)
    assert body["code"] == "invalid_parameter"
    assert {(e["field"], e["reason"]) for e in body["errors"]} == {
        ("limit", "must be <= 1000"),
        ("tournament", "must be an integer"),
    }


def test_401_403_404(client: FlaskClient, accounts: dict[str, int]) -> None:
    body = assert_problem(client.get("/api/v1/admin/tasks"), 401, "invalid_token")
    assert client.get("/api/v1/admin/tasks").headers["WWW-Authenticate"].startswith("Bearer")
    assert "authentication required" in body["detail"]
    reader = bearer(login(client, "reader")["access_token"])
    assert_problem(client.get("/api/v1/admin/tasks", headers=reader), 403, "forbidden")
    assert_problem(client.get("/api/v1/no/such/route"), 404, "not_found")
    assert_problem(client.get("/api/v1/decks/0"), 404)  # outside the id range


def test_405_says_what_is_allowed(client: FlaskClient) -> None:
    response = client.delete("/api/v1/formats")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    assert_problem(client.get("/api/v1/auth/token"), 405)


def test_409_and_422(client: FlaskClient, accounts: dict[str, int]) -> None:
    admin = bearer(login(client, "admin")["access_token"])
    taken = client.post(
        "/api/v1/admin/users", headers=admin, json={"username": "reader", "password": PASSWORD}
    )
    assert_problem(taken, 409, "conflict")
    weak = client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"username": "zed", "password": "lowercase-only-words"},
    )
    body = assert_problem(weak, 422)
    assert all(e["field"] == "password" and e["reason"] for e in body["errors"])


def test_413_for_oversized_bodies(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/token", data=b"x" * (65 * 1024))
    assert_problem(response, 413)


def test_500_is_a_problem_without_details(make_app: AppFactory) -> None:
    app = make_app()

    def broken() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/api/v1/broken", "broken", broken)
    response = app.test_client().get("/api/v1/broken")
    body = assert_problem(response, 500, "internal_error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "request id" in body["detail"]


def test_503_when_the_database_is_down(make_app: AppFactory) -> None:
    dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    client = make_app(settings={"database_url": dsn, "db_pool_timeout": 0.5}).test_client()
    response = client.get("/api/v1/formats/Modern/meta")
    body = assert_problem(response, 503, "dependency_unavailable")
    assert "127.0.0.1" not in response.get_data(as_text=True) and body["detail"]
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.get_json()["status"] == "unavailable"
    assert client.get("/metrics").status_code == 200  # a scrape never fails


@pytest.mark.parametrize(
    ("request_id", "echoed"),
    [("abc-123_x.y:z", True), ("has space", False), ("x" * 200, False), ("", False)],
)
def test_request_id_is_accepted_or_generated(
    client: FlaskClient, request_id: str, echoed: bool
) -> None:
    response = client.get("/api/v1/formats/Nope/meta", headers={"X-Request-ID": request_id})
    body = assert_problem(response, 404)
    if echoed:
        assert response.headers["X-Request-ID"] == request_id == body["request_id"]
    else:
        assert response.headers["X-Request-ID"] != request_id
        assert len(response.headers["X-Request-ID"]) == 32


def test_errors_from_werkzeug_routing_keep_the_shape(app: Flask) -> None:
    client = app.test_client()
    assert_problem(client.get("/api/v1/tournaments/abc"), 404)
    assert_problem(client.get("/api/v1/decks/-1"), 404)
