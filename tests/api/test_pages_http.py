"""The HTML pages over HTTP (no browser): cached like the API (generation ETag, 304, a new
refresh changes the ETag), served under the same-origin-only CSP, custom dates drawn once
per generation then served from the cache, and HTML error pages for bad windows."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from api.security import PAGE_CSP
from tests.api.charts_fixtures import (  # noqa: F401  (fixtures, registered by name)
    api_dsn,
    charts_template,
)
from tests.api.conftest import HTTPS, AppFactory, refresh


@pytest.mark.parametrize("path", ["/", "/formats/Modern", "/formats/Modern/matchups"])
def test_pages_carry_the_generation_etag_and_answer_304(
    make_app: AppFactory,
    api_dsn: str,  # noqa: F811
    path: str,
) -> None:
    client = make_app(API_GENERATION_CHECK_SECONDS=0).test_client()
    first = client.get(path, headers=HTTPS)
    assert first.status_code == 200 and first.mimetype == "text/html"
    etag = first.headers["ETag"]
    assert client.get(path, headers=HTTPS).headers["X-Cache"] == "HIT"
    again = client.get(path, headers={**HTTPS, "If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    refresh(api_dsn)
    after = client.get(path, headers={**HTTPS, "If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"].startswith('"g2-')


def test_pages_allow_only_their_own_origin(client: FlaskClient) -> None:
    policy = client.get("/formats/Modern", headers=HTTPS).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives == PAGE_CSP
    for sources in directives.values():
        assert "unsafe" not in sources and "http" not in sources and "*" not in sources


def test_custom_dates_are_drawn_once_then_served_from_the_cache(client: FlaskClient) -> None:
    window = client.get("/api/v1/formats/Modern/meta?window=last7", headers=HTTPS).get_json()
    url = f"/formats/Modern?from={window['window']['start']}&to={window['window']['end']}"
    first = client.get(url, headers=HTTPS)
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    html = first.get_data(as_text=True)
    assert html.count('role="img"') == 4  # share, win rate, tiers, trends: drawn now
    assert "Custom dates" in html
    second = client.get(url, headers=HTTPS)
    assert second.headers["X-Cache"] == "HIT" and second.data == first.data


@pytest.mark.parametrize(
    "query",
    [
        "from=2025-03-01",  # no last day
        "window=custom&to=2025-03-01",
        "from=2025-03-10&to=2025-03-01",  # reversed
        "from=2000-01-01&to=2025-03-01",  # too long
        "from=2025-02-30&to=2025-03-01",  # not a date
        "window=last8",
    ],
)
def test_bad_windows_are_html_400_pages(client: FlaskClient, query: str) -> None:
    response = client.get(f"/formats/Modern?{query}", headers=HTTPS)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert 'class="error"' in response.get_data(as_text=True)
