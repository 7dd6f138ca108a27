"""The pages in a real browser (Debian chromium via playwright) against a live app with the
sample loaded and its charts rendered: clean loads, charts drawn, tables equal to the API,
pickers, keyboard navigation, text alternatives, /docs."""

from __future__ import annotations

import re
import urllib.error
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

import pytest

from pipelines.charts import data
from tests.pages.conftest import screenshot

Api = Callable[[str], Any]


def _visit(page: Any, url: str, name: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    screenshot(page, name)
    assert page.watch.problems == [], page.watch.problems


def _pages(api: Api) -> dict[str, str]:
    deck = api("/api/v1/decks?format=Modern&limit=1")["items"][0]
    meta = api("/api/v1/formats/Modern/meta")
    slug = data.archetype_slug(meta["items"][0])
    return {
        "index": "/",
        "format": "/formats/Modern",
        "matchups": "/formats/Modern/matchups",
        "archetype": f"/formats/Modern/archetypes/{quote(slug)}",
        "deck": f"/decks/{deck['id']}",
        "tournament": f"/tournaments/{deck['tournament_id']}",
        "docs": "/docs",
    }


def test_every_page_loads_without_errors_and_has_text_alternatives(
    page: Any, live_url: str, api: Api
) -> None:
    for name, path in _pages(api).items():
        _visit(page, live_url + path, name)
        assert page.locator("main > h1").count() == 1, name
        assert page.locator("main#main").count() == 1
        for svg in page.locator("figure.chart svg").all():
            assert svg.get_attribute("role") == "img"
            assert len(svg.get_attribute("aria-label") or "") > 20
            assert svg.locator("title").count() == 1
        for img in page.locator("img").all():
            assert img.get_attribute("alt") is not None
        for table in page.locator("table.data").all():
            assert table.locator("caption").count() == 1, name


def test_landing_page_shows_the_most_active_meta_with_charts(
    page: Any, live_url: str, api: Api
) -> None:
    _visit(page, f"{live_url}/", "landing")
    link = page.locator("#featured-link").get_attribute("href") or ""
    found = re.fullmatch(r"/formats/([^?]+)\?window=(\w+)&event=(\w+)", link)
    assert found, link
    fmt, window, event = unquote(found[1]), found[2], found[3]
    assert event == "all"
    # The most decks over the last 30 days (ties: first name), in its current meta period
    # unless the last 30 days hold more decks.
    recent = {
        f["format"]: api(f"/api/v1/formats/{quote(f['format'])}/meta?window=last30&limit=1")[
            "totals"
        ]["decks"]
        for f in api("/api/v1/formats")["items"]
    }
    assert fmt == max(sorted(recent), key=lambda name: recent[name])
    assert page.locator("main > h1").inner_text() == f"{fmt} metagame"
    meta = api(f"/api/v1/formats/{quote(fmt)}/meta?window={window}&event=all&limit=500")
    if window == "last30":
        try:
            current = api(f"/api/v1/formats/{quote(fmt)}/meta?window=current&limit=1")
        except urllib.error.HTTPError as exc:  # no meta period: no current window
            assert exc.code == 404
        else:
            assert current["totals"]["decks"] < meta["totals"]["decks"]
    else:
        assert window == "current"
    bars = page.locator('#chart-share svg [aria-roledescription="bar"]')
    assert bars.count() == len(data.share_rows({"archetypes": meta["items"]}))
    for name in ("winrate", "tiers"):
        assert page.locator(f"#chart-{name} svg").count() == 1, name
    assert str(meta["totals"]["decks"]) in page.locator("#featured-summary").inner_text()
    rows = page.locator("#top-table tbody tr")
    top = data.by_rank(meta["items"])[:10]
    assert rows.count() == len(top)
    for i, item in enumerate(top):
        assert rows.nth(i).get_attribute("data-archetype") == item["archetype"]
        assert rows.nth(i).locator('[data-field="decks"]').inner_text() == str(item["decks"])
    # Every format is still listed, with its freshness.
    assert page.locator("#formats tbody tr").count() == len(recent)


def test_format_page_charts_and_table_equal_the_api(page: Any, live_url: str, api: Api) -> None:
    _visit(page, f"{live_url}/formats/Modern", "format")
    meta = api("/api/v1/formats/Modern/meta?window=last30&event=all&limit=500")
    bars = page.locator('#chart-share svg [aria-roledescription="bar"]')
    assert bars.count() == len(data.share_rows({"archetypes": meta["items"]}))
    for name in ("winrate", "tiers", "trends"):
        assert page.locator(f"#chart-{name} svg").count() == 1, name
    points = page.locator('#chart-winrate svg [aria-roledescription="point"]')
    assert points.count() == len(data.winrate_rows({"archetypes": meta["items"]}))

    rows = page.locator("#meta-table tbody tr")
    assert rows.count() == len(meta["items"])
    for i, item in enumerate(data.by_rank(meta["items"])):
        row = rows.nth(i)
        assert row.get_attribute("data-archetype") == item["archetype"]
        assert row.locator('[data-field="decks"]').inner_text() == str(item["decks"])
        assert (
            row.locator('[data-field="share"]').inner_text() == f"{item['share_decks'] * 100:.1f}%"
        )
        expected = "–" if item["win_rate"] is None else f"{item['win_rate'] * 100:.1f}%"
        assert row.locator('[data-field="win_rate"]').inner_text() == expected


def test_pickers_change_the_url_and_the_content(page: Any, live_url: str, api: Api) -> None:
    _visit(page, f"{live_url}/formats/Modern", "format-last30")
    before = page.locator(".window").inner_text()
    with page.expect_navigation():
        page.select_option("#event", "leagues")  # the script submits on change
    assert "event=leagues" in page.url and "window=last30" in page.url
    meta = api("/api/v1/formats/Modern/meta?window=last30&event=leagues")
    names = page.locator("#meta-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.archetype)"
    )
    assert names == [r["archetype"] for r in data.by_rank(meta["items"])]
    assert page.locator(".window").inner_text() != before
    assert page.watch.problems == []


def test_custom_dates_get_their_charts_drawn_on_request(page: Any, live_url: str, api: Api) -> None:
    standard = api("/api/v1/formats/Modern/meta?window=last30")["window"]
    start, end = standard["start"], standard["end"]
    _visit(page, f"{live_url}/formats/Modern?window=last30", "format-before-custom")
    page.click("details.custom-dates summary")
    page.fill("#from", start)
    page.fill("#to", end)
    with page.expect_navigation():
        page.click("details.custom-dates button[type=submit]")
    assert f"from={start}" in page.url and f"to={end}" in page.url
    screenshot(page, "format-custom")
    assert page.watch.problems == [], page.watch.problems
    assert "Custom dates" in page.locator(".window").inner_text()
    meta = api(f"/api/v1/formats/Modern/meta?from={start}&to={end}&limit=500")
    bars = page.locator('#chart-share svg [aria-roledescription="bar"]')
    assert bars.count() == len(data.share_rows({"archetypes": meta["items"]}))
    for name in ("winrate", "tiers", "trends"):
        assert page.locator(f"#chart-{name} svg").count() == 1, name
    rows = page.locator("#meta-table tbody tr")
    assert rows.count() == len(meta["items"])
    # The static image links name the same dates and answer.
    href = page.locator("#chart-share .links a").first.get_attribute("href") or ""
    assert f"from={start}" in href
    image = page.request.get(live_url + href)
    assert image.status == 200 and image.headers["content-type"].startswith("image/svg+xml")
    # The event picker keeps the dates; links keep them too.
    with page.expect_navigation():
        page.select_option("#event", "leagues")
    assert f"from={start}" in page.url and "event=leagues" in page.url
    with page.expect_navigation():
        page.locator("#meta-table tbody th a").first.click()
    assert f"from={start}" in page.url
    assert page.locator("#chart-cards svg").count() == 1
    assert page.watch.problems == [], page.watch.problems


def test_pickers_work_without_javascript(browser: Any, live_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(f"{live_url}/formats/Modern/matchups")
        tab.select_option("#window", "last7")
        with tab.expect_navigation():
            tab.click("form.pickers button[type=submit]")
        assert "window=last7" in tab.url
        assert tab.locator("#matchup-table").count() == 1
        assert "Last 7 days" in tab.locator(".window").inner_text()
    finally:
        context.close()


def test_keyboard_navigation(page: Any, live_url: str) -> None:
    _visit(page, f"{live_url}/formats/Modern", "format-keyboard")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    assert "window" in seen and "event" in seen and "BUTTON" in seen
    # Back to the form's "Show" button (the charts' "Interactive chart" buttons come later).
    for _ in range(30):
        if page.evaluate("document.activeElement.type") == "submit":
            break
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.evaluate("document.getElementById('window').value = 'last7'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "window=last7" in page.url


def test_matchup_heat_map_and_table_agree(page: Any, live_url: str, api: Api) -> None:
    _visit(page, f"{live_url}/formats/Modern/matchups", "matchups")
    matrix = api("/api/v1/formats/Modern/matchups?limit=500")
    labels = matrix["labels"]
    rects = page.locator('#chart-matchups svg [aria-roledescription="rect mark"][aria-label]')
    assert rects.count() == len(labels) ** 2
    cells = page.locator("#matchup-table td[data-row]")
    assert cells.count() == len(labels) ** 2
    for row in matrix["items"]:
        for cell in row["cells"]:
            td = page.locator(
                f'#matchup-table td[data-row="{row["archetype"]}"][data-col="{cell["opponent"]}"]'
            )
            assert f"n={cell['n']}" in td.inner_text()
            low = cell["wins"] + cell["losses"] < data.LOW_SAMPLE_MATCHES
            assert ("low" in (td.get_attribute("class") or "")) == low
    assert page.locator("#matchup-table td.mirror").count() == len(labels)


def test_archetype_page_and_links(page: Any, live_url: str, api: Api) -> None:
    meta = api("/api/v1/formats/Modern/meta")
    item = meta["items"][0]
    _visit(page, f"{live_url}/formats/Modern", "format-links")
    with page.expect_navigation():
        page.click(f'#meta-table tr[data-archetype="{item["archetype"]}"] th a')
    assert f"/archetypes/{data.archetype_slug(item)}" in page.url
    detail = api(f"/api/v1/formats/Modern/archetypes/{quote(item['archetype'])}")
    bars = page.locator('#chart-cards svg [aria-roledescription="bar"]')
    assert bars.count() == len(data.card_rows(detail))
    assert page.locator("#cards-main tbody tr").count() == len(detail["cards"]["main"])
    assert str(item["decks"]) in page.locator("#archetype-summary").inner_text()
    if detail["best_decks"]:
        with page.expect_navigation():
            page.locator("#best-decks a").first.click()
        assert re.search(r"/decks/\d+$", page.url)
        assert page.locator("#deck-main tbody tr").count() > 0
    assert page.watch.problems == []


def test_docs_viewer_lists_the_operations(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() > 20
    screenshot(page, "docs")
    assert page.watch.problems == [], page.watch.problems


@pytest.mark.parametrize("path", ["/formats/Nope", "/formats/Modern?window=nope"])
def test_error_pages_are_html(page: Any, live_url: str, path: str) -> None:
    response = page.goto(live_url + path)
    assert response.status in {400, 404}
    assert page.locator("p.error").count() == 1


def test_interactive_chart_loads_vega_on_request_only(page: Any, live_url: str, api: Api) -> None:
    scripts: list[str] = []
    page.on("request", lambda r: r.resource_type == "script" and scripts.append(r.url))
    _visit(page, f"{live_url}/formats/Modern", "format-interactive")
    assert not [s for s in scripts if "/vendor/vega/" in s]  # not part of the first load
    meta = api("/api/v1/formats/Modern/meta?limit=500")
    page.click("#chart-share button.explore")
    page.wait_for_selector("#chart-share .interactive svg", timeout=20_000)
    bars = page.locator('#chart-share .interactive svg [aria-roledescription="bar"]')
    assert bars.count() == len(data.share_rows({"archetypes": meta["items"]}))
    assert [s for s in scripts if s.endswith("vega-embed.min.js")]
    bars.first.hover()
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=5_000)
    assert page.watch.problems == [], page.watch.problems  # CSP held: no eval, no inline style
