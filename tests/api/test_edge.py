"""Issue 12: forwarded headers only through trusted proxies (2), redirects only to configured
hosts (5), fixed metric labels and no limiter bypass (4), Retry-After on 503 (6), integer
parameters by range (10)."""

from __future__ import annotations

import pytest
import redis
from flask.testing import FlaskClient

from tests.api.conftest import AppFactory, assert_problem

META = "/api/v1/formats/Modern/meta"
DECKS = "/api/v1/decks"


# --------------------------------------------------------------------------- scheme (2)


def test_a_direct_client_cannot_claim_https_without_trusted_proxies(
    make_app: AppFactory,
) -> None:
    client = make_app(FORCE_HTTPS=True, ALLOWED_HOSTS=("api.example",)).test_client()
    forged = client.get(META, headers={"X-Forwarded-Proto": "https", "Host": "api.example"})
    assert forged.status_code == 301  # before the fix: 200 with HSTS
    assert forged.headers["Location"] == f"https://api.example{META}"
    assert "Strict-Transport-Security" not in forged.headers
    plain = make_app().test_client().get(META, headers={"X-Forwarded-Proto": "https"})
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers


def test_the_scheme_of_the_trusted_proxy_counts(make_app: AppFactory) -> None:
    client = make_app(
        FORCE_HTTPS=True, TRUSTED_PROXY_COUNT=1, ALLOWED_HOSTS=("api.example",)
    ).test_client()
    via_proxy = client.get(META, headers={"X-Forwarded-Proto": "https", "Host": "api.example"})
    assert via_proxy.status_code == 200
    assert via_proxy.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Two values: the client's forged "https" is further left than our proxy's "http".
    spoofed = client.get(META, headers={"X-Forwarded-Proto": "https, http", "Host": "api.example"})
    assert spoofed.status_code == 301


# --------------------------------------------------------------------------- hosts (5)


def test_redirects_go_only_to_configured_hosts(make_app: AppFactory) -> None:
    client = make_app(FORCE_HTTPS=True, ALLOWED_HOSTS=("api.example",)).test_client()
    evil = client.get(META, headers={"Host": "evil.example"})
    assert_problem(evil, 400, "unknown_host")  # before: 301 to https://evil.example/...
    assert "Location" not in evil.headers
    get = client.get(META + "?window=last30", headers={"Host": "API.example:80"})
    assert get.status_code == 301
    assert get.headers["Location"] == f"https://api.example{META}?window=last30"
    post = client.post("/api/v1/auth/token", headers={"Host": "api.example"}, json={})
    assert post.status_code == 308  # keeps the method and body
    for probe in ("/health", "/ready", "/metrics"):  # load balancers call by address
        assert client.get(probe, headers={"Host": "10.0.0.7:8000"}).status_code == 200


def test_without_configured_hosts_plain_http_is_refused_not_reflected(
    make_app: AppFactory,
) -> None:
    client = make_app(FORCE_HTTPS=True).test_client()
    answer = client.get(META, headers={"Host": "evil.example"})
    assert_problem(answer, 400, "https_required")
    assert "Location" not in answer.headers


def test_unknown_hosts_are_refused_over_https_too(make_app: AppFactory) -> None:
    client = make_app(ALLOWED_HOSTS=("api.example",)).test_client()
    assert_problem(client.get(META, base_url="https://evil.example"), 400, "unknown_host")
    assert client.get(META, base_url="https://api.example").status_code == 200


# --------------------------------------------------------------------------- metrics (4)


def test_invented_methods_share_one_metric_label_and_count_against_the_limit(
    make_app: AppFactory, redis_url: str
) -> None:
    client = make_app(API_RATELIMIT_DEFAULT="5/minute").test_client()
    statuses = [client.open(META, method=f"FOO{i}").status_code for i in range(4)]
    assert statuses == [405] * 4
    assert client.get(META).status_code == 200  # fifth request
    assert_problem(client.get(META), 429)  # the 405s counted (before: they were free)
    text = client.get("/metrics").get_data(as_text=True)
    assert "FOO" not in text
    assert 'method="OTHER"' in text
    unmatched = make_app().test_client()
    for i in range(3):
        unmatched.get(f"/no/such/path/{i}")
    text = unmatched.get("/metrics").get_data(as_text=True)
    assert "/no/such" not in text
    assert redis.Redis.from_url(redis_url).keys("LIMITS*")


# --------------------------------------------------------------------------- 503 (6)


def test_retry_after_on_503_is_the_intended_value(make_app: AppFactory) -> None:
    client = make_app(
        settings={"database_url": "postgresql://nobody@127.0.0.1:9/none", "db_pool_timeout": 0.5},
        API_RATELIMIT_DEFAULT="10/hour",
    ).test_client()
    answer = client.get(DECKS)
    assert_problem(answer, 503)
    assert answer.headers["Retry-After"] == "5"  # before: the limit window (~3600)


# --------------------------------------------------------------------------- integers (10)


@pytest.mark.parametrize("value", ["9223372036854775807", "%2B1", "0009"])
def test_integers_are_validated_by_range_not_digit_count(client: FlaskClient, value: str) -> None:
    answer = client.get(f"{DECKS}?tournament={value}")
    assert answer.status_code == 200, answer.get_json()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("9223372036854775808", "<="),
        ("0", ">="),
        ("1" * 400, "integer"),
        ("1e3", "integer"),
        ("٣", "integer"),  # a Unicode digit is not an ASCII integer
    ],
)
def test_integers_out_of_range_are_400(client: FlaskClient, value: str, reason: str) -> None:
    body = assert_problem(client.get(f"{DECKS}?tournament={value}"), 400)
    assert reason in body["errors"][0]["reason"]


# --------------------------------------------------------------------------- lists (3)


def test_list_totals_are_exact_up_to_a_cap_then_a_lower_bound(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.reads import paging

    full = client.get(f"{DECKS}?format=Modern&limit=5").get_json()
    assert full["total_exact"] is True and full["total"] > 5
    monkeypatch.setattr(paging, "TOTAL_CAP", 5)
    capped = client.get(f"{DECKS}?format=Modern&limit=2&offset=1").get_json()
    assert capped["total"] == 5 and capped["total_exact"] is False
    assert len(capped["items"]) == 2
    last = client.get(f"{DECKS}?format=Modern&limit=1000").get_json()  # last page: exact
    assert last["total"] == full["total"] and last["total_exact"] is True
    tournaments = client.get("/api/v1/tournaments?limit=1").get_json()
    assert tournaments["total"] == 5 and tournaments["total_exact"] is False
    assert_problem(client.get(f"{DECKS}?offset=10001"), 400)


def test_the_unknown_archetype_filter_lists_unlabelled_decks(client: FlaskClient) -> None:
    pauper = client.get(f"{DECKS}?format=Pauper&archetype=Unknown").get_json()
    assert pauper["items"] and all(d["archetype"] == "Unknown" for d in pauper["items"])
    everything = client.get(f"{DECKS}?format=Pauper").get_json()
    assert pauper["total"] == everything["total"]  # no Pauper definitions: all unlabelled


def test_list_reads_cost_more_of_the_budget(make_app: AppFactory) -> None:
    client = make_app(API_RATELIMIT_DEFAULT="12/minute").test_client()
    assert client.get(DECKS).status_code == 200  # 5
    assert client.get("/api/v1/tournaments").status_code == 200  # 10
    assert client.get("/api/v1/ping").status_code == 200  # 11
    assert client.get("/api/v1/ping").status_code == 200  # 12
    assert_problem(client.get(DECKS), 429)
