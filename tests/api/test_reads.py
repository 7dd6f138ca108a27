"""Public reads: every endpoint answers from the seeded fixtures, with its query parameters,
pagination bounds and 400/404 answers."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import assert_problem

V1 = "/api/v1"


def get(client: FlaskClient, path: str, **params: Any) -> Any:
    return client.get(V1 + path, query_string=params)


def ok(client: FlaskClient, path: str, **params: Any) -> dict[str, Any]:
    response = get(client, path, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


# --------------------------------------------------------------------------- formats / meta


def test_formats_list_data_range_counts_generation_and_definitions(client: FlaskClient) -> None:
    body = ok(client, "/formats")
    assert body["generation"] == 1 and body["as_of"]
    formats = {f["format"]: f for f in body["items"]}
    assert {"Modern", "Legacy", "Pioneer"} <= set(formats)
    modern = formats["Modern"]
    assert modern["first_date"] <= modern["last_date"] == "2025-03-16"
    assert modern["decks"] >= modern["decks_default"] > 0
    assert [w["key"] for w in modern["windows"]][:2] == ["current", "last7"]
    assert modern["definitions_version"] and modern["definitions_activated_at"]
    assert body["total"] == len(body["items"]) and body["limit"] == 50 and body["offset"] == 0
    assert [f["format"] for f in body["items"]] == sorted(formats)  # stable order


def test_meta_rows_shares_intervals_and_tiers(client: FlaskClient) -> None:
    body = ok(client, "/formats/Modern/meta")
    assert body["format"] == "Modern" and body["event_group"] == "all"
    assert body["window"]["key"] == "last30" and body["generation"] == 1
    assert body["presence"] == "decks" and body["basis"] == "matches"
    rows = body["items"]
    assert rows and body["total"] == len(rows)
    assert abs(sum(r["share"] for r in rows) - 1.0) < 1e-9
    first = rows[0]
    for key in ("decks", "players", "seats", "wins", "losses", "draws", "win_rate", "slug"):
        assert key in first
    for key in ("ci_lower", "ci_upper", "wilson_lower", "wilson_upper", "tier_ci", "tier_score"):
        assert key in first
    for key in ("coverage", "low_sample", "shrunk_win_rate", "ci_method", "name_raw"):
        assert key in first
    # One unit: every share, rate, bound and the cut are fractions in [0, 1].
    for row in rows:
        for key in ("share", "share_decks", "share_seats", "coverage", "win_rate", "ci_lower"):
            assert row[key] is None or 0.0 <= row[key] <= 1.0
    cut = body["totals"]["tier_cut"]
    assert cut is None or 0.0 < cut <= 1.0
    shares = [r["share"] for r in rows]
    assert shares == sorted(shares, reverse=True)
    assert body["totals"]["decks"] == sum(r["decks"] for r in rows)


@pytest.mark.parametrize("presence", ["decks", "players", "seats"])
def test_meta_presence_metric_chooses_the_share(client: FlaskClient, presence: str) -> None:
    rows = ok(client, "/formats/Modern/meta", presence=presence)["items"]
    assert all(r["share"] == r[f"share_{presence}"] for r in rows)


def test_meta_sort_and_minimum_sample(client: FlaskClient) -> None:
    by_name = ok(client, "/formats/Modern/meta", sort="archetype")["items"]
    assert [r["archetype"] for r in by_name] == sorted(r["archetype"] for r in by_name)
    by_name_desc = ok(client, "/formats/Modern/meta", sort="-archetype")["items"]
    assert by_name_desc == by_name[::-1]
    rates = [r["win_rate"] for r in ok(client, "/formats/Modern/meta", sort="-win_rate")["items"]]
    known = [r for r in rates if r is not None]
    assert known == sorted(known, reverse=True) and rates[: len(known)] == known  # None last
    most = max(r["decks"] for r in by_name)
    big = ok(client, "/formats/Modern/meta", min_decks=most)["items"]
    assert big and all(r["decks"] >= most for r in big)


def test_meta_windows_standard_period_name_and_custom_range(client: FlaskClient) -> None:
    current = ok(client, "/formats/Modern/meta", window="current")["window"]
    assert current["key"] == "current" and current["period_name"] == "LateMarch"
    # The current period by name is the precomputed "current" window.
    assert ok(client, "/formats/Modern/meta", window="LateMarch")["window"] == current
    spring = ok(client, "/formats/Modern/meta", window="Spring2025")["window"]
    assert spring["key"] == "custom"
    assert (spring["start"], spring["end"]) == ("2025-01-01", "2025-03-14")
    custom = ok(client, "/formats/Modern/meta", **{"from": "2025-03-01", "to": "2025-03-16"})
    assert custom["window"]["key"] == "custom" and custom["totals"]["decks"] > 0
    assert ok(client, "/formats/Modern/meta", window="last7")["window"]["key"] == "last7"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"window": "last7", "from": "2025-03-01", "to": "2025-03-02"}, "window"),
        ({"from": "2025-03-01"}, "to"),
        ({"to": "2025-03-01"}, "from"),
        ({"from": "2025-02-30", "to": "2025-03-01"}, "from"),
        ({"event": "casual"}, "event"),
        ({"presence": "wins"}, "presence"),
        ({"presence": "matches"}, "presence"),  # renamed seats in API 2.0.0
        ({"basis": "standings"}, "basis"),
        ({"min_matches": "3"}, "min_matches"),  # renamed min_seats
        ({"sort": "popularity"}, "sort"),
        ({"min_decks": "-1"}, "min_decks"),
        ({"min_decks": "1.5"}, "min_decks"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"colour": "red"}, "colour"),
        ({"window": "bad\x00"}, "window"),
    ],
)
def test_meta_invalid_parameters_are_400_with_field_and_reason(
    client: FlaskClient, params: dict[str, str], field: str
) -> None:
    body = assert_problem(get(client, "/formats/Modern/meta", **params), 400, "invalid_parameter")
    assert field in {e["field"] for e in body["errors"]}
    assert all(e["reason"] for e in body["errors"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-03-10", "to": "2025-03-01"}, "from"),
        ({"from": "1990-01-01", "to": "2025-03-01"}, "to"),
    ],
)
def test_a_range_the_document_allows_but_the_rules_refuse_is_422(
    client: FlaskClient, params: dict[str, str], field: str
) -> None:
    # Both dates are valid and given together (what the OpenAPI `period` parameter states);
    # their order and span are rules stated in words, answered 422 (issue 12, defect 12).
    body = assert_problem(get(client, "/formats/Modern/meta", **params), 422, "invalid_window")
    assert [e["field"] for e in body["errors"]] == [field]


def test_an_unknown_window_name_is_404(client: FlaskClient) -> None:
    assert_problem(get(client, "/formats/Modern/meta", window="last8"), 404, "unknown_window")


def test_every_bad_parameter_is_reported_at_once(client: FlaskClient) -> None:
    response = client.get(f"{V1}/formats/Modern/meta?limit=0&offset=x&limit=3&nope=1")
    body = assert_problem(response, 400)
    assert {e["field"] for e in body["errors"]} == {"limit", "offset", "nope"}


def test_pagination_bounds_total_and_stable_order(client: FlaskClient) -> None:
    full = ok(client, "/formats/Modern/meta", limit=1000)
    assert full["limit"] == 1000
    names = [r["archetype"] for r in full["items"]]
    paged = [
        ok(client, "/formats/Modern/meta", limit=1, offset=i)["items"][0]["archetype"]
        for i in range(len(names))
    ]
    assert paged == names
    beyond = ok(client, "/formats/Modern/meta", offset=len(names))
    assert beyond["items"] == [] and beyond["total"] == len(names)


def test_unknown_format_archetype_and_card_are_404(client: FlaskClient) -> None:
    assert_problem(get(client, "/formats/Nope/meta"), 404, "not_found")
    assert_problem(get(client, "/formats/Modern/archetypes/Nope"), 404)
    assert_problem(get(client, "/formats/Modern/cards/Not%20A%20Card"), 404)
    assert_problem(get(client, "/formats/Pauper/meta", window="current"), 404)  # no metas
    assert_problem(client.get(f"{V1}/nothing-here"), 404)


# --------------------------------------------------------------------------- matchups


def test_matchup_matrix_cells_and_other_bucket(client: FlaskClient) -> None:
    body = ok(client, "/formats/Modern/matchups", min_share=0)
    labels = body["labels"]
    assert body["other_label"] is None and body["merged"] == []
    assert [row["archetype"] for row in body["items"]] == labels
    for row in body["items"]:
        assert [c["opponent"] for c in row["cells"]] == labels
        for cell in row["cells"]:
            assert cell["n"] == cell["wins"] + cell["losses"] + cell["draws"]
            if cell["opponent"] == row["archetype"]:  # mirrors once, no rate, no interval
                assert cell["mirror"] and cell["n"] == 0 and cell["win_rate"] is None
                assert cell["ci_lower"] is None and cell["ci_upper"] is None
            else:
                assert cell["mirrors"] == 0
            if cell["win_rate"] is not None:
                assert cell["ci_lower"] <= cell["win_rate"] <= cell["ci_upper"]
    # A cut above the smallest share merges archetypes into "Other".
    shares = sorted(row["share"] for row in body["items"])
    cut = ok(client, "/formats/Modern/matchups", min_share=(shares[0] + shares[-1]) / 2)
    assert cut["other_label"] == "Other" and cut["merged"]
    assert cut["labels"][-1] == "Other" and cut["items"][-1]["other"] is True
    # Symmetry: A's wins against B are B's losses against A.
    cells = {(r["archetype"], c["opponent"]): c for r in body["items"] for c in r["cells"]}
    for (a, b), cell in cells.items():
        if a != b:
            assert cell["wins"] == cells[(b, a)]["losses"]


def test_matchups_max_archetypes_and_presence(client: FlaskClient) -> None:
    body = ok(client, "/formats/Modern/matchups", min_share=0, max_archetypes=1)
    assert len(body["labels"]) == 2 and body["labels"][-1] == "Other"
    assert_problem(get(client, "/formats/Modern/matchups", min_share="1.5"), 400)
    assert_problem(get(client, "/formats/Modern/matchups", max_archetypes="0"), 400)


@pytest.mark.parametrize("raw", ["9.759613848911575e-196", "1E-3", ".5e0", "0.000"])
def test_a_number_parameter_takes_what_json_schema_calls_a_number(
    client: FlaskClient, raw: str
) -> None:
    """Exponents are numbers too (schemathesis sends them); only infinities are refused."""
    ok(client, "/formats/Modern/matchups", min_share=raw)


def test_an_infinite_number_parameter_is_400(client: FlaskClient) -> None:
    problem = get(client, "/formats/Modern/matchups", min_share="1e9999")
    assert_problem(problem, 400)


# --------------------------------------------------------------------------- archetypes


def test_archetype_list_and_detail(client: FlaskClient) -> None:
    listing = ok(client, "/formats/Modern/archetypes")
    names = [r["archetype"] for r in listing["items"]]
    assert "Mono Red Burn" in names and listing["total"] == len(names)
    detail = ok(client, "/formats/Modern/archetypes/Mono Red Burn", best_decks=2)
    assert detail["archetype"] == "Mono Red Burn" and detail["summary"]["decks"] > 0
    assert detail["weekly"] and all("share_decks" in w for w in detail["weekly"])
    assert detail["colors"] and abs(sum(c["share"] for c in detail["colors"]) - 1) < 1e-9
    assert detail["cards"]["main"] and "side" in detail["cards"]
    stock = detail["stock_decklist"]
    assert sum(n for _, n in stock["main"]) == stock["main_size"]
    assert 0 < len(detail["best_decks"]) <= 2


def test_archetype_lookup_by_slug_and_spelling_and_both_bases(client: FlaskClient) -> None:
    by_name = ok(client, "/formats/Modern/archetypes/Mono Red Burn")
    assert by_name["slug"] == "mono-red-burn" and by_name["basis"] == "matches"
    by_slug = ok(client, "/formats/Modern/archetypes/mono-red-burn")
    spelled = ok(client, "/formats/Modern/archetypes/  mono  RED burn ")
    assert by_slug["summary"] == by_name["summary"] == spelled["summary"]
    records = ok(client, "/formats/Modern/archetypes/mono-red-burn", basis="records")
    assert records["basis"] == "records" and records["summary"]["mirrors"] == 0
    assert records["summary"]["decks"] == by_name["summary"]["decks"]
    listing = ok(client, "/formats/Modern/archetypes", basis="records")
    assert listing["basis"] == "records"
    assert all(r["slug"] and 0 <= r["coverage"] <= 1 for r in listing["items"])


def test_archetype_detail_for_a_custom_window(client: FlaskClient) -> None:
    detail = ok(
        client,
        "/formats/Modern/archetypes/Mono Red Burn",
        **{"from": "2025-03-01", "to": "2025-03-31"},
    )
    assert detail["window"]["key"] == "custom"


# --------------------------------------------------------------------------- trends, cards


def test_trends_weekly_series_paginated(client: FlaskClient) -> None:
    body = ok(client, "/formats/Modern/trends")
    assert body["window"]["key"] == "last90" and body["weeks"] and body["basis"] == "matches"
    assert body["total"] == len(body["items"]) > 0
    weeks = [w["week_start"] for w in body["weeks"]]
    for series in body["items"]:
        assert [p["week_start"] for p in series["points"]] == weeks
    decks = [s["decks"] for s in body["items"]]
    assert decks == sorted(decks, reverse=True)
    first = ok(client, "/formats/Modern/trends", limit=1)
    assert first["items"] == body["items"][:1] and first["total"] == body["total"]


def test_card_lookup_by_archetype_and_board(client: FlaskClient) -> None:
    body = ok(client, "/formats/Modern/cards/Lightning Bolt")
    assert body["card"] == "Lightning Bolt"
    row = body["items"][0]
    assert row["archetype"] == "Mono Red Burn" and row["board"] in {"main", "side"}
    assert 0 < row["share"] <= 1 and row["decks"] <= row["archetype_decks"]


# --------------------------------------------------------------------------- tournaments, decks


def test_tournaments_list_filters_and_detail(client: FlaskClient) -> None:
    body = ok(client, "/tournaments")
    dates = [t["event_date"] for t in body["items"]]
    assert dates == sorted(dates, reverse=True) and body["total"] == len(dates)
    modern = ok(client, "/tournaments", format="Modern")
    assert modern["items"] and all(t["format"] == "Modern" for t in modern["items"])
    challenges = ok(client, "/tournaments", kind="challenge", **{"from": "2025-03-01"})
    assert all(t["event_kind"] == "challenge" for t in challenges["items"])
    assert ok(client, "/tournaments", format="Nope") == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
        "total_exact": True,
    }
    with_rounds = next(t for t in body["items"] if t["match_count"] > 0)
    detail = ok(client, f"/tournaments/{with_rounds['id']}")
    assert detail["name"] == with_rounds["name"]
    assert detail["decks"] and detail["rounds"] and detail["rounds"][0]["matches"]
    assert isinstance(detail["standings"], list)
    assert_problem(get(client, "/tournaments/999999"), 404)
    assert_problem(get(client, f"/tournaments/{2**63}"), 404)
    assert_problem(get(client, "/tournaments", kind="casual"), 400)
    # A from after to is an empty range, not an error (the OpenAPI document can say so).
    empty = ok(client, "/tournaments", **{"from": "2025-03-02", "to": "2025-03-01"})
    assert empty["items"] == [] and empty["total"] == 0


def test_decks_list_filters_and_detail_with_explanation(client: FlaskClient) -> None:
    body = ok(client, "/decks", format="Modern", limit=100)
    assert body["total"] == len(body["items"]) > 0
    burn = ok(client, "/decks", format="Modern", archetype="Mono Red Burn")["items"]
    assert burn and all(d["archetype"] == "Mono Red Burn" for d in burn)
    deck_id = burn[0]["id"]
    player = burn[0]["player"]
    assert ok(client, "/decks", player=player.upper())["items"]
    detail = ok(client, f"/decks/{deck_id}")
    assert detail["main"] and all(line["count"] > 0 for line in detail["main"])
    assert detail["classification"]["archetype"] == "Mono Red Burn"
    assert detail["classification"]["definitions_version"]
    assert "Mono Red Burn" in detail["explanation"] and detail["explanation_error"] is None
    assert_problem(get(client, "/decks/999999"), 404)
    assert_problem(get(client, "/decks", tournament="0"), 400)


def test_deck_of_a_format_without_definitions_has_no_explanation(client: FlaskClient) -> None:
    pauper = ok(client, "/decks", format="Pauper")["items"][0]
    detail = ok(client, f"/decks/{pauper['id']}")
    assert detail["classification"] is None
    assert detail["explanation"] is None and detail["explanation_error"]


def test_health_ping_and_openapi(client: FlaskClient) -> None:
    assert client.get("/health").get_json() == {"status": "ok"}
    assert client.get("/api/v1/ping").get_json() == {"status": "ok"}
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and "/api/v1/formats/{format}/meta" in doc["paths"]
    assert client.get("/api/v1/openapi.json").get_json() == doc


def test_api_reads_meta_periods_from_the_workers_definitions_folder(make_app: Any) -> None:
    """One setting for API and workers: unset MANALYTICS_FORMATS_DIR means the shipped demo
    definitions for both (not the real sample's folder)."""
    from pipelines.core.settings import DEMO_DEFINITIONS_DIR
    from pipelines.core.settings_loader import load_settings

    assert load_settings({"MANALYTICS_ENV": "test"}).definitions_dir == DEMO_DEFINITIONS_DIR
    demo = make_app(settings={"formats_dir": None}).test_client()
    # A period of the demo definitions resolves; the fixture definitions' one does not.
    spring = demo.get(f"{V1}/formats/Modern/meta", query_string={"window": "DemoWinter"})
    assert spring.status_code == 200 and spring.get_json()["window"]["key"] == "custom"
    assert demo.get(f"{V1}/formats/Modern/meta?window=Spring2025").status_code == 404


def test_an_empty_window_and_group_conforms_to_the_document(client: FlaskClient) -> None:
    """A group without decks in the window answers empty totals whose sample rules are null
    (found by schemathesis over gunicorn on the real sample: the document said integer)."""
    import jsonschema

    from api.openapi import SCHEMAS

    empty = ok(client, "/formats/Modern/meta", window="last7", event="challenges")
    assert empty["items"] == [] and empty["totals"]["decks"] == 0
    assert empty["totals"]["min_players"] is None
    resolver = {"components": {"schemas": SCHEMAS}, **SCHEMAS["Meta"]}
    jsonschema.validate(empty, resolver)
