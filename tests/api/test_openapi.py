"""The OpenAPI document against the app: a property-based run (schemathesis) over every
operation — no 5xx, and every answer conforms to the document (status code, content type,
body schema) — plus structural checks of the document itself."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from api import close_app, create_app
from api.openapi import build_document
from tests.api.conftest import FIXTURE_CACHE, AppFactory, bearer, login

load_all_checks()
# Every check schemathesis has (not a chosen subset): the document must describe exactly
# what the code accepts and answers.
ALL_CHECKS = CHECKS.get_all()


@pytest.fixture
def fuzz_app(make_app: AppFactory, accounts: dict[str, int]) -> Flask:
    # Generous limits (the budget is not what is tested here) and an allowed ingestion root.
    return make_app(
        settings={"cache_dir": FIXTURE_CACHE},
        API_RATELIMIT_DEFAULT="100000/minute",
        API_RATELIMIT_AUTHENTICATED="100000/minute",
        API_RATELIMIT_AUTH="100000/minute",
    )


@pytest.fixture
def admin_headers(fuzz_app: Flask) -> dict[str, str]:
    return bearer(login(fuzz_app.test_client(), "admin")["access_token"])


def _document() -> dict[str, Any]:
    """The document as the app serves it (building an app connects to nothing)."""
    app = create_app(
        {"DATABASE_URL": "postgresql://u@127.0.0.1:9/none", "REDIS_URL": "redis://127.0.0.1:9/0"}
    )
    try:
        document: dict[str, Any] = app.test_client().get("/openapi.json").get_json()
    finally:
        close_app(app)
    return document


# One pytest test per operation, each with its own database, Redis and admin token (the
# lazy from_fixture loader runs every operation in one test, and logging out in one would
# revoke the token of the others).
# A request the document allows is never refused as malformed (400): positive data gets
# 2xx, or 401/403/404/409/429 — or 422, this API's answer for a rule the document states in
# words because JSON Schema cannot (a password's strength, `from` after `to`, a folder
# outside the configured ones, a refresh token of another user). The negative checks still
# want every request the document refuses to be refused.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_openapi_document(
    case: Any, fuzz_app: Flask, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The checks that send probes of their own (no token, another method...) send them to
    # the operation's app: this test's.
    monkeypatch.setattr(case.operation, "app", fuzz_app)
    monkeypatch.setattr(case.operation.schema, "app", fuzz_app)
    case.call_and_validate(headers=admin_headers, checks=ALL_CHECKS)


def test_every_route_is_documented(app: Flask) -> None:
    document = build_document(app)
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    for rule in app.url_map.iter_rules():
        # Static files and the HTML pages (api.blueprints.pages) are not part of the API.
        if rule.endpoint == "static" or rule.endpoint.startswith("pages."):
            continue
        path = rule.rule
        for converter in ("int:", "path:"):
            path = path.replace(f"<{converter}", "<")
        path = path.replace("<", "{").replace(">", "}")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)


def test_operations_declare_errors_security_and_pagination(app: Flask) -> None:
    paths = build_document(app)["paths"]
    meta = paths["/api/v1/formats/{format}/meta"]["get"]
    names = {p["name"] for p in meta["parameters"]}
    assert {"period", "event", "presence", "sort", "limit", "offset"} <= names
    # window | from+to: one exploded object parameter states the pairing and the exclusion.
    period = next(p for p in meta["parameters"] if p["name"] == "period")
    assert (period["in"], period["style"], period["explode"]) == ("query", "form", True)
    assert set(period["schema"]["properties"]) == {"window", "from", "to"}
    assert period["schema"]["dependentRequired"] == {"from": ["to"], "to": ["from"]}
    assert period["schema"]["additionalProperties"] is False
    assert {"404", "422"} <= set(meta["responses"])
    limit = next(p for p in meta["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}
    assert {"200", "304", "400", "404", "429"} <= set(meta["responses"])
    assert meta["security"] == []
    problem = meta["responses"]["400"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    refresh = paths["/api/v1/admin/refresh"]["post"]
    assert refresh["security"] == [{"bearerAuth": []}]
    assert {"202", "401", "403", "503"} <= set(refresh["responses"])
    users = paths["/api/v1/admin/users"]["post"]["requestBody"]["content"]["application/json"]
    assert users["schema"]["required"] == ["username", "password"]
    assert users["schema"]["additionalProperties"] is False
