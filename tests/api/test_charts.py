"""Static charts: rendered after a refresh, served by generation with ETags; the render run's
fault paths (overlap, superseded generation, pruning)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient

from pipelines.charts.render import RENDER_LOCK_KEY, render_generation
from tests.api.charts_fixtures import (  # noqa: F401  (fixtures, registered by name)
    api_dsn,
    charts_template,
)
from tests.api.conftest import HTTPS, assert_problem, refresh

BASE = "/api/v1/formats/Modern/charts"


def test_svg_is_served_with_etag_links_and_a_text_alternative(client: FlaskClient) -> None:
    response = client.get(f"{BASE}/share.svg", headers=HTTPS)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and "<desc>Bar chart of the share of decks" in svg
    etag = response.headers["ETag"]
    assert etag.startswith('"g1-')
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    link = response.headers["Link"]
    assert 'rel="describedby"' in link and "/api/v1/formats/Modern/meta?window=last30" in link

    again = client.get(f"{BASE}/share.svg", headers={**HTTPS, "If-None-Match": etag})
    assert again.status_code == 304 and not again.data


def test_bars_of_the_share_chart_match_the_meta(client: FlaskClient) -> None:
    meta = client.get("/api/v1/formats/Modern/meta?window=last7", headers=HTTPS).get_json()
    svg = client.get(f"{BASE}/share.svg?window=last7", headers=HTTPS).get_data(as_text=True)
    assert svg.count('aria-roledescription="bar"') == len(meta["items"])  # all above the cut
    for row in meta["items"]:
        assert f"archetype: {row['archetype']}; share: {row['share_decks'] * 100:.1f}%" in svg


def test_custom_window_charts_are_drawn_on_request_with_etag_and_priced(
    client: FlaskClient,
) -> None:
    window = client.get("/api/v1/formats/Modern/meta?window=last30", headers=HTTPS).get_json()
    dates = f"from={window['window']['start']}&to={window['window']['end']}"
    meta = client.get(f"/api/v1/formats/Modern/meta?{dates}", headers=HTTPS).get_json()
    response = client.get(f"{BASE}/share.svg?{dates}", headers=HTTPS)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.count('aria-roledescription="bar"') == len(meta["items"])
    assert "<desc>Bar chart of the share of decks" in svg
    assert f"/api/v1/formats/Modern/meta?{dates}" in response.headers["Link"]
    again = client.get(
        f"{BASE}/share.svg?{dates}", headers={**HTTPS, "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    # Drawn on request: ten times a stored chart's price.
    stored = client.get(f"{BASE}/share.svg", headers=HTTPS)
    custom = client.get(f"{BASE}/share.svg?{dates}", headers=HTTPS)
    spent = int(stored.headers["X-RateLimit-Remaining"]) - int(
        custom.headers["X-RateLimit-Remaining"]
    )
    assert spent == 10
    png = client.get(f"{BASE}/winrate.png?{dates}", headers=HTTPS)
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    about = client.get(f"{BASE}/share?{dates}", headers=HTTPS).get_json()
    assert about["window"] == "custom" and dates in about["svg_url"]
    top = meta["items"][0]["archetype"]
    cards = client.get(
        f"{BASE}/cards.svg",
        query_string={"archetype": top, **dict(part.split("=") for part in dates.split("&"))},
        headers=HTTPS,
    )
    assert cards.status_code == 200 and "<svg" in cards.get_data(as_text=True)


def test_png_and_description(client: FlaskClient) -> None:
    png = client.get(f"{BASE}/winrate.png?event=leagues", headers=HTTPS)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG")
    svg = client.get(f"{BASE}/winrate.svg?event=leagues", headers=HTTPS)
    assert png.headers["ETag"] != svg.headers["ETag"]  # one ETag per representation

    about = client.get(f"{BASE}/winrate?event=leagues", headers=HTTPS)
    body = about.get_json()
    assert about.status_code == 200 and body["generation"] == 1
    assert body["alt"].startswith("Win rate per archetype")
    assert body["spec"]["description"] == body["alt"]
    assert client.get(body["data_url"], headers=HTTPS).status_code == 200
    assert client.get(body["png_url"], headers=HTTPS).data == png.data


def test_per_archetype_chart(client: FlaskClient) -> None:
    meta = client.get("/api/v1/formats/Modern/meta", headers=HTTPS).get_json()
    name = meta["items"][0]["archetype"]
    response = client.get(f"{BASE}/cards.svg", query_string={"archetype": name}, headers=HTTPS)
    assert response.status_code == 200
    assert "most played main-deck cards" in response.get_data(as_text=True)
    about = client.get(f"{BASE}/cards", query_string={"archetype": name}, headers=HTTPS)
    assert about.get_json()["data_url"].startswith("/api/v1/formats/Modern/archetypes/")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        # Valid parameters one by one, not together (a rule the document states in words).
        (f"{BASE}/cards.svg", 422),  # per-archetype chart without an archetype
        (f"{BASE}/share.svg?archetype=Burn", 422),  # format chart with one
        (f"{BASE}/nope.svg", 400),
        (f"{BASE}/share.gif", 400),
        (f"{BASE}/share.svg?window=2020", 400),
        (f"{BASE}/share.svg?window=last90", 404),  # not rendered
        (f"{BASE}/share.svg?from=2025-03-01", 400),  # from without to
        (f"{BASE}/share.svg?window=last7&from=2025-03-01&to=2025-03-02", 400),
        (f"{BASE}/share.svg?from=2025-03-10&to=2025-03-01", 422),  # reversed
        (f"{BASE}/share.svg?from=2000-03-10&to=2025-03-01", 422),  # too long
        ("/api/v1/formats/Nope/charts/share.svg?from=2025-03-01&to=2025-03-02", 404),
        ("/api/v1/formats/Nope/charts/share.svg", 404),
    ],
)
def test_bad_requests(client: FlaskClient, url: str, status: int) -> None:
    assert_problem(client.get(url, headers=HTTPS), status)


def test_a_new_generation_changes_the_etag_and_old_ones_are_pruned(
    client: FlaskClient,
    api_dsn: str,  # noqa: F811
) -> None:
    first = client.get(f"{BASE}/share.svg", headers=HTTPS).headers["ETag"]
    only = {"formats": ["Modern"], "windows": ["last30"], "groups": ["all"], "archetypes": 0}
    for expected in (2, 3):
        assert refresh(api_dsn) == expected
        assert render_generation(api_dsn, **only).generation == expected
    now = client.get(f"{BASE}/share.svg", headers={**HTTPS, "If-None-Match": first})
    assert now.status_code == 200 and now.headers["ETag"].startswith('"g3-')
    with psycopg.connect(api_dsn) as conn:
        kept = conn.execute("SELECT DISTINCT generation FROM chart_renders ORDER BY 1").fetchall()
    assert [g for (g,) in kept] == [2, 3]  # the previous generation stays for readers


def test_render_skips_while_another_holds_the_lock_and_refuses_old_generations(
    api_dsn: str,  # noqa: F811
) -> None:
    with psycopg.connect(api_dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (RENDER_LOCK_KEY,))
        assert render_generation(api_dsn, formats=[]).status == "skipped"
        other.execute("SELECT pg_advisory_unlock(%s)", (RENDER_LOCK_KEY,))
    refresh(api_dsn)
    assert render_generation(api_dsn, generation=1, formats=[]).status == "superseded"
    done = render_generation(api_dsn, formats=[])
    assert (done.status, done.generation, done.charts) == ("succeeded", 2, 0)


def test_a_window_whose_charts_fail_to_build_costs_only_that_window(
    api_dsn: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pipelines.charts.render as render

    real = render.format_charts

    def broken_last7(conn: Any, fmt: str, window: Any, group: str, **kw: Any) -> Any:
        if window == "last7":
            raise TypeError("'<' not supported between instances of 'NoneType' and 'int'")
        return real(conn, fmt, window, group, **kw)

    monkeypatch.setattr(render, "format_charts", broken_last7)
    refresh(api_dsn)
    result = render_generation(
        api_dsn, formats=["Modern"], windows=("last7", "last30"), groups=("all",), archetypes=0
    )
    assert result.status == "partial" and result.generation == 2
    assert result.failures == [
        "Modern/last7/all: TypeError: '<' not supported between instances of 'NoneType' and 'int'"
    ]
    with psycopg.connect(api_dsn) as conn:
        drawn = conn.execute(
            "SELECT DISTINCT window_key FROM chart_renders WHERE generation = 2"
        ).fetchall()
    assert drawn == [("last30",)]
