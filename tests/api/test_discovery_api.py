"""Discovery in the API: similar decks, nearest archetype on a deck, operators' suggestions,
Unknown / fallback rate gauges."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from flask.testing import FlaskClient

from pipelines.core.db import connect
from pipelines.discovery.store import run_discovery
from pipelines.ingest.cache import ingest_cache
from tests.api.conftest import assert_problem, bearer, login
from tests.integration.discovery_data import FORMAT, write_cache, write_definitions


@pytest.fixture
def discovered(api_dsn: str, tmp_path: Path) -> dict[str, int]:
    """The synthetic Vintage decks ingested beside the fixtures and discovered: player -> id
    of the first Gamma (Unknown) deck and of an Alpha deck."""
    formats = write_definitions(tmp_path)
    cache, gamma = write_cache(tmp_path)
    ingest_cache(api_dsn, cache)
    with connect(api_dsn) as conn:
        run_discovery(conn, formats, FORMAT, "all")
        conn.commit()
        ids = dict(conn.execute("SELECT player, id FROM decks").fetchall())
        alpha = conn.execute(
            "SELECT d.id FROM decks d CROSS JOIN LATERAL unnest(d.main_card_ids) c(id) "
            "JOIN cards ON cards.id = c.id WHERE cards.name = 'Alpha Core 0' LIMIT 1"
        ).fetchone()
    assert alpha is not None
    return {"gamma": ids[sorted(gamma)[0]], "alpha": int(alpha[0])}


def test_similar_decks_ranked_by_similarity(
    client: FlaskClient, discovered: dict[str, int]
) -> None:
    answer = client.get(f"/api/v1/decks/{discovered['alpha']}/similar")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["format"] == FORMAT and body["deck_id"] == discovered["alpha"]
    items = body["items"]
    assert [i["rank"] for i in items] == list(range(1, 11))
    sims = [i["similarity"] for i in items]
    assert sims == sorted(sims, reverse=True) and 0 < sims[-1] <= sims[0] <= 1
    assert discovered["alpha"] not in {i["id"] for i in items}
    assert answer.headers["Server-Timing"].startswith("app;dur=")
    three = client.get(f"/api/v1/decks/{discovered['alpha']}/similar?k=3").get_json()
    assert [i["id"] for i in three["items"]] == [i["id"] for i in items[:3]]


@pytest.mark.parametrize("query", ["k=0", "k=11", "k=x", "other=1"])
def test_similar_rejects_bad_parameters(
    client: FlaskClient, discovered: dict[str, int], query: str
) -> None:
    assert_problem(client.get(f"/api/v1/decks/{discovered['alpha']}/similar?{query}"), 400)


def test_similar_of_an_unknown_deck_is_404(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/decks/999999999/similar"), 404)


def test_similar_is_empty_before_discovery_ran(client: FlaskClient, api_dsn: str) -> None:
    with psycopg.connect(api_dsn) as conn:
        row = conn.execute("SELECT min(id) FROM decks").fetchone()
    assert row is not None
    assert client.get(f"/api/v1/decks/{row[0]}/similar").get_json()["items"] == []


def test_unknown_deck_shows_its_nearest_archetype(
    client: FlaskClient, discovered: dict[str, int]
) -> None:
    unknown = client.get(f"/api/v1/decks/{discovered['gamma']}").get_json()
    nearest = unknown["nearest_archetype"]
    assert nearest["archetype"] in {"Alpha", "Beta"}
    assert 0 < nearest["similarity"] < 1
    ruled = client.get(f"/api/v1/decks/{discovered['alpha']}").get_json()
    assert ruled["nearest_archetype"] is None


def test_discoveries_need_an_operator(
    client: FlaskClient, discovered: dict[str, int], accounts: dict[str, int]
) -> None:
    assert_problem(client.get("/api/v1/admin/discoveries"), 401)
    reader = bearer(login(client, "reader")["access_token"])
    assert_problem(client.get("/api/v1/admin/discoveries", headers=reader), 403)
    oper = bearer(login(client, "oper")["access_token"])
    answer = client.get(f"/api/v1/admin/discoveries?format={FORMAT}", headers=oper)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    (item,) = answer.get_json()["items"]
    assert item["window"] == "all" and item["decks"] == 12 and item["exclusive"]
    assert item["definition"]["Conditions"][0]["Type"] == "InMainboard"
    assert item["relabel"][0]["from"] == "Unknown"
    none = client.get("/api/v1/admin/discoveries?format=Legacy", headers=oper).get_json()
    assert none["items"] == [] and none["total"] == 0
    assert_problem(client.get("/api/v1/admin/discoveries?window=last3", headers=oper), 400)


def test_metrics_export_unknown_and_fallback_rates(
    client: FlaskClient, discovered: dict[str, int], api_dsn: str, tmp_path: Path
) -> None:
    with connect(api_dsn) as conn:  # the window the alert rule watches
        run_discovery(conn, write_definitions(tmp_path / "again"), FORMAT, "last30")
        conn.commit()
    text = client.get("/metrics").get_data(as_text=True)
    assert f'manalytics_unknown_share{{format="{FORMAT}"}} ' in text
    assert f'manalytics_unknown_rate{{format="{FORMAT}",window="last30"}} ' in text
    assert f'manalytics_unknown_rate{{format="{FORMAT}",window="all"}} 0.39' in text
    assert f'manalytics_fallback_rate{{format="{FORMAT}",window="all"}} 0.0' in text


def test_metrics_without_discovery_have_no_rates(client: FlaskClient) -> None:
    text = client.get("/metrics").get_data(as_text=True)
    assert "manalytics_refresh_generation" in text
    assert "manalytics_unknown_rate{" not in text
